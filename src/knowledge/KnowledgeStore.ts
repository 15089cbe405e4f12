import type { Document } from "@langchain/core/documents";
import type { DocumentFilter } from "../../vectorstores/KeywordIndex.js";

/**
 * The one storage interface behind a KnowledgeBase. Two implementations are meant to sit
 * behind it: the embedded store (`EmbeddedStore`: one SQLite file plus an HNSW graph file
 * beside it) and Postgres (`PostgresStore`: pgvector for dense search, full-text search for keywords).
 *
 * The contract, in short:
 * - A source is one indexed file, identified by its absolute `path`. Two files with the same
 *   name under different roots (an upload and a corpus file, two indexed folders) are two
 *   sources: nothing keys on the name alone.
 * - `commit` applies a whole batch (sources put with their chunks and vectors, sources removed,
 *   file times touched) atomically: after a crash a reader sees all of it or none of it, and
 *   once `commit` resolves the batch survives a crash (SIGKILL, power loss aside from the disk's
 *   own lies). Nothing else is needed for durability; `checkpoint` only bounds start-up work.
 * - Reads (`getSource`, `listSources`, `getChunks`, the searches) see every resolved commit.
 * - Chunk ids are unique across the store; the caller derives them (stable per source path,
 *   chunk position and text), so re-indexing an unchanged file gives the same ids.
 * - Scores: `keywordSearch` returns BM25 scores (higher is better, unbounded), `denseSearch`
 *   the store's similarity (cosine for both stores); the hybrid retriever normalises both.
 *   Both compute the same BM25+ (analyser, statistics, formula): the same query gives the same scores.
 */
export interface KnowledgeStore {
  /** The embedding model the stored vectors came from (a store opened with another one fails MODEL_MISMATCH). */
  readonly modelId: string;
  /** Vector length as of opening or this process's last commit; undefined while no vector was ever stored. */
  readonly dimension: number | undefined;

  /** Applies the batch atomically and durably (see above). */
  commit(batch: StoreBatch): Promise<void>;
  /** Reads are asynchronous because a server store answers them over the network. */
  counts(): Promise<{ sources: number; chunks: number }>;
  getSource(path: string): Promise<SourceRecord | undefined>;
  /** Several at once, parallel to `paths` (one request to a server store, not one per path). */
  getSources(paths: string[]): Promise<(SourceRecord | undefined)[]>;
  listSources(): Promise<SourceRecord[]>;
  /** Parallel to `ids`: undefined where an id is not stored. */
  getChunks(ids: string[]): Promise<(Document | undefined)[]>;
  keywordSearch(query: string, options: { k: number; filter?: DocumentFilter }): Promise<ScoredChunk[]>;
  denseSearch(vector: number[], options: { k: number; filter?: DocumentFilter }): Promise<ScoredChunk[]>;
  /**
   * Whole-document BM25+: each source's chunks put together as WholeDocumentIndex does (reading
   * order, overlaps removed) and scored as one document; the best `k`, as the hybrid retriever's
   * document evidence. Both stores score the same documents alike.
   */
  documentSearch(query: string, options: { k: number }): Promise<DocumentHit[]>;
  /** Chunks in the keyword index, and how many hold each analysed term (in any field): corpus statistics for answerers. */
  keywordStatistics(terms: string[]): Promise<{ chunks: number; frequencies: number[] }>;
  /**
   * Parallel to `ids`: each chunk with up to `window` chunks either side of it in its source's
   * reading order (itself included), for context windows; undefined where an id is not stored.
   */
  chunkWindows(ids: string[], window: number): Promise<(ChunkWindow | undefined)[]>;
  /** Makes start-up cheap again (the embedded store writes its graph file); never needed for safety. */
  checkpoint(): Promise<void>;
  /**
   * Ends a bulk load: builds what the store put off while it was loaded (the Postgres store
   * builds its vector index once after a first load into an empty store). Never needed for
   * correctness: searches before it are exact.
   */
  finishLoad?(): Promise<void>;
  /** Bytes the store takes (files on disk, or the tables' size for a server). */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

/** What the store keeps about one source file. */
export interface SourceRecord {
  /** Absolute path of the file: the source's identity. */
  path: string;
  /** The folder it was indexed from (for an upload: the uploads folder). */
  root: string;
  /** `path` relative to `root`, POSIX slashes: what citations show as `metadata.source`. */
  source: string;
  /** SHA-256 of the file's bytes. */
  hash: string;
  size: number;
  mtimeMs: number;
  indexedAt: string;
  /** In chunk order. */
  chunkIds: string[];
}

/** A source to (re)place with its chunks: any chunks it had before are dropped in the same commit. */
export interface SourceWrite {
  record: Omit<SourceRecord, "chunkIds">;
  /** Each with its `id` set. */
  chunks: Document[];
  /** One per chunk. */
  vectors: number[][];
}

export interface StoreBatch {
  put?: SourceWrite[];
  /** Source paths to remove with their chunks; unknown paths are ignored. */
  remove?: string[];
  /** Sources whose file was touched without changing: only their recorded mtime moves. */
  touch?: Array<{ path: string; mtimeMs: number }>;
}

export interface ScoredChunk {
  document: Document;
  score: number;
}

/** A whole document's score, with its chunk ids in reading order. */
export interface DocumentHit {
  /** The chunks' `metadata.source`. */
  source: string;
  score: number;
  chunkIds: string[];
}

/** A run of one source's chunks in reading order. */
export interface ChunkWindow {
  source: string;
  chunks: Document[];
}

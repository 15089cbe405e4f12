import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import type { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { type WalkedFile, walkFiles } from "../../loaders/DirectoryLoader.js";
import type { ImageLoadOptions } from "../../loaders/embeddedImages.js";
import type { AudioLoadOptions } from "../../loaders/loadAudio.js";
import { DEFAULT_MAX_FILE_BYTES, loadFile } from "../../loaders/loadFile.js";
import { splitDocuments } from "../../loaders/splitter.js";
import { HybridRetriever, type HybridRetrieverOptions } from "../../vectorstores/HybridRetriever.js";
import type { HNSWVectorStore, HNSWVectorStoreOptions } from "../../vectorstores/hnsw.js";
import type { KeywordIndex } from "../../vectorstores/KeywordIndex.js";
import { embeddingsModelId } from "../embeddings/embeddingsModelId.js";
import { GeneraError, isGeneraError } from "../errors.js";
import { EmbeddedStore } from "./EmbeddedStore.js";
import { type ChunkTextOptions, embeddingText, storedModelId } from "./embeddingText.js";
import { indexScope } from "./indexScope.js";
import type { KnowledgeStore, SourceRecord, SourceWrite } from "./KnowledgeStore.js";
import { StoreDenseSide, StoreKeywordSide } from "./storeRetrieval.js";

export interface KnowledgeBaseOptions {
  /** Folder holding the store (`store.sqlite` and the graph file; created on first use). */
  dir: string;
  /**
   * `postgres://…`: keep everything in that database instead (pgvector and full-text search,
   * see PostgresStore); `dir` is then only reported by `stats()`.
   */
  databaseUrl?: string;
  /** An already open store to use instead (its `modelId` must be the embeddings'); closed with the knowledge base. */
  store?: KnowledgeStore;
  embeddings: EmbeddingsInterface;
  /** Overrides the model id recorded with the index; defaults to `embeddingsModelId(embeddings)`. */
  modelId?: string;
  hnsw?: Omit<HNSWVectorStoreOptions, "modelId">;
  /** When true, `close()` also closes the embeddings (their worker threads). */
  ownsEmbeddings?: boolean;
  /**
   * What every `index()` call starts from (a call's own options win): the configured
   * ingest settings, so the CLI, `genera serve` and uploads all chunk and filter alike.
   */
  indexDefaults?: Pick<IndexOptions, "include" | "exclude" | "chunkSize" | "chunkOverlap" | "maxFileBytes">;
  /** Write the graph file after this many changed chunks (see EmbeddedStore); start-up cost only. */
  checkpointEveryChunks?: number;
  /** Told what opening the store repaired (default: a line on stderr). */
  onRepair?: (message: string) => void;
  /** The speech model that turns audio files into timed chunks (none: audio is unsupported). */
  audio?: AudioLoadOptions;
  /**
   * Contextual chunk headers (default true): the encoder and BM25 see each chunk's title and
   * heading path with its text (see embeddingText). A store is built with one setting; the
   * Postgres store's full-text side keeps its own title weights.
   */
  contextualHeaders?: boolean;
  /** Image captions, and the images inside PDFs and DOCX (each a chunk of its caption and OCR text). */
  image?: ImageLoadOptions;
}

export interface IndexOptions {
  include?: string[];
  exclude?: string[];
  chunkSize?: number;
  chunkOverlap?: number;
  maxFileBytes?: number;
  /**
   * Chunks embedded per call, and the bound on work between two looks at `signal`: files are
   * committed (one transaction each batch) once this many chunks are pending.
   */
  embedBatchSize?: number;
  /**
   * Which stored files this run may remove when it does not find them:
   * - "scoped" (default): only files under this run's paths that its include/exclude filters
   *   would list, so indexing one file or a filtered subset never removes the others;
   * - "all": every stored file this run did not list (uploads included): the store mirrors this run;
   * - "none": nothing.
   */
  cleanup?: "scoped" | "all" | "none";
  onProgress?: (event: IndexProgress) => void;
  /**
   * The folder that files given one by one belong to (a queue worker gets one file of a folder
   * per job): their `source` is then relative to it, as if the folder had been indexed whole.
   */
  root?: string;
  /** Stops the run between batches; what was committed stays, the rest is picked up next run. */
  signal?: AbortSignal;
  /**
   * The run ends a bulk load (default true): the store then builds what the load put off (see
   * KnowledgeStore.finishLoad). False when more runs of the same load follow (a queue worker
   * between jobs), which calls `finishLoad()` itself at the end.
   */
  finishLoad?: boolean;
  /**
   * Awaited before each of the run's commits (a queue worker records, meanwhile, what the store
   * held for its files before the job's first attempt: that write then overlaps the loading and
   * embedding instead of delaying them). A rejection stops the run before it commits anything more.
   */
  beforeCommit?: () => Promise<void>;
  /**
   * What the store holds for a file (undefined: nothing), as the run reads it and again once it
   * has committed the file: a queue worker learns from it what its job found and left, without
   * reading the store again.
   */
  onStored?: (path: string, stored: StoredFile | undefined) => void;
}

/** A stored file as IndexOptions.onStored tells it. */
export interface StoredFile {
  hash: string;
  chunks: number;
}

export interface IndexProgress {
  phase: "scan" | "index" | "save" | "done";
  filesTotal: number;
  filesDone: number;
  chunksDone: number;
  /**
   * Chunks of this run embedded so far and chunks split so far (embedded or waiting): they
   * move within a large file, between the commits that move `chunksDone`.
   */
  chunksEmbedded: number;
  chunksSplit: number;
  chunksPerSecond: number;
  /** Seconds left, estimated from the files still to read; undefined until there is a rate. */
  etaSeconds?: number;
  current?: string;
}

export interface IndexFailure {
  path: string;
  code: string;
  reason: string;
}

export interface IndexSummary {
  added: number;
  updated: number;
  unchanged: number;
  deleted: number;
  /** Absolute paths of the files whose chunks this run removed (see `cleanup`). */
  removed: string[];
  failed: number;
  failures: IndexFailure[];
  /** Files and folders the walk passed over, and why (hidden, binary, excluded, an archive…). */
  skipped: Array<{ path: string; reason: string }>;
  chunksAdded: number;
  chunksDeleted: number;
  /** True when `signal` stopped the run before it finished. */
  aborted: boolean;
  seconds: number;
  /**
   * Where the run's time went, wall-clock seconds per step summed over its files and batches (a
   * queue worker adds its own steps): what to shorten first, and what a store's round trips cost.
   */
  timings?: IndexTimings;
}

/** The steps of an index run (see IndexSummary.timings), seconds each. */
export interface IndexTimings {
  /** Reading what the store holds for the files (is a file new, changed, unchanged?). */
  reading: number;
  /** Reading the files, loading (parsing) and splitting them. */
  loading: number;
  embedding: number;
  /** Waiting for the store's commits (with another writer's commit ahead of them). */
  committing: number;
  [step: string]: number;
}

/** A run that has done nothing yet: the counters an index run adds to. */
export function emptyIndexSummary(): IndexSummary {
  return {
    added: 0,
    updated: 0,
    unchanged: 0,
    deleted: 0,
    removed: [],
    failed: 0,
    failures: [],
    skipped: [],
    chunksAdded: 0,
    chunksDeleted: 0,
    aborted: false,
    seconds: 0,
  };
}

export interface KnowledgeBaseStats {
  documents: number;
  chunks: number;
  model: string;
  dimension: number | undefined;
  indexBytes: number;
  dir: string;
}

export interface SourceInfo {
  /** The file's absolute path: unique, unlike `source` (an upload may share a corpus file's name). */
  id: string;
  source: string;
  root: string;
  chunks: number;
  size: number;
  indexedAt: string;
  title?: string;
}

/** `file` as seen from `root` when it lies inside it (see IndexOptions.root). */
function underRoot(file: WalkedFile, root: string | undefined): WalkedFile {
  if (!root) return file;
  const rel = relative(resolve(root), file.absPath);
  if (!rel || rel.startsWith("..") || isAbsolute(rel)) return file;
  return { ...file, root: resolve(root), relPath: rel.split(sep).join("/") };
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

interface PendingFile {
  file: WalkedFile;
  hash: string;
  chunks: Document[];
  isUpdate: boolean;
  /** Chunks its stored version had when the run read it (replaced by the commit). */
  replaces: number;
}

/** Files whose stored records are read in one request (one round trip to a server store). */
const RECORDS_READ_AHEAD = 256;

/**
 * A knowledge base: files in, searchable chunks out. Storage is a KnowledgeStore (the embedded
 * one, SQLite plus an HNSW graph file, or Postgres) that commits each batch atomically, so a crash
 * loses at most the batch in flight and nothing needs repairing. Writes go through one queue;
 * searches never wait for them.
 *
 * A source is one file, identified by its absolute path: files of the same name under two
 * roots (an upload and a corpus file) are two documents.
 */
export class KnowledgeBase {
  readonly dir: string;
  readonly embeddings: EmbeddingsInterface;
  readonly store: KnowledgeStore;
  private writeQueue: Promise<unknown> = Promise.resolve();
  private ownsEmbeddings = false;
  private indexDefaults: KnowledgeBaseOptions["indexDefaults"] = {};
  private audio?: AudioLoadOptions;
  private image?: ImageLoadOptions;
  private chunkText: ChunkTextOptions = {};

  private constructor(dir: string, embeddings: EmbeddingsInterface, store: KnowledgeStore) {
    this.dir = dir;
    this.embeddings = embeddings;
    this.store = store;
  }

  /** Opens the knowledge base in `dir`, or an empty one if nothing was stored there yet. */
  static async open(options: KnowledgeBaseOptions): Promise<KnowledgeBase> {
    const dir = resolve(options.dir);
    const modelId = storedModelId(options.modelId ?? embeddingsModelId(options.embeddings), options);
    let store: KnowledgeStore;
    if (options.store) {
      if (options.store.modelId !== modelId) {
        throw new GeneraError(
          "MODEL_MISMATCH",
          `The store holds vectors of embedding model "${options.store.modelId}", not "${modelId}"`,
          { details: { expected: options.store.modelId, actual: modelId } },
        );
      }
      store = options.store;
    } else if (options.databaseUrl) {
      // Loaded only when configured: the embedded default never loads the Postgres client.
      const { PostgresStore } = await import("./PostgresStore.js");
      store = await PostgresStore.open({
        url: options.databaseUrl,
        modelId,
        contextualHeaders: options.contextualHeaders,
        // One search breadth for both stores (default HNSW_DEFAULTS.efSearch).
        efSearch: options.hnsw?.efSearch,
      });
    } else {
      store = await EmbeddedStore.open({
        dir,
        embeddings: options.embeddings,
        modelId,
        hnsw: options.hnsw,
        checkpointEveryChunks: options.checkpointEveryChunks,
        onRepair: options.onRepair ?? ((message) => process.stderr.write(`${message}\n`)),
        contextualHeaders: options.contextualHeaders,
      });
    }
    const kb = new KnowledgeBase(dir, options.embeddings, store);
    kb.ownsEmbeddings = options.ownsEmbeddings ?? false;
    kb.indexDefaults = options.indexDefaults ?? {};
    kb.audio = options.audio;
    kb.image = options.image;
    kb.chunkText = { contextualHeaders: options.contextualHeaders ?? true };
    return kb;
  }

  /** The dense side of the embedded store (what the hybrid retriever searches). */
  get vectorStore(): HNSWVectorStore {
    return this.embeddedStore().vectorStore;
  }

  /** The keyword side of the embedded store. */
  get keywordIndex(): KeywordIndex {
    return this.embeddedStore().keywordIndex;
  }

  /** Stored files and chunks (cheap: no size walk, unlike `stats()`). */
  async counts(): Promise<{ documents: number; chunks: number }> {
    const { sources, chunks } = await this.store.counts();
    return { documents: sources, chunks };
  }

  private embeddedStore(): EmbeddedStore {
    if (this.store instanceof EmbeddedStore) return this.store;
    throw new GeneraError(
      "NOT_IMPLEMENTED",
      "This knowledge base lives in Postgres: its in-process HNSW graph and BM25 index do not exist; use asRetriever() or the store",
    );
  }

  /** Runs `fn` after every write queued before it: one writer at a time, readers never wait. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeQueue.then(fn, fn);
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Every write is already committed when it resolves; this only writes the graph file so the
   * next start-up has nothing to catch up (the server calls it on shutdown).
   */
  save(): Promise<void> {
    return this.enqueue(() => this.store.checkpoint());
  }

  /** Ends a bulk load made of `index` runs with `finishLoad: false` (see IndexOptions.finishLoad). */
  finishLoad(): Promise<void> {
    return this.enqueue(async () => this.store.finishLoad?.());
  }

  /** Indexes files, folders or globs; unchanged files are skipped, changed ones replaced. */
  index(paths: string[], options: IndexOptions = {}): Promise<IndexSummary> {
    const given = Object.entries(options).filter(([, value]) => value !== undefined);
    return this.enqueue(() => this.indexNow(paths, { ...this.indexDefaults, ...Object.fromEntries(given) }));
  }

  private async indexNow(paths: string[], options: IndexOptions): Promise<IndexSummary> {
    const started = performance.now();
    const summary = emptyIndexSummary();
    const timings: IndexTimings = { reading: 0, loading: 0, embedding: 0, committing: 0 };
    summary.timings = timings;
    const timed = async <T>(step: keyof IndexTimings, work: () => Promise<T> | T): Promise<T> => {
      const t0 = performance.now();
      try {
        return await work();
      } finally {
        timings[step] = (timings[step] ?? 0) + (performance.now() - t0) / 1000;
      }
    };
    const emit = options.onProgress ?? (() => {});
    const progress: IndexProgress = {
      phase: "scan",
      filesTotal: 0,
      filesDone: 0,
      chunksDone: 0,
      chunksEmbedded: 0,
      chunksSplit: 0,
      chunksPerSecond: 0,
    };
    emit({ ...progress });
    const signal = options.signal;

    // Listing first (metadata only, no content) gives the total that the ETA needs.
    const files: WalkedFile[] = [];
    for await (const file of walkFiles(paths, {
      include: options.include,
      exclude: options.exclude,
      maxFileBytes: options.maxFileBytes,
      onSkip: (path, reason) => summary.skipped.push({ path, reason }),
    })) {
      files.push(underRoot(file, options.root));
    }
    progress.filesTotal = files.length;
    progress.phase = "index";

    const embedBatchSize = options.embedBatchSize ?? 64;
    let pending: PendingFile[] = [];
    let pendingChunks = 0;
    let touched: Array<{ path: string; mtimeMs: number }> = [];
    const indexStarted = performance.now();
    let readBytes = 0;
    const totalBytes = files.reduce((s, f) => s + f.size, 0) || 1;

    /** Embeds the pending files in bounded slices (stopping early on abort), then commits them as one batch. */
    const flush = async (): Promise<void> => {
      const batch = pending;
      pending = [];
      pendingChunks = 0;
      const chunks = batch.flatMap((p) => p.chunks);
      const vectors: number[][] = [];
      for (let i = 0; i < chunks.length; i += embedBatchSize) {
        if (signal?.aborted) return;
        const slice = chunks.slice(i, i + embedBatchSize);
        const texts = slice.map((d) => embeddingText(d, this.chunkText));
        vectors.push(...(await timed("embedding", () => this.embeddings.embedDocuments(texts))));
        progress.chunksEmbedded += slice.length;
        emit({ ...progress });
      }
      if (signal?.aborted && vectors.length < chunks.length) return;
      const puts: SourceWrite[] = [];
      let offset = 0;
      for (const item of batch) {
        const n = item.chunks.length;
        puts.push({
          record: {
            path: item.file.absPath,
            root: resolve(item.file.root),
            source: item.file.relPath,
            hash: item.hash,
            size: item.file.size,
            mtimeMs: item.file.mtimeMs,
            indexedAt: new Date().toISOString(),
          },
          chunks: item.chunks,
          vectors: vectors.slice(offset, offset + n),
        });
        offset += n;
      }
      if (!puts.length && !touched.length) return;
      const batchTouched = touched;
      await timed("committing", async () => {
        await options.beforeCommit?.();
        await this.store.commit({ put: puts, touch: batchTouched });
      });
      touched = [];
      for (const item of batch) {
        if (item.isUpdate) summary.updated++;
        else summary.added++;
        summary.chunksAdded += item.chunks.length;
        summary.chunksDeleted += item.replaces;
        progress.chunksDone += item.chunks.length;
        options.onStored?.(item.file.absPath, { hash: item.hash, chunks: item.chunks.length });
      }
      emit({ ...progress, phase: "save" });
    };

    // What the store holds for the files, read ahead in groups: one request per group, not per file.
    let records: (SourceRecord | undefined)[] = [];
    for (const [at, file] of files.entries()) {
      if (signal?.aborted) break;
      progress.current = file.relPath;
      if (at % RECORDS_READ_AHEAD === 0) {
        const group = files.slice(at, at + RECORDS_READ_AHEAD).map((f) => f.absPath);
        records = await timed("reading", () => this.store.getSources(group));
        for (const [i, record] of records.entries()) {
          options.onStored?.(group[i] as string, record && { hash: record.hash, chunks: record.chunkIds.length });
        }
      }
      const previous = records[at % RECORDS_READ_AHEAD];
      try {
        if (previous && previous.size === file.size && previous.mtimeMs === file.mtimeMs) {
          summary.unchanged++;
        } else {
          const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
          if (file.size > maxFileBytes) {
            throw new GeneraError(
              "TOO_LARGE",
              `${file.relPath} is ${file.size} bytes, over the ${maxFileBytes}-byte limit`,
              {
                details: { path: file.relPath, reason: `larger than ${maxFileBytes} bytes` },
              },
            );
          }
          const loadStarted = performance.now();
          const bytes = readFileSync(file.absPath);
          const hash = sha256(bytes);
          if (previous && previous.hash === hash) {
            // Touched but not changed: remember the new mtime so the next run skips it without reading.
            touched.push({ path: file.absPath, mtimeMs: file.mtimeMs });
            summary.unchanged++;
          } else {
            const docs = await loadFile(file.absPath, {
              relPath: file.relPath,
              root: file.root,
              maxFileBytes,
              bytes,
              audio: this.audio,
              image: this.image,
            });
            const chunks = await splitDocuments(docs, {
              chunkSize: options.chunkSize ?? 800,
              chunkOverlap: options.chunkOverlap ?? 100,
            });
            for (const chunk of chunks) {
              chunk.id = sha256(`${file.absPath}\0${chunk.metadata.chunkIndex}\0${chunk.pageContent}`).slice(0, 32);
            }
            timings.loading += (performance.now() - loadStarted) / 1000;
            pending.push({
              file,
              hash,
              chunks,
              isUpdate: previous !== undefined,
              replaces: previous?.chunkIds.length ?? 0,
            });
            pendingChunks += chunks.length;
            progress.chunksSplit += chunks.length;
          }
        }
      } catch (error) {
        // One bad file never stops the run; its previous chunks (if any) stay searchable.
        summary.failed++;
        summary.failures.push({
          path: file.relPath,
          code: isGeneraError(error) ? error.code : "FILE_UNREADABLE",
          reason: isGeneraError(error)
            ? ((error.details?.reason as string | undefined) ?? error.message)
            : (error as Error).message,
        });
      }
      // Outside the file's try: a failed embedding or commit concerns the whole batch (files read
      // before this one too), not this file; it ends the run, and what was committed stays.
      if (pendingChunks >= embedBatchSize) await flush();
      progress.filesDone++;
      readBytes += file.size;
      const elapsed = (performance.now() - indexStarted) / 1000;
      progress.chunksPerSecond = elapsed > 0 ? progress.chunksDone / elapsed : 0;
      progress.etaSeconds = elapsed > 0.5 ? (elapsed / readBytes) * (totalBytes - readBytes) : undefined;
      emit({ ...progress });
    }
    if (!signal?.aborted) await flush();
    else if (touched.length) {
      const last = touched;
      await timed("committing", () => this.store.commit({ touch: last }));
    }

    const cleanup = options.cleanup ?? "scoped";
    if (cleanup !== "none" && !signal?.aborted) {
      const seen = new Set(files.map((f) => f.absPath));
      const inScope = cleanup === "all" ? () => true : indexScope(paths, options);
      const gone = (await this.store.listSources()).filter((s) => !seen.has(s.path) && inScope(s.path));
      if (gone.length) {
        await this.store.commit({ remove: gone.map((s) => s.path) });
        summary.deleted = gone.length;
        summary.removed = gone.map((s) => s.path);
        summary.chunksDeleted += gone.reduce((n, s) => n + s.chunkIds.length, 0);
      }
    }
    summary.aborted = signal?.aborted ?? false;
    if (options.finishLoad !== false && !summary.aborted && this.store.finishLoad) {
      emit({ ...progress, phase: "save" });
      await this.store.finishLoad();
    }
    summary.seconds = (performance.now() - started) / 1000;
    emit({ ...progress, phase: "done", etaSeconds: 0 });
    return summary;
  }

  /**
   * Removes one source and returns what it was. `id` is its absolute path (SourceInfo.id), or its
   * `source` path when only one stored file has that one; CONFLICT names the candidates otherwise.
   */
  removeSource(id: string): Promise<SourceRecord> {
    return this.enqueue(async () => {
      const record = await this.findSource(id);
      await this.store.commit({ remove: [record.path] });
      return record;
    });
  }

  /** The stored chunks of one source (by id, or by `source` when unique; see removeSource), in stored order. */
  async documentChunks(id: string): Promise<Document[]> {
    const record = await this.findSource(id);
    return (await this.store.getChunks(record.chunkIds)).filter((d): d is Document => d !== undefined);
  }

  private async findSource(id: string): Promise<SourceRecord> {
    const exact = await this.store.getSource(id);
    if (exact) return exact;
    const named = (await this.store.listSources()).filter((s) => s.source === id);
    if (named.length === 1) return named[0] as SourceRecord;
    if (named.length > 1) {
      throw new GeneraError(
        "CONFLICT",
        `${named.length} indexed files are named "${id}"; remove one by its id (${named.map((s) => s.path).join(", ")})`,
        { details: { source: id, ids: named.map((s) => s.path) } },
      );
    }
    throw new GeneraError("NOT_FOUND", `No indexed document has id or source "${id}"`, { details: { source: id } });
  }

  async listSources(): Promise<SourceInfo[]> {
    const records = await this.store.listSources();
    const firsts = await this.store.getChunks(records.map((r) => r.chunkIds[0] ?? ""));
    return records.map((record, i) => {
      const first = firsts[i];
      return {
        id: record.path,
        source: record.source,
        root: record.root,
        chunks: record.chunkIds.length,
        size: record.size,
        indexedAt: record.indexedAt,
        title: first?.metadata.title as string | undefined,
      };
    });
  }

  /** The default retriever: hybrid keyword + dense, tuned defaults; `mode` selects one side only. */
  asRetriever(options: Partial<Omit<HybridRetrieverOptions, "vectorStore" | "keywordIndex">> = {}): HybridRetriever {
    if (this.store instanceof EmbeddedStore) {
      return new HybridRetriever({ ...options, vectorStore: this.vectorStore, keywordIndex: this.keywordIndex });
    }
    return new HybridRetriever({
      ...options,
      vectorStore: new StoreDenseSide(this.store, this.embeddings),
      keywordIndex: new StoreKeywordSide(this.store),
    });
  }

  async stats(): Promise<KnowledgeBaseStats> {
    const { sources, chunks } = await this.store.counts();
    return {
      documents: sources,
      chunks,
      model: this.store.modelId,
      dimension: this.store.dimension,
      indexBytes: await this.store.sizeBytes(),
      dir: this.dir,
    };
  }

  /** Waits for queued writes, closes the store, then the embeddings if this knowledge base owns them. */
  async close(): Promise<void> {
    await this.writeQueue;
    await this.store.close();
    if (this.ownsEmbeddings) await (this.embeddings as { close?: () => Promise<void> }).close?.();
  }
}

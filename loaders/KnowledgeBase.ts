import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { embeddingsModelId } from "../src/embeddings/embeddingsModelId.js";
import { GeneraError, isGeneraError } from "../src/errors.js";
import { HybridRetriever, type HybridRetrieverOptions } from "../vectorstores/HybridRetriever.js";
import { HNSWVectorStore, type HNSWVectorStoreOptions } from "../vectorstores/hnsw.js";
import { KeywordIndex } from "../vectorstores/KeywordIndex.js";
import { type WalkedFile, walkFiles } from "./DirectoryLoader.js";
import { IndexRecord } from "./IndexRecord.js";
import { DEFAULT_MAX_FILE_BYTES, loadFile } from "./loadFile.js";
import { splitDocuments } from "./splitter.js";

export interface KnowledgeBaseOptions {
  /** Folder holding the indexes (created on first save). */
  dir: string;
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
}

export interface IndexOptions {
  include?: string[];
  exclude?: string[];
  chunkSize?: number;
  chunkOverlap?: number;
  maxFileBytes?: number;
  /** Chunks embedded per call (the worker pool splits a call across cores). */
  embedBatchSize?: number;
  /** Save a checkpoint after this many new chunks, so a killed run keeps its progress. */
  saveEveryChunks?: number;
  /** "full" removes chunks of files that vanished under the indexed roots; "none" keeps them. */
  cleanup?: "full" | "none";
  onProgress?: (event: IndexProgress) => void;
  signal?: AbortSignal;
}

export interface IndexProgress {
  phase: "scan" | "index" | "save" | "done";
  filesTotal: number;
  filesDone: number;
  chunksDone: number;
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
  failed: number;
  failures: IndexFailure[];
  chunksAdded: number;
  chunksDeleted: number;
  seconds: number;
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
  source: string;
  root: string;
  chunks: number;
  size: number;
  indexedAt: string;
  title?: string;
}

const RECORD_FILE = "record.json";
const HNSW_DIR = "hnsw";
const KEYWORD_DIR = "keyword";

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function dirBytes(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(path)) total += dirBytes(join(path, name));
  return total;
}

/**
 * The text that is embedded for a chunk: its title and heading path first, so a
 * chunk deep inside a section still carries what the section is about.
 */
export function embeddingText(doc: Document): string {
  const { title, headings } = doc.metadata as { title?: string; headings?: string[] };
  const context = [title, ...(Array.isArray(headings) ? headings : [])].filter(Boolean);
  const unique = context.filter((v, i) => context.indexOf(v) === i);
  return unique.length ? `${unique.join(" > ")}\n${doc.pageContent}` : doc.pageContent;
}

/**
 * A knowledge base: the HNSW dense index, the BM25 keyword index over the same
 * chunks, and the record of which file produced which chunks — kept in step, saved
 * together, and repaired on open after a crash. Writes go through one queue.
 * A document's `source` is its path relative to the folder it was indexed from, so
 * folders indexed into one store must not hold the same relative paths.
 */
export class KnowledgeBase {
  readonly dir: string;
  readonly embeddings: EmbeddingsInterface;
  readonly vectorStore: HNSWVectorStore;
  readonly keywordIndex: KeywordIndex;
  /** What changed since the last save: nothing, only the record (a file's new mtime), or all three parts. */
  private unsaved: "none" | "record" | "all" = "none";
  readonly record: IndexRecord;
  private writeQueue: Promise<unknown> = Promise.resolve();
  private ownsEmbeddings = false;
  private indexDefaults: KnowledgeBaseOptions["indexDefaults"] = {};

  private constructor(
    dir: string,
    embeddings: EmbeddingsInterface,
    vectorStore: HNSWVectorStore,
    keywordIndex: KeywordIndex,
    record: IndexRecord,
  ) {
    this.dir = dir;
    this.embeddings = embeddings;
    this.vectorStore = vectorStore;
    this.keywordIndex = keywordIndex;
    this.record = record;
  }

  /** Opens the knowledge base in `dir`, or an empty one if nothing was saved there yet. */
  static async open(options: KnowledgeBaseOptions): Promise<KnowledgeBase> {
    const dir = resolve(options.dir);
    const modelId = options.modelId ?? embeddingsModelId(options.embeddings);
    const record = IndexRecord.load(join(dir, RECORD_FILE), modelId);
    const hnswDir = join(dir, HNSW_DIR);
    const vectorStore = HNSWVectorStore.exists(hnswDir)
      ? await HNSWVectorStore.load(hnswDir, options.embeddings, { modelId, efSearch: options.hnsw?.efSearch })
      : new HNSWVectorStore(options.embeddings, { ...options.hnsw, modelId });
    const keywordDir = join(dir, KEYWORD_DIR);
    let keywordIndex: KeywordIndex | undefined;
    if (KeywordIndex.exists(keywordDir)) {
      try {
        keywordIndex = KeywordIndex.load(keywordDir);
      } catch (error) {
        // The keyword index is derived data: rebuild it from the docstore below.
        if (!isGeneraError(error) || error.code !== "INDEX_CORRUPT") throw error;
      }
    }
    const kb = new KnowledgeBase(dir, options.embeddings, vectorStore, keywordIndex ?? new KeywordIndex(), record);
    kb.ownsEmbeddings = options.ownsEmbeddings ?? false;
    kb.indexDefaults = options.indexDefaults ?? {};
    await kb.reconcile(keywordIndex === undefined);
    return kb;
  }

  /**
   * Brings the three parts back in step after a crash between their saves: chunks
   * no record entry owns are dropped, a record entry whose chunks are not all in the
   * store is dropped (its file is re-indexed next run), and the keyword index is
   * rebuilt from the docstore when it differs.
   */
  private async reconcile(forceKeywordRebuild: boolean): Promise<void> {
    const storeIds = new Set(this.vectorStore.ids());
    const entriesBefore = this.record.entries.size;
    const owned = new Set<string>();
    for (const [source, entry] of [...this.record.entries]) {
      if (entry.chunkIds.every((id) => storeIds.has(id))) {
        for (const id of entry.chunkIds) owned.add(id);
      } else {
        this.record.entries.delete(source);
      }
    }
    const orphans = [...storeIds].filter((id) => !owned.has(id));
    if (orphans.length) await this.vectorStore.delete({ ids: orphans });
    if (orphans.length || this.record.entries.size !== entriesBefore) this.unsaved = "all";
    const keywordInStep =
      !forceKeywordRebuild &&
      this.keywordIndex.size === owned.size &&
      [...owned].every((id) => this.keywordIndex.has(id));
    if (!keywordInStep) {
      (this as { keywordIndex: KeywordIndex }).keywordIndex = KeywordIndex.rebuildFrom(
        this.vectorStore.listDocuments(),
      );
      this.unsaved = "all";
    }
  }

  /** Runs `fn` after every write queued before it: one writer at a time, readers never wait. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeQueue.then(fn, fn);
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  /** Saves the dense index, then the keyword index, then the record; `open` repairs a crash between them. */
  save(): Promise<void> {
    return this.enqueue(async () => this.saveNow());
  }

  /**
   * Writes what changed since the last save, nothing when nothing did: every write
   * operation already ends with a save, so re-saving a large index on each start or
   * shutdown would cost seconds and disk wear for no change.
   */
  private async saveNow(): Promise<void> {
    if (this.unsaved === "all") {
      await this.vectorStore.save(join(this.dir, HNSW_DIR));
      this.keywordIndex.save(join(this.dir, KEYWORD_DIR));
    }
    if (this.unsaved !== "none") this.record.save(join(this.dir, RECORD_FILE));
    this.unsaved = "none";
  }

  /** Indexes files, folders or globs; unchanged files are skipped, changed ones replaced. */
  index(paths: string[], options: IndexOptions = {}): Promise<IndexSummary> {
    const given = Object.entries(options).filter(([, value]) => value !== undefined);
    return this.enqueue(() => this.indexNow(paths, { ...this.indexDefaults, ...Object.fromEntries(given) }));
  }

  private async indexNow(paths: string[], options: IndexOptions): Promise<IndexSummary> {
    const started = performance.now();
    const summary: IndexSummary = {
      added: 0,
      updated: 0,
      unchanged: 0,
      deleted: 0,
      failed: 0,
      failures: [],
      chunksAdded: 0,
      chunksDeleted: 0,
      seconds: 0,
    };
    const emit = options.onProgress ?? (() => {});
    const progress: IndexProgress = { phase: "scan", filesTotal: 0, filesDone: 0, chunksDone: 0, chunksPerSecond: 0 };
    emit({ ...progress });

    // Listing first (metadata only, no content) gives the total that the ETA needs.
    const files: WalkedFile[] = [];
    for await (const file of walkFiles(paths, {
      include: options.include,
      exclude: options.exclude,
      maxFileBytes: options.maxFileBytes,
    })) {
      files.push(file);
    }
    progress.filesTotal = files.length;
    progress.phase = "index";
    const roots = new Set(files.map((f) => resolve(f.root)));
    for (const p of paths) {
      const abs = resolve(p);
      if (existsSync(abs) && statSync(abs).isDirectory()) roots.add(abs);
    }

    const embedBatchSize = options.embedBatchSize ?? 64;
    const saveEvery = options.saveEveryChunks ?? 2000;
    let sinceSave = 0;
    let pending: Array<{ file: WalkedFile; hash: string; chunks: Document[]; isUpdate: boolean }> = [];
    let pendingChunks = 0;
    const indexStarted = performance.now();
    let readBytes = 0;
    const totalBytes = files.reduce((s, f) => s + f.size, 0) || 1;

    const flush = async (): Promise<void> => {
      if (!pending.length) return;
      const batch = pending;
      pending = [];
      pendingChunks = 0;
      const allChunks = batch.flatMap((p) => p.chunks);
      const vectors = allChunks.length ? await this.embeddings.embedDocuments(allChunks.map(embeddingText)) : [];
      let offset = 0;
      for (const item of batch) {
        const n = item.chunks.length;
        const previous = this.record.entries.get(item.file.relPath);
        const newIds = item.chunks.map((c) => c.id as string);
        const stale = previous ? previous.chunkIds.filter((id) => !newIds.includes(id)) : [];
        if (stale.length) await this.removeChunks(stale);
        this.unsaved = "all";
        if (n) {
          await this.vectorStore.addVectors(vectors.slice(offset, offset + n), item.chunks, { ids: newIds });
          this.keywordIndex.replace(item.chunks);
        }
        offset += n;
        this.record.entries.set(item.file.relPath, {
          hash: item.hash,
          size: item.file.size,
          mtimeMs: item.file.mtimeMs,
          chunkIds: newIds,
          root: resolve(item.file.root),
          indexedAt: new Date().toISOString(),
        });
        if (item.isUpdate) summary.updated++;
        else summary.added++;
        summary.chunksAdded += n;
        summary.chunksDeleted += stale.length;
        progress.chunksDone += n;
        sinceSave += n;
      }
      if (sinceSave >= saveEvery) {
        sinceSave = 0;
        emit({ ...progress, phase: "save" });
        await this.saveNow();
      }
    };

    for (const file of files) {
      if (options.signal?.aborted) break;
      progress.current = file.relPath;
      const previous = this.record.entries.get(file.relPath);
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
          const bytes = readFileSync(file.absPath);
          const hash = sha256(bytes);
          if (previous && previous.hash === hash) {
            // Touched but not changed: remember the new mtime so the next run skips it without reading.
            previous.mtimeMs = file.mtimeMs;
            if (this.unsaved === "none") this.unsaved = "record";
            summary.unchanged++;
          } else {
            const docs = await loadFile(file.absPath, { relPath: file.relPath, root: file.root, maxFileBytes, bytes });
            const chunks = await splitDocuments(docs, {
              chunkSize: options.chunkSize ?? 800,
              chunkOverlap: options.chunkOverlap ?? 100,
            });
            for (const chunk of chunks) {
              chunk.id = sha256(`${file.relPath}\0${chunk.metadata.chunkIndex}\0${chunk.pageContent}`).slice(0, 32);
            }
            pending.push({ file, hash, chunks, isUpdate: previous !== undefined });
            pendingChunks += chunks.length;
            if (pendingChunks >= embedBatchSize) await flush();
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
      progress.filesDone++;
      readBytes += file.size;
      const elapsed = (performance.now() - indexStarted) / 1000;
      progress.chunksPerSecond = elapsed > 0 ? progress.chunksDone / elapsed : 0;
      progress.etaSeconds = elapsed > 0.5 ? (elapsed / readBytes) * (totalBytes - readBytes) : undefined;
      emit({ ...progress });
    }
    await flush();

    if ((options.cleanup ?? "full") === "full" && !options.signal?.aborted) {
      const seen = new Set(files.map((f) => f.relPath));
      for (const [source, entry] of [...this.record.entries]) {
        if (roots.has(entry.root) && !seen.has(source)) {
          await this.removeChunks(entry.chunkIds);
          this.record.entries.delete(source);
          summary.deleted++;
          summary.chunksDeleted += entry.chunkIds.length;
        }
      }
    }
    emit({ ...progress, phase: "save" });
    await this.saveNow();
    summary.seconds = (performance.now() - started) / 1000;
    emit({ ...progress, phase: "done", etaSeconds: 0 });
    return summary;
  }

  private async removeChunks(ids: string[]): Promise<void> {
    this.unsaved = "all";
    const present = ids.filter((id) => this.vectorStore.has(id));
    if (present.length) await this.vectorStore.delete({ ids: present });
    const inKeyword = ids.filter((id) => this.keywordIndex.has(id));
    if (inKeyword.length) this.keywordIndex.remove(inKeyword);
  }

  /** Removes one indexed source (by its `source` path) and saves. */
  removeSource(source: string): Promise<void> {
    return this.enqueue(async () => {
      const entry = this.record.entries.get(source);
      if (!entry)
        throw new GeneraError("NOT_FOUND", `No indexed document has source "${source}"`, { details: { source } });
      await this.removeChunks(entry.chunkIds);
      this.record.entries.delete(source);
      await this.saveNow();
    });
  }

  listSources(): SourceInfo[] {
    return [...this.record.entries].map(([source, entry]) => {
      const first = entry.chunkIds.length ? this.vectorStore.getDocument(entry.chunkIds[0] as string) : undefined;
      return {
        source,
        root: entry.root,
        chunks: entry.chunkIds.length,
        size: entry.size,
        indexedAt: entry.indexedAt,
        title: first?.metadata.title as string | undefined,
      };
    });
  }

  /** The default retriever: hybrid keyword + dense, tuned defaults; `mode` selects one side only. */
  asRetriever(options: Partial<Omit<HybridRetrieverOptions, "vectorStore" | "keywordIndex">> = {}): HybridRetriever {
    return new HybridRetriever({ ...options, vectorStore: this.vectorStore, keywordIndex: this.keywordIndex });
  }

  stats(): KnowledgeBaseStats {
    return {
      documents: this.record.entries.size,
      chunks: this.vectorStore.size,
      model: this.record.modelId,
      dimension: this.vectorStore.dimension,
      indexBytes: dirBytes(this.dir),
      dir: this.dir,
    };
  }

  /** Waits for queued writes, then closes the embeddings if this knowledge base owns them. */
  async close(): Promise<void> {
    await this.writeQueue;
    if (this.ownsEmbeddings) await (this.embeddings as { close?: () => Promise<void> }).close?.();
  }
}

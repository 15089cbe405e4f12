import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type BetterSqlite3 from "better-sqlite3";
import { HNSW_DEFAULTS, HNSWVectorStore, type HNSWVectorStoreOptions } from "../../vectorstores/hnsw.js";
import {
  type DocumentFilter,
  documentTitle,
  headingText,
  KeywordIndex,
  type KeywordTerms,
} from "../../vectorstores/KeywordIndex.js";
import { WholeDocumentIndex } from "../../vectorstores/WholeDocumentIndex.js";
import { GeneraError } from "../errors.js";
import { fsyncDir } from "../util/atomicWrite.js";
import { digestFile } from "../util/digestFile.js";
import { gzipParts } from "../util/gzipParts.js";
import { checkBatch } from "./checkBatch.js";
import { BODY_ONLY_BOOSTS, embeddingText } from "./embeddingText.js";
import type {
  ChunkWindow,
  DocumentHit,
  KnowledgeStore,
  ScoredChunk,
  SourceRecord,
  StoreBatch,
} from "./KnowledgeStore.js";
import { GRAPH_FILE, STORE_FILE, storeSizeBytes } from "./storeFiles.js";

export interface EmbeddedStoreOptions {
  /** Folder holding `store.sqlite` and the graph file (created when missing). */
  dir: string;
  /** Used to re-embed chunks only when the graph file is lost and their vectors were checkpointed away. */
  embeddings: EmbeddingsInterface;
  modelId: string;
  hnsw?: Omit<HNSWVectorStoreOptions, "modelId">;
  /** Write the graph file once this many chunks were added since the last one (default 20,000). */
  checkpointEveryChunks?: number;
  /** Told what start-up repaired (a graph rebuilt or caught up), so nothing changes silently. */
  onRepair?: (message: string) => void;
  /** Off: chunks are embedded and keyword-indexed without their title and headings (see embeddingText). */
  contextualHeaders?: boolean;
}

const FORMAT = "genera-store";
const VERSION = 1;
const REEMBED_BATCH = 64;
/**
 * Chunks written, inserted into the graph or analysed between two yields to the event loop:
 * ~10–30 ms of work (an HNSW insert is the costliest, ~0.3 ms at M 16, efConstruction 200, 512-d).
 */
const SLICE = 64;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The embedded KnowledgeStore: one SQLite database is the truth, an HNSW graph file beside it
 * is derived data.
 *
 * - `store.sqlite` holds the sources, every chunk's text and metadata (the BM25 postings are
 *   rebuilt from them at start-up), and each chunk's vector until a graph file holds it. A batch is one transaction, so a crash keeps all of a
 *   batch or none of it; there is nothing to reconcile.
 * - `graph-<n>.hnsw` is hnswlib's graph, keyed by the chunks' row labels. `checkpoint` writes a
 *   new one, records its name and SHA-256 in the database and drops the vectors it now holds.
 *   On start-up a graph that is behind is caught up from the stored vectors; a missing or
 *   damaged one is rebuilt (chunks whose vectors were dropped are embedded again, which the
 *   embedding cache makes cheap). Either way the database decides what exists.
 *
 * In memory: the dense store (documents once, shared with the keyword index) and MiniSearch's
 * postings; searches never touch SQLite.
 */
export class EmbeddedStore implements KnowledgeStore {
  readonly modelId: string;
  readonly vectorStore: HNSWVectorStore;
  readonly keywordIndex: KeywordIndex;
  private readonly sources = new Map<string, SourceRecord & { sid: number }>();
  private readonly checkpointEvery: number;
  /** Chunks added or removed since the graph file was written. */
  private graphBehind = 0;
  /** The keyword snapshot in the database misses changes the in-memory index has. */
  private keywordsStale = false;
  /** The database holds whole-document postings matching the keyword snapshot. */
  private documentsStored = false;
  private closed = false;
  private writes: Promise<unknown> = Promise.resolve();
  private readonly fieldTerms = new Map<string, string>();

  private constructor(
    private readonly dir: string,
    private readonly db: BetterSqlite3.Database,
    vectorStore: HNSWVectorStore,
    options: EmbeddedStoreOptions,
  ) {
    this.modelId = options.modelId;
    this.vectorStore = vectorStore;
    this.keywordIndex = new KeywordIndex({
      documents: { get: (id) => vectorStore.getDocument(id) },
      ...(options.contextualHeaders === false ? { boosts: BODY_ONLY_BOOSTS } : {}),
    });
    this.checkpointEvery = options.checkpointEveryChunks ?? 20_000;
  }

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    const dir = options.dir;
    mkdirSync(dir, { recursive: true });
    const dbPath = join(dir, STORE_FILE);
    const graphs = graphFiles(dir);
    if (!existsSync(dbPath) && graphs.length > 0) {
      throw new GeneraError(
        "INDEX_CORRUPT",
        `${dbPath} is missing but ${graphs[0]} is there: the index lost its database. Move ${dir} aside and index again`,
        { details: { path: dbPath } },
      );
    }
    // Loaded here, not at import: the package root must not pull native modules in just to exist.
    const { default: Database } = await import("better-sqlite3");
    let db: BetterSqlite3.Database;
    try {
      db = new Database(dbPath);
      // Space freed by checkpoints (vectors dropped) goes back to the file system.
      db.pragma("auto_vacuum = INCREMENTAL");
      db.pragma("journal_mode = WAL");
      // Every commit reaches the disk before it is acknowledged.
      db.pragma("synchronous = FULL");
      const check = db.pragma("quick_check", { simple: true });
      if (check !== "ok") throw new Error(String(check));
    } catch (error) {
      throw new GeneraError("INDEX_CORRUPT", `${dbPath} is damaged (${(error as Error).message})`, {
        cause: error,
        details: { path: dbPath },
      });
    }
    try {
      return await EmbeddedStore.load(dir, db, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private static async load(
    dir: string,
    db: BetterSqlite3.Database,
    options: EmbeddedStoreOptions,
  ): Promise<EmbeddedStore> {
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS sources (
        sid INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        root TEXT NOT NULL,
        source TEXT NOT NULL,
        hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime_ms REAL NOT NULL,
        indexed_at TEXT NOT NULL
      );
      -- label: the chunk's key in the HNSW graph; AUTOINCREMENT never reuses one.
      -- terms: empty. Storing the analysed terms saved a third of the keyword index's start-up but
      -- took a third of the database (1.34x a LangChain HNSWLib store on disk instead of ~1.2x);
      -- rows written by the first build still carry them and are read as they are.
      CREATE TABLE IF NOT EXISTS chunks (
        label INTEGER PRIMARY KEY AUTOINCREMENT,
        sid INTEGER NOT NULL REFERENCES sources(sid),
        id TEXT NOT NULL,
        text TEXT NOT NULL,
        metadata TEXT NOT NULL,
        terms TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks(sid);
      -- Vectors no graph file holds yet: a table of their own, so dropping them frees whole pages.
      CREATE TABLE IF NOT EXISTS vectors (label INTEGER PRIMARY KEY, vector BLOB NOT NULL);
      -- Derived data written at checkpoints (the keyword postings): rebuilt from the chunks when lost.
      CREATE TABLE IF NOT EXISTS snapshots (name TEXT PRIMARY KEY, data BLOB NOT NULL);
    `);
    const meta = new Map(
      (db.prepare("SELECT key, value FROM meta").all() as Array<{ key: string; value: string }>).map((r) => [
        r.key,
        r.value,
      ]),
    );
    const hnsw = options.hnsw ?? {};
    if (meta.size === 0) {
      const put = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
      db.transaction(() => {
        put.run("format", FORMAT);
        put.run("version", String(VERSION));
        put.run("modelId", options.modelId);
        put.run("space", hnsw.space ?? HNSW_DEFAULTS.space);
        put.run("M", String(hnsw.M ?? HNSW_DEFAULTS.M));
        put.run("efConstruction", String(hnsw.efConstruction ?? HNSW_DEFAULTS.efConstruction));
      })();
      for (const key of ["format", "version", "modelId", "space", "M", "efConstruction"]) {
        meta.set(key, (db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string }).value);
      }
    }
    const dbPath = join(dir, STORE_FILE);
    if (meta.get("format") !== FORMAT || meta.get("version") !== String(VERSION)) {
      throw new GeneraError(
        "INDEX_CORRUPT",
        `${dbPath} is not a ${FORMAT} version ${VERSION} database (format ${meta.get("format")}, version ${meta.get("version")})`,
        { details: { path: dbPath } },
      );
    }
    if (meta.get("modelId") !== options.modelId) {
      throw new GeneraError(
        "MODEL_MISMATCH",
        `The index at ${dir} was built with embedding model "${meta.get("modelId")}", not "${options.modelId}"; re-index into a new --store or use that model`,
        { details: { path: dir, expected: meta.get("modelId"), actual: options.modelId } },
      );
    }
    const dimension = meta.has("dimension") ? Number(meta.get("dimension")) : undefined;
    const storeOptions: HNSWVectorStoreOptions = {
      space: meta.get("space") as HNSWVectorStoreOptions["space"],
      M: Number(meta.get("M")),
      efConstruction: Number(meta.get("efConstruction")),
      efSearch: hnsw.efSearch,
      initialCapacity: hnsw.initialCapacity,
      dimension,
      modelId: options.modelId,
    };

    // The database decides what exists; rows come back in label order (the order they were added).
    interface Row {
      label: number;
      id: string;
      text: string;
      metadata: string;
      terms: string;
    }
    const rows = db.prepare("SELECT label, id, text, metadata, terms FROM chunks ORDER BY label").all() as Row[];
    const stored = new Map(
      (db.prepare("SELECT label, vector FROM vectors").all() as Array<{ label: number; vector: Buffer }>).map((r) => [
        r.label,
        r.vector,
      ]),
    );
    const documents = rows.map((row) => {
      let metadata: Record<string, unknown>;
      try {
        metadata = JSON.parse(row.metadata) as Record<string, unknown>;
      } catch (error) {
        throw new GeneraError("INDEX_CORRUPT", `${dbPath}: chunk ${row.id} has unreadable metadata`, {
          cause: error,
          details: { path: dbPath, id: row.id },
        });
      }
      return { label: row.label, document: new Document({ id: row.id, pageContent: row.text, metadata }) };
    });

    let vectorStore: HNSWVectorStore | undefined;
    let missing = documents;
    const graph = meta.has("graph") ? (JSON.parse(meta.get("graph") as string) as GraphRef) : undefined;
    const report = options.onRepair ?? (() => {});
    if (graph && dimension !== undefined) {
      const path = join(dir, graph.name);
      const problem = graphProblem(path, graph);
      if (problem === undefined) {
        const opened = HNSWVectorStore.openGraph(path, options.embeddings, { ...storeOptions, dimension }, documents);
        vectorStore = opened.store;
        missing = opened.missing;
        if (missing.length) report(`index: catching the graph up with ${missing.length} chunks committed after it`);
      } else if (documents.length) {
        report(`index: the graph file ${graph.name} ${problem}; rebuilding it from ${STORE_FILE}`);
      }
    } else if (documents.length) {
      report(`index: no graph file yet; building it from ${STORE_FILE}`);
    }
    vectorStore ??= new HNSWVectorStore(options.embeddings, storeOptions);
    const store = new EmbeddedStore(dir, db, vectorStore, options);

    // Vectors still in the database go straight in; ones a lost graph took with it are embedded again.
    const withVector = missing.filter((m) => stored.has(m.label));
    if (withVector.length) {
      await vectorStore.addVectors(
        withVector.map((m) => decodeVector(stored.get(m.label) as Buffer)),
        withVector.map((m) => m.document),
        { labels: withVector.map((m) => m.label) },
      );
    }
    const toEmbed = missing.filter((m) => !stored.has(m.label));
    for (let i = 0; i < toEmbed.length; i += REEMBED_BATCH) {
      const slice = toEmbed.slice(i, i + REEMBED_BATCH);
      const vectors = await options.embeddings.embedDocuments(slice.map((m) => embeddingText(m.document, options)));
      await vectorStore.addVectors(
        vectors,
        slice.map((m) => m.document),
        { labels: slice.map((m) => m.label) },
      );
    }
    const restored = store.restoreKeywords(meta.get("keywords"), report);
    const toAnalyze = rows
      .map((row, i) => ({ row, document: documents[i]?.document as Document }))
      .filter(({ row }) => restored === undefined || row.label > restored.lastLabel || !store.keywordIndex.has(row.id));
    // Chunks committed after the snapshot: a re-added id (its file re-indexed) replaces the snapshot's entry.
    store.keywordIndex.remove(toAnalyze.map(({ row }) => row.id));
    store.keywordIndex.addAnalyzed(
      toAnalyze.map(({ row, document }) => ({
        id: row.id,
        terms: store.keywordTerms(document, row.terms || undefined),
      })),
    );
    if (restored && toAnalyze.length) {
      report(`index: catching the keyword index up with ${toAnalyze.length} chunks committed after its snapshot`);
    }
    store.keywordsStale = restored === undefined ? rows.length > 0 : toAnalyze.length > 0 || restored.removed > 0;

    const sourceRows = db.prepare("SELECT * FROM sources ORDER BY sid").all() as Array<{
      sid: number;
      path: string;
      root: string;
      source: string;
      hash: string;
      size: number;
      mtime_ms: number;
      indexed_at: string;
    }>;
    const bySid = new Map<number, SourceRecord & { sid: number }>();
    for (const r of sourceRows) {
      const record = {
        sid: r.sid,
        path: r.path,
        root: r.root,
        source: r.source,
        hash: r.hash,
        size: r.size,
        mtimeMs: r.mtime_ms,
        indexedAt: r.indexed_at,
        chunkIds: [] as string[],
      };
      bySid.set(r.sid, record);
      store.sources.set(r.path, record);
    }
    for (const row of db.prepare("SELECT sid, id FROM chunks ORDER BY label").iterate() as Iterable<{
      sid: number;
      id: string;
    }>) {
      bySid.get(row.sid)?.chunkIds.push(row.id);
    }
    removeStrayGraphs(dir, graph?.name);
    const legacy = ["record.json", "hnsw", "keyword"].filter((name) => existsSync(join(dir, name)));
    if (legacy.length) {
      // Never deleted for the user: they may want to go back to the build that wrote them.
      report(`index: ${legacy.join(", ")} in ${dir} belong to the previous index format and are not read; delete them`);
    }
    store.graphBehind = missing.length;
    if (missing.length || store.keywordsStale) await store.checkpoint();
    return store;
  }

  get dimension(): number | undefined {
    return this.vectorStore.dimension;
  }

  async counts(): Promise<{ sources: number; chunks: number }> {
    return { sources: this.sources.size, chunks: this.vectorStore.size };
  }

  async getSource(path: string): Promise<SourceRecord | undefined> {
    const record = this.sources.get(path);
    return record && publicRecord(record);
  }

  async getSources(paths: string[]): Promise<(SourceRecord | undefined)[]> {
    return paths.map((path) => {
      const record = this.sources.get(path);
      return record && publicRecord(record);
    });
  }

  async listSources(): Promise<SourceRecord[]> {
    return [...this.sources.values()].map(publicRecord);
  }

  async getChunks(ids: string[]): Promise<(Document | undefined)[]> {
    return this.vectorStore.getDocuments(ids);
  }

  async keywordSearch(query: string, options: { k: number; filter?: DocumentFilter }): Promise<ScoredChunk[]> {
    return this.keywordIndex.search(query, options).map((r) => ({ document: r.document, score: r.score }));
  }

  async denseSearch(vector: number[], options: { k: number; filter?: DocumentFilter }): Promise<ScoredChunk[]> {
    const hits = await this.vectorStore.similaritySearchVectorWithScore(vector, options.k, options.filter);
    return hits.map(([document, score]) => ({ document, score }));
  }

  async documentSearch(query: string, options: { k: number }): Promise<DocumentHit[]> {
    if (this.keywordIndex.size === 0) return [];
    const whole = WholeDocumentIndex.of(this.keywordIndex);
    const scores = whole.scores(query);
    return [...scores]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, Math.max(0, Math.floor(options.k)))
      .map(([source, score]) => ({ source, score, chunkIds: [...whole.chunksOf(source)] }));
  }

  async keywordStatistics(terms: string[]): Promise<{ chunks: number; frequencies: number[] }> {
    return { chunks: this.keywordIndex.size, frequencies: terms.map((t) => this.keywordIndex.documentFrequency(t)) };
  }

  async chunkWindows(ids: string[], window: number): Promise<(ChunkWindow | undefined)[]> {
    if (!ids.length || this.keywordIndex.size === 0) return ids.map(() => undefined);
    const whole = WholeDocumentIndex.of(this.keywordIndex);
    return ids.map((id) => {
      if (!this.keywordIndex.has(id)) return undefined;
      const source = this.keywordIndex.getDocument(id)?.metadata?.source;
      const order = typeof source === "string" && source !== "" ? whole.chunksOf(source) : [id];
      const at = order.indexOf(id);
      if (at < 0) return undefined;
      const w = Math.max(0, Math.floor(window));
      const chunks = order
        .slice(Math.max(0, at - w), at + w + 1)
        .map((c) => this.keywordIndex.getDocument(c))
        .filter((d): d is Document => d !== undefined);
      return { source: typeof source === "string" && source !== "" ? source : id, chunks };
    });
  }

  /**
   * One transaction for the whole batch, so a crash keeps all of it or none; but a large batch
   * (a 10,000-chunk upload) is written in slices with the event loop let through between them,
   * so searches in the same process keep answering while it is stored. Writes are serialised here.
   */
  commit(batch: StoreBatch): Promise<void> {
    return this.serialise(() => this.commitNow(batch));
  }

  private async commitNow(batch: StoreBatch): Promise<void> {
    this.assertOpen();
    const puts = batch.put ?? [];
    // Everything that can fail is checked before the transaction, so a refused batch changes nothing.
    // A stored id may come back only for the source that already holds it.
    const own = new Map(puts.map((put) => [put.record.path, new Set(this.sources.get(put.record.path)?.chunkIds)]));
    const dimension = checkBatch(
      puts,
      this.vectorStore.dimension,
      (id, put) => this.vectorStore.has(id) && !own.get(put.record.path)?.has(id),
    );
    const terms: KeywordTerms[][] = [];
    for (const put of puts) {
      const chunkTerms: KeywordTerms[] = [];
      for (const chunk of put.chunks) {
        chunkTerms.push(this.keywordTerms(chunk));
        if (chunkTerms.length % SLICE === 0) await yieldToEventLoop();
      }
      terms.push(chunkTerms);
    }

    const removedIds: string[] = [];
    const added: Array<{ put: (typeof puts)[number]; labels: number[]; sid: number; terms: KeywordTerms[] }> = [];
    const deleteVectors = this.db.prepare(
      "DELETE FROM vectors WHERE label IN (SELECT label FROM chunks WHERE sid = ?)",
    );
    const deleteChunks = this.db.prepare("DELETE FROM chunks WHERE sid = ?");
    const deleteSource = this.db.prepare("DELETE FROM sources WHERE sid = ?");
    const upsertSource = this.db.prepare(`
      INSERT INTO sources (path, root, source, hash, size, mtime_ms, indexed_at)
      VALUES (@path, @root, @source, @hash, @size, @mtimeMs, @indexedAt)
      ON CONFLICT(path) DO UPDATE SET root = excluded.root, source = excluded.source, hash = excluded.hash,
        size = excluded.size, mtime_ms = excluded.mtime_ms, indexed_at = excluded.indexed_at
      RETURNING sid`);
    const insertChunk = this.db.prepare("INSERT INTO chunks (sid, id, text, metadata, terms) VALUES (?, ?, ?, ?, ?)");
    const insertVector = this.db.prepare("INSERT INTO vectors (label, vector) VALUES (?, ?)");
    const touch = this.db.prepare("UPDATE sources SET mtime_ms = ? WHERE path = ?");
    // BEGIN/COMMIT by hand because the transaction spans the slices' awaits (db.transaction()
    // cannot); nothing else uses this connection meanwhile (writes are serialised, reads are in memory).
    this.db.exec("BEGIN IMMEDIATE");
    try {
      for (const path of batch.remove ?? []) {
        const record = this.sources.get(path);
        if (!record) continue;
        deleteVectors.run(record.sid);
        deleteChunks.run(record.sid);
        deleteSource.run(record.sid);
        removedIds.push(...record.chunkIds);
      }
      for (const [p, put] of puts.entries()) {
        const previous = this.sources.get(put.record.path);
        if (previous) {
          deleteVectors.run(previous.sid);
          deleteChunks.run(previous.sid);
          removedIds.push(...previous.chunkIds);
        }
        const { sid } = upsertSource.get(put.record) as { sid: number };
        const labels: number[] = [];
        for (const [i, chunk] of put.chunks.entries()) {
          const info = insertChunk.run(sid, chunk.id, chunk.pageContent, JSON.stringify(chunk.metadata ?? {}), "");
          const label = Number(info.lastInsertRowid);
          insertVector.run(label, encodeVector(put.vectors[i] as number[]));
          labels.push(label);
          if (labels.length % SLICE === 0) await yieldToEventLoop();
        }
        added.push({ put, labels, sid, terms: terms[p] as KeywordTerms[] });
      }
      for (const t of batch.touch ?? []) touch.run(t.mtimeMs, t.path);
      if (dimension !== undefined && this.vectorStore.dimension === undefined) {
        this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('dimension', ?)").run(String(dimension));
      }
      this.db.exec("COMMIT");
    } catch (error) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      throw error;
    }

    // Committed: now the in-memory indexes follow, a slice at a time (a search between two slices
    // sees the batch's removals and part of its new chunks; never anything uncommitted).
    const gone = removedIds.filter((id) => this.vectorStore.has(id));
    if (gone.length) await this.vectorStore.delete({ ids: gone });
    // The whole-document index follows the batch once, at its end, not after every slice.
    const release = this.keywordIndex.hold();
    try {
      this.keywordIndex.remove(removedIds);
      for (const path of batch.remove ?? []) this.sources.delete(path);
      for (const { put, labels, sid, terms: chunkTerms } of added) {
        for (let i = 0; i < put.chunks.length; i += SLICE) {
          const end = i + SLICE;
          await this.vectorStore.addVectors(put.vectors.slice(i, end), put.chunks.slice(i, end), {
            labels: labels.slice(i, end),
          });
          this.keywordIndex.addAnalyzed(
            put.chunks
              .slice(i, end)
              .map((chunk, j) => ({ id: chunk.id as string, terms: chunkTerms[i + j] as KeywordTerms })),
          );
          if (end < put.chunks.length) await yieldToEventLoop();
        }
        this.sources.set(put.record.path, { ...put.record, sid, chunkIds: put.chunks.map((c) => c.id as string) });
        this.graphBehind += put.chunks.length;
      }
    } finally {
      release();
    }
    if (added.length || removedIds.length) this.keywordsStale = true;
    for (const t of batch.touch ?? []) {
      const record = this.sources.get(t.path);
      if (record) record.mtimeMs = t.mtimeMs;
    }
    this.graphBehind += removedIds.length;
    if (this.graphBehind >= this.checkpointEvery) await this.checkpointNow();
  }

  /**
   * Writes a new graph file, records it (name, size, SHA-256, last label) and drops the vectors
   * it now holds from the database, in that order: a crash before the record leaves the old graph
   * in charge, one after it leaves the new one.
   */
  checkpoint(): Promise<void> {
    return this.serialise(() => this.checkpointNow());
  }

  private async checkpointNow(): Promise<void> {
    this.assertOpen();
    if (this.keywordsStale || (!this.documentsStored && WholeDocumentIndex.built(this.keywordIndex))) {
      await this.writeKeywordSnapshot();
    }
    if (this.graphBehind === 0 || this.vectorStore.dimension === undefined || this.vectorStore.size === 0) {
      if (this.graphBehind > 0 && this.vectorStore.size === 0) this.dropGraph();
      return;
    }
    const previous = this.graphRef();
    const generation = (previous?.generation ?? 0) + 1;
    const name = `graph-${generation}.hnsw`;
    const path = join(this.dir, name);
    this.vectorStore.writeGraph(path);
    fsyncDir(this.dir);
    const { bytes, sha256 } = digestFile(path);
    const { last } = this.db.prepare("SELECT max(label) AS last FROM chunks").get() as { last: number | null };
    const ref: GraphRef = { name, generation, bytes, sha256, lastLabel: last ?? 0 };
    this.db.transaction(() => {
      this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('graph', ?)").run(JSON.stringify(ref));
      this.db.prepare("DELETE FROM vectors WHERE label <= ?").run(ref.lastLabel);
    })();
    this.graphBehind = 0;
    this.db.pragma("incremental_vacuum");
    removeStrayGraphs(this.dir, name);
  }

  /**
   * Stores the keyword postings (MiniSearch's serialised index, gzipped) with the highest label
   * they cover and their SHA-256, in one transaction: start-up loads them instead of analysing
   * and indexing every chunk, then indexes only what was committed after (see restoreKeywords).
   * The whole-document postings the retriever derives go along when they were built (a server
   * that has searched): the first search after the next start then skips building them.
   */
  private async writeKeywordSnapshot(): Promise<void> {
    const { last } = this.db.prepare("SELECT max(label) AS last FROM chunks").get() as { last: number | null };
    this.keywordsStale = false;
    if (last === null) {
      this.db.transaction(() => {
        this.db.prepare("DELETE FROM snapshots WHERE name IN ('keywords', 'documents')").run();
        this.db.prepare("DELETE FROM meta WHERE key = 'keywords'").run();
      })();
      this.documentsStored = false;
      return;
    }
    // Compressed off the main thread as it is written (the postings of 30k chunks are ~30 MB of
    // JSON, ~1/5 of that gzipped): never held whole. Nothing changes them meanwhile: writes wait
    // for this checkpoint, and a background vacuum (which rewrites postings) is let finish first.
    await this.keywordIndex.quiet();
    const data = await gzipParts(this.keywordIndex.snapshotParts());
    const whole = await WholeDocumentIndex.settled(this.keywordIndex);
    await whole?.keywordIndex.quiet();
    const documents = whole ? await gzipParts(whole.keywordIndex.snapshotParts()) : undefined;
    const ref: KeywordSnapshotRef = {
      lastLabel: last,
      chunks: this.keywordIndex.size,
      bytes: data.byteLength,
      sha256: sha256Of(data),
      ...(documents
        ? {
            documents: {
              bytes: documents.byteLength,
              sha256: sha256Of(documents),
              assembly: WHOLE_DOCUMENT_ASSEMBLY,
            },
          }
        : {}),
    };
    this.db.transaction(() => {
      this.db.prepare("INSERT OR REPLACE INTO snapshots (name, data) VALUES ('keywords', ?)").run(data);
      // A whole-document snapshot from an earlier checkpoint would not match these chunks.
      if (documents)
        this.db.prepare("INSERT OR REPLACE INTO snapshots (name, data) VALUES ('documents', ?)").run(documents);
      else this.db.prepare("DELETE FROM snapshots WHERE name = 'documents'").run();
      this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('keywords', ?)").run(JSON.stringify(ref));
    })();
    this.documentsStored = documents !== undefined;
  }

  /**
   * Loads the keyword snapshot (and the whole-document one taken with it) and drops what was
   * removed after it; returns what it covers, or undefined (after saying why) when there is none
   * or it fails its check, so the caller indexes every chunk from its text.
   */
  private restoreKeywords(
    recorded: string | undefined,
    report: (message: string) => void,
  ): { lastLabel: number; removed: number } | undefined {
    if (recorded === undefined) return undefined;
    const ref = JSON.parse(recorded) as KeywordSnapshotRef;
    try {
      this.keywordIndex.loadSnapshot(gunzipSync(this.snapshotData("keywords", ref)).toString("utf8"));
    } catch (error) {
      this.keywordIndex.clear();
      report(`index: the keyword snapshot ${(error as Error).message}; rebuilding it from the chunks' text`);
      return undefined;
    }
    if (ref.documents?.assembly === WHOLE_DOCUMENT_ASSEMBLY) {
      // Before the catch-up below, so that the whole-document index follows it change by change.
      try {
        const data = this.snapshotData("documents", ref.documents);
        WholeDocumentIndex.restore(this.keywordIndex, gunzipSync(data).toString("utf8"));
        this.documentsStored = true;
      } catch (error) {
        report(`index: the whole-document keyword snapshot ${(error as Error).message}; the first search rebuilds it`);
      }
    }
    const live = new Set(this.db.prepare("SELECT id FROM chunks").pluck().all() as string[]);
    const removed = this.keywordIndex.ids().filter((id) => !live.has(id));
    this.keywordIndex.remove(removed);
    return { lastLabel: ref.lastLabel, removed: removed.length };
  }

  /** A stored snapshot's bytes, checked against their recorded SHA-256 (the error says what is wrong). */
  private snapshotData(name: string, ref: { sha256: string }): Buffer {
    const row = this.db.prepare("SELECT data FROM snapshots WHERE name = ?").get(name) as { data: Buffer } | undefined;
    if (!row) throw new Error("is missing");
    if (sha256Of(row.data) !== ref.sha256) throw new Error("fails its SHA-256 check");
    return row.data;
  }

  async sizeBytes(): Promise<number> {
    return storeSizeBytes(this.dir);
  }

  close(): Promise<void> {
    return this.serialise(async () => {
      if (this.closed) return;
      await this.checkpointNow();
      this.closed = true;
      this.db.close();
    });
  }

  /** Runs `fn` after the writes queued before it: a commit's transaction spans awaits, so writes take turns. */
  private serialise<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writes.then(fn, fn);
    this.writes = run.catch(() => undefined);
    return run;
  }

  /**
   * A chunk's keyword terms: the body's as stored (or analysed now), the title's and headings'
   * from the metadata, analysed once per distinct string (a document's chunks share them).
   */
  private keywordTerms(chunk: Document, storedBody?: string): KeywordTerms {
    const title = this.analysed(documentTitle(chunk));
    const headings = this.analysed(headingText(chunk));
    return { title, headings, body: storedBody ?? this.keywordIndex.analyze(chunk.pageContent).join(" ") };
  }

  private analysed(text: string): string {
    let terms = this.fieldTerms.get(text);
    if (terms === undefined) {
      terms = this.keywordIndex.analyze(text).join(" ");
      if (this.fieldTerms.size > 50_000) this.fieldTerms.clear();
      this.fieldTerms.set(text, terms);
    }
    return terms;
  }

  private graphRef(): GraphRef | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'graph'").get() as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as GraphRef) : undefined;
  }

  /** An empty store needs no graph: forget the file so start-up does not look for it. */
  private dropGraph(): void {
    this.db.prepare("DELETE FROM meta WHERE key = 'graph'").run();
    this.graphBehind = 0;
    removeStrayGraphs(this.dir, undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new GeneraError("INVALID_INPUT", `The store in ${this.dir} is closed`);
  }
}

/**
 * Bumped when WholeDocumentIndex puts documents together differently (2: CSV rows and JSON
 * elements are runs of their own): older whole-document snapshots are rebuilt at the first search.
 */
const WHOLE_DOCUMENT_ASSEMBLY = 2;

interface KeywordSnapshotRef {
  /** The highest chunk label when it was taken: chunks above it were committed after. */
  lastLabel: number;
  chunks: number;
  bytes: number;
  sha256: string;
  /** The whole-document postings taken at the same time, when there were any. */
  /** `assembly`: how the documents were put together (WHOLE_DOCUMENT_ASSEMBLY); another one is rebuilt, not restored. */
  documents?: { bytes: number; sha256: string; assembly?: number };
}

function sha256Of(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

interface GraphRef {
  name: string;
  generation: number;
  bytes: number;
  sha256: string;
  /** The highest chunk label when the graph was written: vectors up to it were dropped from the database. */
  lastLabel: number;
}

function publicRecord(record: SourceRecord & { sid: number }): SourceRecord {
  const { sid: _sid, ...rest } = record;
  return { ...rest, chunkIds: [...record.chunkIds] };
}

function encodeVector(vector: number[]): Buffer {
  const f32 = Float32Array.from(vector);
  return Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength);
}

function decodeVector(blob: Buffer): number[] {
  const copy = new Float32Array(blob.byteLength / 4);
  new Uint8Array(copy.buffer).set(blob);
  return Array.from(copy);
}

function graphFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((name) => GRAPH_FILE.test(name)) : [];
}

/** Graph files other than the recorded one: written by a checkpoint that crashed before recording them. */
function removeStrayGraphs(dir: string, keep: string | undefined): void {
  for (const name of graphFiles(dir)) if (name !== keep) rmSync(join(dir, name), { force: true });
}

/** Why the recorded graph file cannot be used, or undefined when it matches its record. */
function graphProblem(path: string, ref: GraphRef): string | undefined {
  if (!existsSync(path)) return "is missing";
  const { bytes, sha256 } = digestFile(path);
  if (bytes !== ref.bytes) return `has ${bytes} bytes, ${ref.bytes} were written`;
  // hnswlib trusts a graph file's structure (a damaged one can crash the process), so check it first.
  if (sha256 !== ref.sha256) return "fails its SHA-256 check";
  return undefined;
}

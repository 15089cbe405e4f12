import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { Embeddings, type EmbeddingsInterface, type EmbeddingsParams } from "@langchain/core/embeddings";
import type Database from "better-sqlite3";
import { GeneraError } from "../errors.js";
import { damageDetail, isDamagedDatabaseError, quickCheck } from "../util/sqliteHealth.js";
import { assertTexts } from "./assertTexts.js";
import { embeddingsModelId } from "./embeddingsModelId.js";

// SQLite loads when a cache is first opened, not when genera is imported.
const require = createRequire(import.meta.url);

export interface CachedEmbeddingsParams extends EmbeddingsParams {
  /** The embeddings to wrap. */
  embeddings: EmbeddingsInterface;
  /** Folder of the cache (created if missing); holds embeddings.sqlite. */
  dir: string;
  /** Cache key namespace; default embeddingsModelId(embeddings). */
  modelId?: string;
  /** Also store embedQuery results on disk (default false: most questions are asked once, documents are re-read). */
  cacheQueries?: boolean;
  /**
   * Query vectors kept in memory, most recently used first (default 256; 0 turns it off).
   * A question asked again (a retry, a chat turn and its search, a popular query) costs a
   * model call only once, and identical questions in flight together share one call.
   */
  recentQueries?: number;
  /** Texts sent to the wrapped embeddings per call; each slice is stored before the next starts. Default 512. */
  writeEvery?: number;
  /** Where a recovered (set-aside) cache file is reported; default stderr. */
  log?: (line: string) => void;
}

export interface CacheStats {
  hits: number;
  misses: number;
}

/** One key per (model, text): vectors from different models never mix. */
function textHash(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function toBlob(vector: number[]): Buffer {
  const f = Float32Array.from(vector);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
}

function fromBlob(blob: Buffer): number[] {
  const copy = new Float32Array(blob.byteLength / 4);
  new Uint8Array(copy.buffer).set(blob);
  return Array.from(copy);
}

/**
 * Wraps any embeddings with a persistent cache keyed by model id + sha256(text), so
 * re-indexing only embeds new or changed text. Storage is one SQLite file in WAL mode:
 * every batch of new vectors is one transaction, so a crash loses at most the batch
 * being computed and never corrupts what is stored; lookups stay fast at 100k+ rows.
 * Vectors are stored as float32 (the precision the models compute in).
 */
export class CachedEmbeddings extends Embeddings {
  readonly modelId: string;
  readonly path: string;
  readonly stats: CacheStats = { hits: 0, misses: 0 };
  private readonly inner: EmbeddingsInterface;
  private readonly cacheQueries: boolean;
  private readonly writeEvery: number;
  private readonly recentQueries: number;
  /** Query text → its vector (or the call computing it); Map order is least recently used first. */
  private readonly recent = new Map<string, Promise<number[]>>();
  private db?: Database.Database;
  /** What start-up or a later call found and did about a damaged file. */
  private recovery?: string;
  private unavailable?: string;
  private readonly log: (line: string) => void;
  private statements?: {
    get: Database.Statement<[string, Buffer], { vector: Buffer }>;
    put: Database.Statement<[string, Buffer, number, Buffer]>;
  };

  constructor(params: CachedEmbeddingsParams) {
    super(params);
    if (!params?.embeddings || typeof params.embeddings.embedDocuments !== "function") {
      throw new GeneraError("INVALID_INPUT", "CachedEmbeddings needs `embeddings` with embedDocuments/embedQuery");
    }
    if (typeof params.dir !== "string" || params.dir === "") {
      throw new GeneraError("INVALID_INPUT", "CachedEmbeddings needs `dir`, the cache folder");
    }
    const writeEvery = params.writeEvery ?? 512;
    if (!Number.isInteger(writeEvery) || writeEvery < 1) {
      throw new GeneraError("INVALID_INPUT", `writeEvery must be a positive integer, got ${writeEvery}`);
    }
    this.inner = params.embeddings;
    this.modelId = params.modelId ?? embeddingsModelId(params.embeddings);
    this.path = join(resolve(params.dir), "embeddings.sqlite");
    const recentQueries = params.recentQueries ?? 256;
    if (!Number.isInteger(recentQueries) || recentQueries < 0) {
      throw new GeneraError("INVALID_INPUT", `recentQueries must be a non-negative integer, got ${recentQueries}`);
    }
    this.cacheQueries = params.cacheQueries ?? false;
    this.writeEvery = writeEvery;
    this.recentQueries = recentQueries;
    this.log = params.log ?? ((line) => process.stderr.write(line));
  }

  /** The wrapped embeddings. */
  get embeddings(): EmbeddingsInterface {
    return this.inner;
  }

  /** Number of vectors stored for this model id. */
  size(): number {
    return this.guarded(
      () =>
        (this.open().prepare("SELECT COUNT(*) AS n FROM embeddings WHERE model = ?").get(this.modelId) as { n: number })
          .n,
      () => 0,
    );
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    assertTexts(documents);
    const get = (hash: Buffer) =>
      this.guarded(
        () => this.prepared().get.get(this.modelId, hash),
        () => undefined,
      );
    const out: number[][] = new Array(documents.length);
    // Repeated texts within one call are embedded once.
    const missing = new Map<string, { hash: Buffer; indices: number[] }>();
    documents.forEach((text, i) => {
      const pending = missing.get(text);
      if (pending) {
        pending.indices.push(i);
        return;
      }
      const hash = textHash(text);
      const row = get(hash);
      if (row) {
        out[i] = fromBlob(row.vector);
        this.stats.hits++;
      } else {
        missing.set(text, { hash, indices: [i] });
      }
    });
    const texts = [...missing.keys()];
    for (let start = 0; start < texts.length; start += this.writeEvery) {
      const slice = texts.slice(start, start + this.writeEvery);
      const vectors = await this.inner.embedDocuments(slice);
      this.check(vectors, slice.length);
      const blobs = vectors.map(toBlob);
      this.store(slice.map((text, k) => [(missing.get(text) as { hash: Buffer }).hash, blobs[k] as Buffer]));
      slice.forEach((text, k) => {
        const entry = missing.get(text) as { indices: number[] };
        this.stats.misses++;
        // Returned through float32 like a cache hit, so a text's vector does not depend on whether it was cached.
        for (const i of entry.indices) out[i] = fromBlob(blobs[k] as Buffer);
        // Later copies of a text in the same call count as hits: they cost nothing.
        this.stats.hits += entry.indices.length - 1;
      });
    }
    return out;
  }

  async embedQuery(document: string): Promise<number[]> {
    if (typeof document !== "string") {
      throw new GeneraError("INVALID_INPUT", `embedQuery expects a string, got ${typeof document}`);
    }
    if (this.recentQueries === 0) return this.embedQueryUncached(document);
    let pending = this.recent.get(document);
    if (pending) {
      this.recent.delete(document); // re-inserted below as the most recently used
      this.stats.hits++;
    } else {
      pending = this.embedQueryUncached(document);
      // A failed call is not remembered: the next ask tries again.
      pending.catch(() => this.recent.get(document) === pending && this.recent.delete(document));
      const oldest = this.recent.size >= this.recentQueries ? this.recent.keys().next() : undefined;
      if (oldest && !oldest.done) this.recent.delete(oldest.value);
    }
    this.recent.set(document, pending);
    // A copy each time: callers may modify what they get.
    return (await pending).slice();
  }

  private async embedQueryUncached(document: string): Promise<number[]> {
    if (!this.cacheQueries) return this.inner.embedQuery(document);
    const [vector] = await this.embedDocuments([document]);
    return vector as number[];
  }

  /** Closes the cache file (the wrapped embeddings are closed too when they have close()). */
  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
    this.statements = undefined;
    const inner = this.inner as EmbeddingsInterface & { close?: () => unknown };
    if (typeof inner.close === "function") await inner.close();
  }

  private check(vectors: unknown, expected: number): asserts vectors is number[][] {
    if (!Array.isArray(vectors) || vectors.length !== expected) {
      throw new GeneraError(
        "INTERNAL",
        `Embeddings ${this.modelId} returned ${Array.isArray(vectors) ? vectors.length : typeof vectors} vectors for ${expected} texts`,
      );
    }
    const width = (vectors[0] as unknown[] | undefined)?.length;
    for (const v of vectors) {
      if (!Array.isArray(v) || v.length !== width || v.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
        throw new GeneraError("INTERNAL", `Embeddings ${this.modelId} returned a malformed vector; nothing was cached`);
      }
    }
  }

  private store(rows: Array<[Buffer, Buffer]>): void {
    this.guarded(
      () => {
        const db = this.open();
        const { put } = this.prepared();
        db.transaction(() => {
          for (const [hash, blob] of rows) put.run(this.modelId, hash, blob.byteLength / 4, blob);
        })();
      },
      () => undefined,
    );
  }

  private prepared(): NonNullable<CachedEmbeddings["statements"]> {
    const db = this.open();
    this.statements ??= {
      get: db.prepare("SELECT vector FROM embeddings WHERE model = ? AND hash = ?"),
      put: db.prepare("INSERT OR REPLACE INTO embeddings (model, hash, dim, vector) VALUES (?, ?, ?, ?)"),
    };
    return this.statements;
  }

  /**
   * Opens the cache file (quick_check first). A damaged file is a cache, not data: it is
   * moved aside to `embeddings.sqlite.damaged-<time>` (never deleted) and a fresh one is
   * started, which refills as texts are embedded again. `health()` tells what happened.
   */
  private open(): Database.Database {
    if (this.db) return this.db;
    try {
      mkdirSync(join(this.path, ".."), { recursive: true });
    } catch (error) {
      throw new GeneraError("FILE_UNREADABLE", `Cannot create the embedding cache folder for ${this.path}`, {
        cause: error,
        details: { path: this.path },
      });
    }
    try {
      this.db = this.connect();
    } catch (error) {
      if (!isDamagedDatabaseError(error)) {
        throw new GeneraError(
          "INDEX_CORRUPT",
          `The embedding cache ${this.path} cannot be opened (${(error as Error).message}); move it away to rebuild it`,
          { cause: error, details: { path: this.path } },
        );
      }
      this.setAside(error);
      this.db = this.connect();
    }
    return this.db;
  }

  private connect(): Database.Database {
    let db: Database.Database | undefined;
    try {
      const Sqlite: typeof Database = require("better-sqlite3");
      db = new Sqlite(this.path);
      const problem = quickCheck(db);
      if (problem) throw Object.assign(new Error(problem), { code: "SQLITE_CORRUPT" });
      db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode: a power cut may drop the last transactions but never corrupts the file.
      db.pragma("synchronous = NORMAL");
      db.pragma("busy_timeout = 5000");
      db.exec(
        `CREATE TABLE IF NOT EXISTS embeddings (
           model TEXT NOT NULL,
           hash BLOB NOT NULL,
           dim INTEGER NOT NULL,
           vector BLOB NOT NULL,
           PRIMARY KEY (model, hash)
         )`,
      );
      return db;
    } catch (error) {
      db?.close();
      throw error;
    }
  }

  /** Moves a damaged cache file (and its WAL) aside so a fresh one can take its place. */
  private setAside(error: unknown): void {
    this.db?.close();
    this.db = undefined;
    this.statements = undefined;
    const aside = `${this.path}.damaged-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    for (const suffix of ["", "-wal", "-shm"]) {
      if (existsSync(this.path + suffix)) renameSync(this.path + suffix, aside + suffix);
    }
    this.recovery = `the damaged cache file (${damageDetail(error)}) was moved to ${aside} and a new one started`;
    this.log(`genera: ${this.recovery}\n`);
  }

  /**
   * Runs one use of the cache file. Damage found while running (the file truncated or
   * overwritten under the server) sets the file aside and retries once on a fresh one;
   * if even that fails the cache is left out and embeddings are computed uncached, so
   * answers keep coming while health() reports the problem.
   */
  private guarded<T>(fn: () => T, fallback: () => T): T {
    if (this.unavailable) return fallback();
    try {
      return fn();
    } catch (error) {
      if (!isDamagedDatabaseError(error)) throw error;
      try {
        this.setAside(error);
        return fn();
      } catch (again) {
        this.unavailable = `unavailable (${damageDetail(again)}); embedding without the cache`;
        this.log(`genera: the embedding cache ${this.path} is ${this.unavailable}\n`);
        return fallback();
      }
    }
  }

  /**
   * Opens the file now (start-up checks it rather than the first request), and says
   * whether it works: `ok` false when embeddings run uncached; `detail` when it was rebuilt.
   */
  health(): { ok: boolean; detail?: string } {
    this.guarded(
      () => this.open(),
      () => undefined,
    );
    if (this.unavailable) return { ok: false, detail: this.unavailable };
    return this.recovery ? { ok: true, detail: this.recovery } : { ok: true };
  }
}

import { Document } from "@langchain/core/documents";
import type { ClientBase, Pool, PoolClient, QueryResultRow } from "pg";
import { HNSW_DEFAULTS } from "../../vectorstores/hnsw.js";
import { type DocumentFilter, matchesFilter } from "../../vectorstores/KeywordIndex.js";
import { assembleSource } from "../../vectorstores/WholeDocumentIndex.js";
import { GeneraError } from "../errors.js";
import {
  checkTablePrefix,
  openPool,
  redactUrl as redact,
  transaction,
  unavailable,
  withoutNul,
} from "../util/postgres.js";
import { checkBatch } from "./checkBatch.js";
import { BODY_ONLY_BOOSTS } from "./embeddingText.js";
import type {
  ChunkWindow,
  DocumentHit,
  KnowledgeStore,
  ScoredChunk,
  SourceRecord,
  SourceWrite,
  StoreBatch,
} from "./KnowledgeStore.js";
import { PostgresKeywordIndex } from "./PostgresKeywordIndex.js";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (any Postgres with the pgvector extension). */
  url: string;
  modelId: string;
  /** Prefix of the store's tables, so several knowledge bases can share one database (default "genera"). */
  tablePrefix?: string;
  /** Pool size (default 10). A PGlite socket server runs every connection in one session: use 1 there. */
  maxConnections?: number;
  /**
   * Contextual chunk headers (default true), as KnowledgeBase's option: off, the title and
   * heading fields count for nothing in keyword scores (BODY_ONLY_BOOSTS, as the embedded store).
   */
  contextualHeaders?: boolean;
  /**
   * HNSW candidate list per search (pgvector's `hnsw.ef_search`, raised to k when k is larger);
   * default HNSW_DEFAULTS.efSearch, the embedded graph's, so both stores search as broadly.
   */
  efSearch?: number;
  /**
   * pgvector HNSW build parameters (default m 16, ef_construction 64: the embedded graph's, and
   * pgvector's own). The first opening of a store records them; the index is built with those.
   */
  hnsw?: { M?: number; efConstruction?: number };
  /**
   * A first load that has committed nothing for this long is over (its loader died before
   * `finishLoad`): opening the store then builds the vector index the load deferred (default 2 min).
   */
  loadLeaseMs?: number;
  /**
   * The most memory (MB) the deferred index's build may take (default 1024; 0 leaves the server's
   * setting). pgvector builds three times faster when the graph fits in `maintenance_work_mem`
   * (60k chunks on PGlite: 41 s against 128 s at Postgres's default 64 MB), so the build raises
   * the setting for its own transaction to what its rows need (`hnswBuildMemoryKB`), never lowers it.
   */
  indexBuildMemoryMB?: number;
}

const FORMAT = "genera-store";
/**
 * 2: BM25 postings (PostgresKeywordIndex) instead of 1's tsvector ranked by ts_rank; 3: whole
 * documents with their own postings. Older stores are migrated on open.
 */
const VERSION = 3;
/** Rows per INSERT: bounds one statement's parameters (a chunk's text can be large). */
const INSERT_ROWS = 500;
/**
 * The meta key present while a first load defers the vector index: the server's time (ms) of the
 * load's last commit. Inserting 100k rows into an HNSW index one commit at a time took 3,276 s,
 * CREATE INDEX on the loaded rows 354 s (bench:scale, PGlite): so a store's first load goes in
 * without the index and builds it once at `finishLoad`; later loads insert into the built index.
 */
const DEFERRED_INDEX = "vectorIndexDeferred";
const LOAD_LEASE_MS = 120_000;
const INDEX_BUILD_MEMORY_MB = 1024;
/** The server's clock in ms: loaders on other machines agree on it. */
const NOW_MS = "floor(extract(epoch from clock_timestamp()) * 1000)::bigint";

/**
 * The KnowledgeStore on Postgres: sources and chunks in tables, dense search by pgvector's
 * HNSW index (`vector_cosine_ops`), keywords by the embedded store's BM25+ computed in SQL over
 * postings of the same analysed terms (PostgresKeywordIndex). Every commit is one transaction, serialised across processes by an
 * advisory lock, so replicas and workers can share one store.
 *
 * Nothing is cached in the process: every read sees every committed write, whoever made it.
 * Citus: distribute `<prefix>_chunks` by `sid` (and colocate `<prefix>_sources`); see docs/deployment.md.
 */
export class PostgresStore implements KnowledgeStore {
  readonly modelId: string;
  /** The HNSW candidate list of a search (hnsw.ef_search), the embedded graph's by default. */
  readonly efSearch: number;
  private readonly indexBuildMemoryMB: number;
  private dim: number | undefined;
  private readonly keywords: PostgresKeywordIndex;
  private readonly documents: PostgresKeywordIndex;
  private readonly t: Tables;
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    private readonly options: PostgresStoreOptions,
    dimension: number | undefined,
  ) {
    this.modelId = options.modelId;
    this.efSearch = efSearchOf(options);
    this.indexBuildMemoryMB = options.indexBuildMemoryMB ?? INDEX_BUILD_MEMORY_MB;
    this.dim = dimension;
    this.t = tables(options.tablePrefix);
    this.keywords = new PostgresKeywordIndex(
      this.t.chunkPostings,
      options.contextualHeaders === false ? BODY_ONLY_BOOSTS : undefined,
    );
    this.documents = new PostgresKeywordIndex(this.t.documentPostings);
  }

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    checkTablePrefix(options.tablePrefix ?? "genera");
    const pool = await openPool(options.url, options.maxConnections ?? 10);
    const where = redact(options.url);
    try {
      const { dimension, iterativeScan } = await PostgresStore.prepare(pool, options, where);
      const ef = efSearchOf(options);
      // One statement, queued before any other on the client. pgvector 0.8+ keeps scanning the
      // graph when a filter drops candidates (strict order: results stay in distance order).
      const settings = `SET hnsw.ef_search = ${ef}${iterativeScan ? "; SET hnsw.iterative_scan = strict_order" : ""}`;
      pool.on("connect", (client) => {
        client.query(settings).catch(() => {});
      });
      // The connection `prepare` opened predates the listener: without this it searched with
      // pgvector's ef_search 40 (widened to k), not the store's.
      await pool.query(settings);
      const store = new PostgresStore(pool, options, dimension);
      // A first load whose loader died keeps its rows (each commit is its own) but not the
      // deferred index: the first opening after the lease builds it.
      await transaction(pool, (client) => store.buildDeferredIndex(client, options.loadLeaseMs ?? LOAD_LEASE_MS));
      return store;
    } catch (error) {
      await pool.end().catch(() => {});
      throw unavailable("Postgres", options.url, error);
    }
  }

  /** Creates the tables (once, under a lock) and checks the stored format and model; returns the dimension. */
  private static async prepare(
    pool: Pool,
    options: PostgresStoreOptions,
    where: string,
  ): Promise<{ dimension: number | undefined; iterativeScan: boolean }> {
    const t = tables(options.tablePrefix);
    return transaction(pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [t.meta]);
      await client.query("CREATE EXTENSION IF NOT EXISTS vector");
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${t.meta} (key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE IF NOT EXISTS ${t.sources} (
          sid bigserial PRIMARY KEY,
          path text NOT NULL UNIQUE,
          root text NOT NULL,
          source text NOT NULL,
          hash text NOT NULL,
          size bigint NOT NULL,
          mtime_ms double precision NOT NULL,
          indexed_at text NOT NULL
        );
        CREATE TABLE IF NOT EXISTS ${t.chunks} (
          label bigserial PRIMARY KEY,
          sid bigint NOT NULL REFERENCES ${t.sources}(sid) ON DELETE CASCADE,
          id text NOT NULL UNIQUE,
          text text NOT NULL,
          metadata jsonb NOT NULL,
          embedding vector NOT NULL
        );
        CREATE INDEX IF NOT EXISTS ${t.chunks}_by_source ON ${t.chunks} (sid);
      `);
      // Whole documents (WholeDocumentIndex's, kept here): each source's chunks put together, with their ids in reading order.
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${t.documents} (
          sid bigint PRIMARY KEY REFERENCES ${t.sources}(sid) ON DELETE CASCADE,
          source text NOT NULL,
          chunk_ids text[] NOT NULL
        )`);
      const hnsw = options.hnsw ?? {};
      await client.query(
        `INSERT INTO ${t.meta} (key, value) VALUES ('format', $1), ('version', $2), ('modelId', $3), ('M', $4), ('efConstruction', $5)
         ON CONFLICT (key) DO NOTHING`,
        [
          FORMAT,
          String(VERSION),
          options.modelId,
          String(hnsw.M ?? HNSW_DEFAULTS.M),
          String(hnsw.efConstruction ?? HNSW_DEFAULTS.efConstruction),
        ],
      );
      const keywords = new PostgresKeywordIndex(t.chunkPostings);
      const documents = new PostgresKeywordIndex(t.documentPostings);
      let meta = await readMeta(client, t.meta);
      if (meta.get("format") === FORMAT && meta.get("version") === "1") {
        await migrateFromVersion1(client, t.chunks, t.meta, keywords);
        meta = await readMeta(client, t.meta);
      }
      await keywords.create(client);
      await documents.create(client);
      if (meta.get("format") === FORMAT && meta.get("version") === "2") {
        await writeAllDocuments(client, t, documents);
        await client.query(`UPDATE ${t.meta} SET value = $1 WHERE key = 'version'`, [String(VERSION)]);
        meta = await readMeta(client, t.meta);
      }
      if (meta.get("format") !== FORMAT || meta.get("version") !== String(VERSION)) {
        throw new GeneraError(
          "INDEX_CORRUPT",
          `${t.meta} at ${where} is not a ${FORMAT} version ${VERSION} store (format ${meta.get("format")}, version ${meta.get("version")})`,
          { details: { url: where } },
        );
      }
      if (meta.get("modelId") !== options.modelId) {
        throw new GeneraError(
          "MODEL_MISMATCH",
          `The store at ${where} was built with embedding model "${meta.get("modelId")}", not "${options.modelId}"; use another database or table prefix, or that model`,
          { details: { url: where, expected: meta.get("modelId"), actual: options.modelId } },
        );
      }
      const { rows } = await client.query<{ v: string }>(
        "SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'",
      );
      const [major = 0, minor = 0] = (rows[0]?.v ?? "0.0").split(".").map(Number);
      return {
        dimension: meta.has("dimension") ? Number(meta.get("dimension")) : undefined,
        iterativeScan: major > 0 || minor >= 8,
      };
    });
  }

  get dimension(): number | undefined {
    return this.dim;
  }

  async counts(): Promise<{ sources: number; chunks: number }> {
    const { rows } = await this.query<{ sources: string; chunks: string }>(
      `SELECT (SELECT count(*) FROM ${this.t.sources}) AS sources, (SELECT count(*) FROM ${this.t.chunks}) AS chunks`,
    );
    return { sources: Number(rows[0]?.sources ?? 0), chunks: Number(rows[0]?.chunks ?? 0) };
  }

  async getSource(path: string): Promise<SourceRecord | undefined> {
    return (await this.sources("WHERE s.path = $1", [path]))[0];
  }

  async getSources(paths: string[]): Promise<(SourceRecord | undefined)[]> {
    if (!paths.length) return [];
    const found = new Map(
      (await this.sources("WHERE s.path = ANY($1::text[])", [paths])).map((record) => [record.path, record]),
    );
    return paths.map((path) => found.get(path));
  }

  async listSources(): Promise<SourceRecord[]> {
    return this.sources("", []);
  }

  async getChunks(ids: string[]): Promise<(Document | undefined)[]> {
    if (!ids.length) return [];
    const { rows } = await this.query<ChunkRow>(
      `SELECT id, text, metadata FROM ${this.t.chunks} WHERE id = ANY($1::text[])`,
      [ids],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const row = byId.get(id);
      return row && toDocument(row);
    });
  }

  /** BM25+ over the same analysed terms, statistics and formula as the embedded store (see PostgresKeywordIndex). */
  async keywordSearch(query: string, options: { k: number; filter?: DocumentFilter }): Promise<ScoredChunk[]> {
    this.assertOpen();
    const scoring = await this.keywords.scoring(this.pool, query);
    if (!scoring) return [];
    const sql = (where: string, limit: number) =>
      `${scoring.ranked}
       SELECT c.id, c.text, c.metadata, s.score FROM s JOIN ${this.t.chunks} c ON c.label = s.key
       WHERE true ${where} ORDER BY s.score DESC, c.id LIMIT ${limit}`;
    return this.search(sql, scoring.params, options);
  }

  /** Whole-document BM25+ (WholeDocumentIndex's documents and formula, from their own postings). */
  async documentSearch(query: string, options: { k: number }): Promise<DocumentHit[]> {
    this.assertOpen();
    const k = Math.max(0, Math.floor(options.k));
    const scoring = k ? await this.documents.scoring(this.pool, query) : undefined;
    if (!scoring) return [];
    const { rows } = await this.query<{ source: string; chunk_ids: string[]; score: number }>(
      `${scoring.ranked}
       SELECT d.source, d.chunk_ids, s.score FROM s JOIN ${this.t.documents} d ON d.sid = s.key
       ORDER BY s.score DESC, d.source LIMIT ${k}`,
      scoring.params,
    );
    return rows.map((r) => ({ source: r.source, score: Number(r.score), chunkIds: r.chunk_ids }));
  }

  async keywordStatistics(terms: string[]): Promise<{ chunks: number; frequencies: number[] }> {
    this.assertOpen();
    const { rows, df } = await this.keywords.statistics(this.pool, terms);
    return { chunks: rows, frequencies: terms.map((t) => Math.max(0, ...(df.get(t) ?? []))) };
  }

  async chunkWindows(ids: string[], window: number): Promise<(ChunkWindow | undefined)[]> {
    this.assertOpen();
    if (!ids.length) return [];
    const w = Math.max(0, Math.floor(window));
    const { rows } = await this.query<ChunkRow & { asked: string; source: string }>(
      `SELECT q.id AS asked, d.source, c.id, c.text, c.metadata
       FROM unnest($1::text[]) AS q(id)
       JOIN ${this.t.chunks} own ON own.id = q.id
       JOIN ${this.t.documents} d ON d.sid = own.sid
       CROSS JOIN LATERAL (SELECT array_position(d.chunk_ids, q.id) AS at) p
       CROSS JOIN LATERAL unnest(d.chunk_ids[greatest(1, p.at - ${w}) : p.at + ${w}]) WITH ORDINALITY AS n(id, i)
       JOIN ${this.t.chunks} c ON c.id = n.id
       ORDER BY q.id, n.i`,
      [ids],
    );
    const windows = new Map<string, ChunkWindow>();
    for (const row of rows) {
      let found = windows.get(row.asked);
      if (!found) {
        found = { source: row.source, chunks: [] };
        windows.set(row.asked, found);
      }
      found.chunks.push(toDocument(row));
    }
    return ids.map((id) => windows.get(id));
  }

  async denseSearch(vector: number[], options: { k: number; filter?: DocumentFilter }): Promise<ScoredChunk[]> {
    if (this.dim === undefined) await this.refreshDimension();
    if (this.dim === undefined) return [];
    if (vector.length !== this.dim || !vector.every(Number.isFinite)) {
      throw new GeneraError("INVALID_INPUT", `Query vector must be ${this.dim} finite numbers, got ${vector.length}`);
    }
    const run = (where: string, limit: number) =>
      `SELECT id, text, metadata, 1 - (embedding <=> $1::vector) AS score
       FROM ${this.t.chunks} WHERE true ${where} ORDER BY embedding <=> $1::vector LIMIT ${limit}`;
    if (options.k <= this.efSearch) return this.search(run, [vectorLiteral(vector)], options);
    // The HNSW scan returns at most ef_search rows: widen it for this search only.
    return transaction(this.pool, async (client) => {
      await client.query(`SET LOCAL hnsw.ef_search = ${Math.min(Math.floor(options.k), 1000)}`);
      return this.search(run, [vectorLiteral(vector)], options, client);
    });
  }

  async commit(batch: StoreBatch): Promise<void> {
    this.assertOpen();
    // What can be checked without the database is checked first, so a refused batch changes nothing.
    const dimension = checkBatch(batch.put ?? [], this.dim);
    // A path put twice: the last put wins, as if they were committed one after the other.
    const puts = [...new Map((batch.put ?? []).map((put) => [put.record.path, put])).values()];
    // The rows' text (vectors, terms, whole documents) is made before the lock is taken: no other
    // writer waits while this process analyses and formats.
    const rows = puts.length ? this.rowsOf(puts) : undefined;
    const t = this.t;
    // One writer at a time across every process sharing the store: id checks and the first
    // vector's dimension are then decided against a table no one else is changing. A commit takes
    // four round trips whatever its size (each is a wait, and over a network a latency): the lock
    // with the BEGIN; the id check, the sources' replacement and the load's mark in one statement;
    // the chunks, their postings and the whole documents in one (per INSERT_ROWS chunks); COMMIT.
    const lock = `SELECT pg_advisory_xact_lock(hashtext('${t.chunks}')), (SELECT value FROM ${t.meta} WHERE key = 'dimension') AS value`;
    await transaction(
      this.pool,
      async (client, locked) => {
        const stored = (locked?.rows[0]?.value as string | null | undefined) ?? undefined;
        if (stored !== undefined && dimension !== undefined && Number(stored) !== dimension) {
          throw new GeneraError("INVALID_INPUT", `Vectors must have ${stored} numbers (the store's), got ${dimension}`);
        }
        if (stored === undefined && dimension !== undefined && puts.some((p) => p.chunks.length)) {
          await this.startFirstLoad(client, dimension);
        }
        if (rows) await this.writeSources(client, puts, rows);
        // After the puts, whose id check sees the store as it was before this batch; a path both
        // removed and put ends as put, as if removed first.
        if (batch.remove?.length) {
          await client.query(`DELETE FROM ${t.sources} WHERE path = ANY($1::text[]) AND NOT path = ANY($2::text[])`, [
            batch.remove,
            puts.map((put) => put.record.path),
          ]);
        }
        const touched = batch.touch ?? [];
        if (touched.length) {
          await client.query(
            `UPDATE ${t.sources} s SET mtime_ms = u.mtime FROM unnest($1::text[], $2::float8[]) AS u(path, mtime) WHERE s.path = u.path`,
            [touched.map((u) => u.path), touched.map((u) => u.mtimeMs)],
          );
        }
      },
      lock,
    );
    if (dimension !== undefined && puts.some((p) => p.chunks.length)) this.dim = dimension;
  }

  /** What `writeSources` inserts, as statement parameters, but for the sources' keys (known once upserted). */
  private rowsOf(puts: SourceWrite[]) {
    const chunks = puts.flatMap((put) =>
      put.chunks.map((chunk, i) => ({ path: put.record.path, chunk, vector: put.vectors[i] as number[] })),
    );
    const slices: Array<{ paths: string[]; params: unknown[] }> = [];
    for (let start = 0; start < chunks.length; start += INSERT_ROWS) {
      const slice = chunks.slice(start, start + INSERT_ROWS);
      const analysed = this.keywords.analyse(slice.map((c) => c.chunk));
      slices.push({
        paths: slice.map((c) => c.path),
        // $2…$16 of the chunks' statement ($1: their sources' keys).
        params: [
          slice.map((c) => c.chunk.id as string),
          slice.map((c) => withoutNul(c.chunk.pageContent)),
          slice.map((c) => JSON.stringify(c.chunk.metadata ?? {}).replaceAll("\\u0000", "")),
          slice.map((c) => vectorLiteral(c.vector)),
          ...[0, 1, 2].map((f) => analysed.map((a) => a.lengths[f])),
          ...this.keywords.columns(
            slice.map((c) => c.chunk.id),
            analysed,
          ),
        ],
      });
    }
    const documents = puts.flatMap((put) => {
      const whole = wholeDocument(this.documents, put.record.source, put.chunks);
      return whole ? [{ path: put.record.path, ...whole }] : [];
    });
    return { slices, documents };
  }

  /**
   * Replaces the sources of `puts` (under the commit's lock): their rows upserted with the old
   * chunks and whole documents gone (their postings cascade), then the new chunks with their
   * postings and each source's whole document with its postings (`rows`, made beforehand).
   */
  private async writeSources(
    client: PoolClient,
    puts: SourceWrite[],
    rows: ReturnType<PostgresStore["rowsOf"]>,
  ): Promise<void> {
    const t = this.t;
    const asked = puts.flatMap((put) => put.chunks.map((c) => [c.id as string, put.record.path] as const));
    const records = puts.map((put) => put.record);
    // One statement, one snapshot: the ids are checked against the store as it was before this
    // batch (as the embedded store does); a taken one rolls the whole transaction back. A first
    // load's mark takes the time of its latest commit (no row while no load is deferred).
    const { rows: upserted } = await client.query<{
      sid: string;
      path: string;
      taken_id: string | null;
      taken_path: string;
    }>(
      `WITH taken AS (
         SELECT a.id, a.path FROM unnest($1::text[], $2::text[]) AS a(id, path)
         JOIN ${t.chunks} c ON c.id = a.id JOIN ${t.sources} o USING (sid) WHERE o.path <> a.path LIMIT 1
       ), mark AS (
         UPDATE ${t.meta} SET value = ${NOW_MS}::text WHERE key = $3
       ), s AS (
         INSERT INTO ${t.sources} (path, root, source, hash, size, mtime_ms, indexed_at)
         SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::float8[], $10::text[])
         ON CONFLICT (path) DO UPDATE SET root = excluded.root, source = excluded.source, hash = excluded.hash,
           size = excluded.size, mtime_ms = excluded.mtime_ms, indexed_at = excluded.indexed_at
         RETURNING sid, path
       ), old_chunks AS (
         DELETE FROM ${t.chunks} WHERE sid IN (SELECT sid FROM s)
       ), old_document AS (
         DELETE FROM ${t.documents} WHERE sid IN (SELECT sid FROM s)
       )
       SELECT s.sid, s.path, taken.id AS taken_id, taken.path AS taken_path FROM s LEFT JOIN taken ON true`,
      [
        asked.map(([id]) => id),
        asked.map(([, path]) => path),
        DEFERRED_INDEX,
        records.map((r) => r.path),
        records.map((r) => r.root),
        records.map((r) => r.source),
        records.map((r) => r.hash),
        records.map((r) => r.size),
        records.map((r) => r.mtimeMs),
        records.map((r) => r.indexedAt),
      ],
    );
    const conflict = upserted.find((row) => row.taken_id !== null);
    if (conflict) {
      throw new GeneraError(
        "CONFLICT",
        `Chunk id ${conflict.taken_id} of ${conflict.taken_path} is already stored for another chunk`,
        { details: { id: conflict.taken_id, path: conflict.taken_path } },
      );
    }
    const sids = new Map(upserted.map((row) => [row.path, row.sid]));
    // Whole documents go with the first statement (their rows need only the sources').
    let documents = rows.documents.map((d) => ({ ...d, sid: sids.get(d.path) }));
    for (const slice of rows.slices) {
      const params: unknown[] = [slice.paths.map((path) => sids.get(path)), ...slice.params];
      let rest = "";
      if (documents.length) {
        const at = params.length + 1;
        params.push(
          documents.map((d) => d.sid),
          documents.map((d) => d.source),
          // A text[] per document: passed as one array literal each, unnested back below.
          documents.map((d) => JSON.stringify(d.chunkIds)),
          ...[0, 1, 2].map((f) => documents.map((d) => d.analysed?.lengths[f] ?? 0)),
          ...this.documents.columns(
            documents.map((d) => d.sid),
            documents.map((d) => d.analysed ?? { terms: new Map(), lengths: [0, 0, 0] }),
          ),
        );
        rest = `, d AS (
           INSERT INTO ${t.documents} (sid, source, chunk_ids, len_title, len_headings, len_body)
           SELECT sid, source, ARRAY(SELECT e FROM jsonb_array_elements_text(ids::jsonb) WITH ORDINALITY AS x(e, n) ORDER BY n), lt, lh, lb
           FROM unnest($${at}::bigint[], $${at + 1}::text[], $${at + 2}::text[], $${at + 3}::int[], $${at + 4}::int[], $${at + 5}::int[])
             AS d(sid, source, ids, lt, lh, lb)
           RETURNING sid
         ), dp AS (${this.documents.insertSql(at + 6, "bigint", { join: "JOIN d ON d.sid = p.k", key: "d.sid" })})`;
        documents = [];
      }
      await client.query(
        `WITH c AS (
           INSERT INTO ${t.chunks} (sid, id, text, metadata, embedding, len_title, len_headings, len_body)
           SELECT sid, id, text, metadata::jsonb, embedding::vector, lt, lh, lb
           FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[]) WITH ORDINALITY
             AS c(sid, id, text, metadata, embedding, lt, lh, lb, n)
           ORDER BY n
           RETURNING id, label
         ), cp AS (${this.keywords.insertSql(9, "text", { join: "JOIN c ON c.id = p.k", key: "c.label" })})${rest}
         SELECT count(*) FROM c`,
        params,
      );
    }
  }

  /** Postgres makes every commit durable itself: there is nothing to write ahead of time. */
  async checkpoint(): Promise<void> {
    this.assertOpen();
  }

  async sizeBytes(): Promise<number> {
    const { rows } = await this.query<{ bytes: string | null }>(
      "SELECT sum(pg_total_relation_size(c))::bigint AS bytes FROM unnest($1::regclass[]) AS c",
      [
        [
          this.t.meta,
          this.t.sources,
          this.t.chunks,
          this.keywords.postings,
          this.keywords.totals,
          this.t.documents,
          this.documents.postings,
          this.documents.totals,
        ],
      ],
    );
    return Number(rows[0]?.bytes ?? 0);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /**
   * Ends a bulk load: builds the vector index a first load into an empty store deferred (once,
   * over all its rows); nothing when the index exists. KnowledgeBase calls it at the end of an
   * index run, a queue worker when the queue runs dry. Until then dense search scans exactly.
   */
  async finishLoad(): Promise<void> {
    this.assertOpen();
    await transaction(this.pool, (client) => this.buildDeferredIndex(client));
  }

  /**
   * The first vector fixes the column's length (HNSW needs one); the index waits for
   * `finishLoad`, and the load's commits keep the time of the last one (see DEFERRED_INDEX).
   */
  private async startFirstLoad(client: PoolClient, dimension: number): Promise<void> {
    const t = this.t;
    // Read again now that the lock is held: the statement that took it read meta with a snapshot
    // from before the wait, so another process may have stored the first vectors meanwhile.
    const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${t.meta} WHERE key = 'dimension'`);
    const stored = rows[0]?.value;
    if (stored !== undefined) {
      if (Number(stored) !== dimension) {
        throw new GeneraError("INVALID_INPUT", `Vectors must have ${stored} numbers (the store's), got ${dimension}`);
      }
      await client.query(`UPDATE ${t.meta} SET value = ${NOW_MS}::text WHERE key = $1`, [DEFERRED_INDEX]);
      return;
    }
    await client.query(`ALTER TABLE ${t.chunks} ALTER COLUMN embedding TYPE vector(${dimension})`);
    await client.query(`INSERT INTO ${t.meta} (key, value) VALUES ('dimension', $1), ($2, ${NOW_MS}::text)`, [
      String(dimension),
      DEFERRED_INDEX,
    ]);
  }

  /**
   * Builds the deferred index with the parameters the store recorded when it was created, under
   * the commits' lock (no row goes in meanwhile), and clears the mark in the same transaction: a
   * crash during the build leaves the mark, and the next `finishLoad` or opening builds it again.
   * With `idleMs` (an opening), only when the load's last commit is at least that old and no one
   * holds the lock: a commit or a build going on means the load is alive, and an opening must not
   * wait minutes for someone else's build.
   */
  private async buildDeferredIndex(client: PoolClient, idleMs?: number): Promise<void> {
    const t = this.t;
    const mark = `(SELECT value FROM ${t.meta} WHERE key = $2) AS since, ${NOW_MS} AS now`;
    const lock =
      idleMs === undefined
        ? "(SELECT true FROM pg_advisory_xact_lock(hashtext($1)))"
        : "pg_try_advisory_xact_lock(hashtext($1))";
    if (idleMs !== undefined) {
      const { rows } = await client.query<{ since: string | null; now: string }>(`SELECT ${mark.replace("$2", "$1")}`, [
        DEFERRED_INDEX,
      ]);
      if (rows[0]?.since == null || Number(rows[0].now) - Number(rows[0].since) < idleMs) return;
    }
    const { rows } = await client.query<{ locked: boolean | null; since: string | null; now: string }>(
      `SELECT ${lock} AS locked, ${mark}`,
      [t.chunks, DEFERRED_INDEX],
    );
    const since = rows[0]?.since;
    if (!rows[0]?.locked || since == null) return;
    if (idleMs !== undefined && Number(rows[0]?.now) - Number(since) < idleMs) return;
    const meta = await readMeta(client, t.meta);
    const m = Math.floor(Number(meta.get("M") ?? HNSW_DEFAULTS.M));
    const efConstruction = Math.floor(Number(meta.get("efConstruction") ?? HNSW_DEFAULTS.efConstruction));
    const { rows: count } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${t.chunks}`);
    const needKB = hnswBuildMemoryKB(Number(count[0]?.n ?? 0), Number(meta.get("dimension") ?? 0), m);
    await raiseBuildMemory(client, needKB, this.indexBuildMemoryMB);
    await client.query(
      `CREATE INDEX IF NOT EXISTS ${t.chunks}_embedding ON ${t.chunks}
       USING hnsw (embedding vector_cosine_ops) WITH (m = ${m}, ef_construction = ${efConstruction})`,
    );
    await client.query(`DELETE FROM ${t.meta} WHERE key = $1`, [DEFERRED_INDEX]);
  }

  private async refreshDimension(): Promise<void> {
    const { rows } = await this.query<{ value: string }>(`SELECT value FROM ${this.t.meta} WHERE key = 'dimension'`);
    if (rows[0]) this.dim = Number(rows[0].value);
  }

  /**
   * Runs a ranked query with the filter: a metadata object becomes SQL (jsonb equality per key,
   * as `matchesFilter` compares), a predicate is applied here to a growing window of candidates.
   */
  private async search(
    sql: (where: string, limit: number) => string,
    params: unknown[],
    options: { k: number; filter?: DocumentFilter },
    client?: PoolClient,
  ): Promise<ScoredChunk[]> {
    this.assertOpen();
    const k = Math.max(0, Math.floor(options.k));
    if (k === 0) return [];
    const filter = options.filter;
    const run = (text: string, values: unknown[]) =>
      client
        ? client.query<ChunkRow & { score: number }>(text, values)
        : this.query<ChunkRow & { score: number }>(text, values);
    if (typeof filter !== "function") {
      const { where, values } = filterSql(filter, params.length + 1);
      const { rows } = await run(sql(where, k), [...params, ...values]);
      return rows.map((row) => ({ document: toDocument(row), score: Number(row.score) }));
    }
    for (let limit = k * 4; ; limit *= 4) {
      const { rows } = await run(sql("", limit), params);
      const kept = rows
        .map((row) => ({ document: toDocument(row), score: Number(row.score) }))
        .filter((hit) => matchesFilter(hit.document, filter));
      if (kept.length >= k || rows.length < limit) return kept.slice(0, k);
    }
  }

  private async sources(where: string, params: unknown[]): Promise<SourceRecord[]> {
    const { rows } = await this.query<SourceRow>(
      `SELECT s.path, s.root, s.source, s.hash, s.size, s.mtime_ms, s.indexed_at,
         coalesce((SELECT array_agg(c.id ORDER BY c.label) FROM ${this.t.chunks} c WHERE c.sid = s.sid), '{}') AS chunk_ids
       FROM ${this.t.sources} s ${where} ORDER BY s.sid`,
      params,
    );
    return rows.map((r) => ({
      path: r.path,
      root: r.root,
      source: r.source,
      hash: r.hash,
      size: Number(r.size),
      mtimeMs: Number(r.mtime_ms),
      indexedAt: r.indexed_at,
      chunkIds: r.chunk_ids,
    }));
  }

  private query<R extends QueryResultRow>(text: string, values: unknown[] = []) {
    this.assertOpen();
    return this.pool.query<R>(text, values);
  }

  private assertOpen(): void {
    if (this.closed)
      throw new GeneraError("INVALID_INPUT", `The Postgres store at ${redact(this.options.url)} is closed`);
  }
}

interface ChunkRow {
  id: string;
  text: string;
  metadata: Record<string, unknown>;
}

interface SourceRow {
  path: string;
  root: string;
  source: string;
  hash: string;
  size: string;
  mtime_ms: number;
  indexed_at: string;
  chunk_ids: string[];
}

type Tables = ReturnType<typeof tables>;

function tables(prefix = "genera") {
  const chunks = `${prefix}_chunks`;
  const documents = `${prefix}_documents`;
  return {
    meta: `${prefix}_meta`,
    sources: `${prefix}_sources`,
    chunks,
    documents,
    chunkPostings: { owner: chunks, key: "label", postings: `${prefix}_postings`, totals: `${prefix}_keyword_totals` },
    documentPostings: {
      owner: documents,
      key: "sid",
      postings: `${prefix}_document_postings`,
      totals: `${prefix}_document_totals`,
    },
  };
}

/**
 * A source's whole document: its chunks put together as WholeDocumentIndex puts them (grouped by
 * their `source`, as there), with its analysed terms. No chunks, no document.
 */
function wholeDocument(documents: PostgresKeywordIndex, recordSource: string, chunks: Document[]) {
  if (!chunks.length) return undefined;
  const named = chunks[0]?.metadata?.source;
  const source = typeof named === "string" && named !== "" ? named : recordSource;
  const whole = assembleSource(
    source,
    chunks.map((doc) => ({ id: doc.id as string, doc })),
  );
  const [analysed] = documents.analyse([whole.document]);
  return { source, chunkIds: whole.chunkIds, analysed };
}

/** Writes a source's whole document (its old one already deleted) with its postings, in one statement. */
async function writeDocument(
  client: PoolClient,
  t: Tables,
  documents: PostgresKeywordIndex,
  sid: string,
  recordSource: string,
  chunks: Document[],
): Promise<void> {
  const whole = wholeDocument(documents, recordSource, chunks);
  if (!whole) return;
  const lengths = whole.analysed?.lengths ?? [0, 0, 0];
  await documents.write(client, [sid], whole.analysed ? [whole.analysed] : [], {
    sql: `INSERT INTO ${t.documents} (sid, source, chunk_ids, len_title, len_headings, len_body) VALUES ($1, $2, $3, $4, $5, $6)`,
    params: [sid, whole.source, whole.chunkIds, ...lengths],
  });
}

/** Version 2 had no whole documents: each source's gets built from its stored chunks (in the opening transaction). */
async function writeAllDocuments(client: PoolClient, t: Tables, documents: PostgresKeywordIndex): Promise<void> {
  // Whatever an older store kept there is rebuilt (their postings cascade).
  await client.query(`DELETE FROM ${t.documents}`);
  const { rows: sources } = await client.query<{ sid: string; source: string }>(
    `SELECT sid, source FROM ${t.sources} ORDER BY sid`,
  );
  for (const { sid, source } of sources) {
    const { rows } = await client.query<ChunkRow>(
      `SELECT id, text, metadata FROM ${t.chunks} WHERE sid = $1 ORDER BY label`,
      [sid],
    );
    await writeDocument(client, t, documents, sid, source, rows.map(toDocument));
  }
}

async function readMeta(client: PoolClient, table: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ key: string; value: string }>(`SELECT key, value FROM ${table}`);
  return new Map(rows.map((r) => [r.key, r.value]));
}

/**
 * A vector as pgvector's text input, at the single precision pgvector stores: nine significant
 * digits give back the same float, and the text is about a third shorter than a double's (less
 * to send and to parse, per chunk).
 */
function vectorLiteral(vector: number[]): string {
  return `[${vector.map((x) => Number(Math.fround(x).toPrecision(9))).join(",")}]`;
}

function toDocument(row: ChunkRow): Document {
  return new Document({ id: row.id, pageContent: row.text, metadata: row.metadata });
}

/** A metadata filter object as SQL: every key's value must equal (jsonb equality is structural). */
function filterSql(
  filter: Record<string, unknown> | undefined,
  firstParam: number,
): { where: string; values: unknown[] } {
  if (filter === undefined || filter === null) return { where: "", values: [] };
  if (typeof filter !== "object" || Array.isArray(filter)) {
    throw new GeneraError("INVALID_INPUT", "A search filter must be a metadata object or a predicate function");
  }
  const parts: string[] = [];
  const values: unknown[] = [];
  for (const [key, expected] of Object.entries(filter)) {
    values.push(key);
    const keyParam = `$${firstParam + values.length - 1}`;
    if (expected === undefined) {
      parts.push(`NOT (metadata ? ${keyParam})`);
      continue;
    }
    values.push(JSON.stringify(expected));
    parts.push(`metadata -> ${keyParam} = $${firstParam + values.length - 1}::jsonb`);
  }
  return { where: parts.map((p) => `AND ${p}`).join(" "), values };
}

/**
 * Version 1 kept keywords as a tsvector ranked by ts_rank: its chunks get postings from their
 * stored text (the analyser's terms, as new chunks get them) and lose the tsvector, in the opening
 * transaction, so a reader never sees a half-migrated store.
 */
async function migrateFromVersion1(
  client: PoolClient,
  chunks: string,
  meta: string,
  keywords: PostgresKeywordIndex,
): Promise<void> {
  await keywords.create(client);
  const batch = 1_000;
  for (let after = "0"; ; ) {
    const { rows } = await client.query<ChunkRow & { label: string }>(
      `SELECT label, id, text, metadata FROM ${chunks} WHERE label > $1 ORDER BY label LIMIT ${batch}`,
      [after],
    );
    if (!rows.length) break;
    const analysed = keywords.analyse(rows.map(toDocument));
    await client.query(
      `UPDATE ${chunks} c SET len_title = u.lt, len_headings = u.lh, len_body = u.lb
       FROM unnest($1::bigint[], $2::int[], $3::int[], $4::int[]) AS u(label, lt, lh, lb) WHERE c.label = u.label`,
      [rows.map((r) => r.label), ...[0, 1, 2].map((f) => analysed.map((a) => a.lengths[f]))],
    );
    await keywords.write(
      client,
      rows.map((r) => r.label),
      analysed,
    );
    after = rows[rows.length - 1]?.label as string;
  }
  // The totals row was filled before the lengths were: count again.
  await client.query(
    `UPDATE ${keywords.totals} SET (chunks, len_title, len_headings, len_body) =
       (SELECT count(*), coalesce(sum(len_title), 0), coalesce(sum(len_headings), 0), coalesce(sum(len_body), 0) FROM ${chunks})`,
  );
  await client.query(`ALTER TABLE ${chunks} DROP COLUMN IF EXISTS terms`);
  await client.query(`UPDATE ${meta} SET value = '2' WHERE key = 'version'`);
}

/**
 * What pgvector's HNSW build keeps in memory for `rows` vectors: per row the vector (4 bytes a
 * dimension), its layer-0 neighbour list (2m candidates of 16 bytes) and the element itself,
 * about 2.2 KB at 384 dimensions and m 16, with a quarter to spare.
 */
export function hnswBuildMemoryKB(rows: number, dimension: number, m: number): number {
  return Math.ceil((rows * (dimension * 4 + m * 2 * 16 + 128) * 1.25) / 1024);
}

/**
 * Raises `maintenance_work_mem` for the client's transaction (SET LOCAL: the commit restores it)
 * to `needKB`, at most `capMB`; a server already set higher keeps its setting.
 */
export async function raiseBuildMemory(client: ClientBase, needKB: number, capMB: number): Promise<void> {
  const kb = Math.min(Math.ceil(needKB), Math.floor(capMB * 1024));
  if (!(kb > 0)) return;
  await client.query(
    `SELECT set_config('maintenance_work_mem', $1, true)
     WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < $2::bigint * 1024`,
    [`${kb}kB`, kb],
  );
}

function efSearchOf(options: PostgresStoreOptions): number {
  return Math.max(1, Math.floor(options.efSearch ?? HNSW_DEFAULTS.efSearch));
}

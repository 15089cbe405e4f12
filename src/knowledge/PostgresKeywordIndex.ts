import type { DocumentInterface } from "@langchain/core/documents";
import type { Pool, PoolClient } from "pg";
import {
  BM25_PARAMETERS,
  bm25Idf,
  DEFAULT_KEYWORD_BOOSTS,
  type KeywordFieldBoosts,
  KeywordIndex,
  selectiveTerms,
} from "../../vectorstores/KeywordIndex.js";

/** A btree entry must stay under ~2.7 KB; a "term" that long is never searched for anyway. */
const MAX_TERM_BYTES = 2_000;
const FIELDS = ["title", "headings", "body"] as const;

/** One chunk's postings: term → occurrences per field, and its fields' lengths (distinct terms, as MiniSearch counts). */
interface ChunkPostings {
  terms: Map<string, [number, number, number]>;
  lengths: [number, number, number];
}

/** Where one BM25 index keeps its rows: what it scores (chunks, or whole documents) and its postings. */
export interface PostingsTables {
  /** The table of the scored rows (it gets the field-length columns) and its bigint key column. */
  owner: string;
  key: string;
  postings: string;
  /** The one-row corpus totals. */
  totals: string;
}

/** The corpus statistics of some analysed terms: rows scored, and per term its rows per field. */
export interface TermStatistics {
  rows: number;
  /** term → rows holding it in title, headings, body (terms held nowhere are absent). */
  df: Map<string, readonly [number, number, number]>;
  lengths: readonly [number, number, number];
}

/**
 * The keyword sides of the Postgres store: the same BM25+ as the embedded KeywordIndex, computed in
 * SQL from postings of the same analyser's terms. Two of them: over chunks, and over whole
 * documents (each source's chunks put together as WholeDocumentIndex does). Each scored row's terms
 * are a row per distinct term (`postings`: occurrences in title, headings and body, and the row's
 * field lengths), and a one-row table holds the corpus totals (rows, summed field lengths), kept by
 * triggers on the owner table so that every insert and (cascading) delete moves them in the same transaction.
 * A search reads the document frequencies of the query's terms, lets only the selective ones bring
 * a row into the results (common terms add to those only) as the embedded index does, and scores
 * every matching row with MiniSearch's formula: per field
 * boost × idf × (δ + tf (k1 + 1) / (tf + k1 (1 − b + b · len / avgLen))), summed, times the number
 * of query terms matched. Same terms, same statistics, same formula: the same scores.
 */
export class PostgresKeywordIndex {
  private readonly analyser = new KeywordIndex();
  readonly postings: string;
  readonly totals: string;
  private readonly owner: string;
  private readonly key: string;
  private readonly boosts: Readonly<KeywordFieldBoosts>;

  /** `boosts`: the field weights (default DEFAULT_KEYWORD_BOOSTS), as KeywordIndex's option. */
  constructor(tables: PostingsTables, boosts: Readonly<KeywordFieldBoosts> = DEFAULT_KEYWORD_BOOSTS) {
    this.boosts = boosts;
    this.owner = tables.owner;
    this.key = tables.key;
    this.postings = tables.postings;
    this.totals = tables.totals;
  }

  /** Tables, the totals row and the triggers that keep it, unless they exist (run under the store's lock). */
  async create(client: PoolClient): Promise<void> {
    const { owner: chunks, key, postings, totals } = this;
    const { rows } = await client.query<{ r: string | null; fk: string | null }>(
      `SELECT to_regclass($1)::text AS r,
         (SELECT conname FROM pg_constraint WHERE conrelid = to_regclass($2) AND contype = 'f' LIMIT 1) AS fk`,
      [totals, postings],
    );
    if (rows[0]?.fk) await this.cascadeByTrigger(client, rows[0].fk);
    if (rows[0]?.r) return;
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${postings} (
        term text NOT NULL,
        ${key} bigint NOT NULL,
        tf_title int NOT NULL, tf_headings int NOT NULL, tf_body int NOT NULL,
        len_title int NOT NULL, len_headings int NOT NULL, len_body int NOT NULL,
        PRIMARY KEY (term, ${key})
      );
      CREATE INDEX IF NOT EXISTS ${postings}_by_owner ON ${postings} (${key});
      ALTER TABLE ${chunks} ADD COLUMN IF NOT EXISTS len_title int NOT NULL DEFAULT 0;
      ALTER TABLE ${chunks} ADD COLUMN IF NOT EXISTS len_headings int NOT NULL DEFAULT 0;
      ALTER TABLE ${chunks} ADD COLUMN IF NOT EXISTS len_body int NOT NULL DEFAULT 0;
      CREATE TABLE IF NOT EXISTS ${totals} (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        chunks bigint NOT NULL, len_title bigint NOT NULL, len_headings bigint NOT NULL, len_body bigint NOT NULL
      );
      INSERT INTO ${totals} (chunks, len_title, len_headings, len_body)
        SELECT count(*), coalesce(sum(len_title), 0), coalesce(sum(len_headings), 0), coalesce(sum(len_body), 0)
        FROM ${chunks}
        ON CONFLICT (one) DO NOTHING;
      CREATE OR REPLACE FUNCTION ${totals}_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        UPDATE ${totals} SET chunks = chunks + d.n, len_title = len_title + d.t, len_headings = len_headings + d.h, len_body = len_body + d.b
        FROM (SELECT count(*) AS n, coalesce(sum(len_title), 0) AS t, coalesce(sum(len_headings), 0) AS h,
                     coalesce(sum(len_body), 0) AS b FROM changed) d;
        RETURN NULL; END $$;
      CREATE OR REPLACE FUNCTION ${totals}_remove() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        UPDATE ${totals} SET chunks = chunks - d.n, len_title = len_title - d.t, len_headings = len_headings - d.h, len_body = len_body - d.b
        FROM (SELECT count(*) AS n, coalesce(sum(len_title), 0) AS t, coalesce(sum(len_headings), 0) AS h,
                     coalesce(sum(len_body), 0) AS b FROM changed) d;
        RETURN NULL; END $$;
      CREATE TRIGGER ${totals}_on_insert AFTER INSERT ON ${chunks}
        REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${totals}_add();
      CREATE TRIGGER ${totals}_on_delete AFTER DELETE ON ${chunks}
        REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ${totals}_remove();
    `);
    await this.cascadeByTrigger(client);
  }

  /**
   * A scored row's postings go with it, by one DELETE per statement that deletes rows (a trigger
   * over the deleted rows), not by a foreign key: a key checked each posting as it went in, a
   * row-level check per posting that took a third of a commit's time in the store (2,207 checks
   * for a file of 20 chunks), and deleted them one scored row at a time. Only the store writes
   * postings, always with their row, in the same transaction. `foreignKey`: the constraint an older
   * store has, dropped in the same transaction (under the opening's lock).
   */
  private async cascadeByTrigger(client: PoolClient, foreignKey?: string): Promise<void> {
    const { owner, key, postings } = this;
    await client.query(`
      ${foreignKey ? `ALTER TABLE ${postings} DROP CONSTRAINT "${foreignKey.replaceAll(`"`, `""`)}";` : ""}
      CREATE OR REPLACE FUNCTION ${postings}_cascade() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        DELETE FROM ${postings} WHERE ${key} = ANY (ARRAY(SELECT ${key} FROM gone));
        RETURN NULL; END $$;
      DROP TRIGGER IF EXISTS ${postings}_on_owner_delete ON ${owner};
      CREATE TRIGGER ${postings}_on_owner_delete AFTER DELETE ON ${owner}
        REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION ${postings}_cascade();
    `);
  }

  /** The field lengths to store with each chunk (parallel to `docs`), computed once for `write`. */
  analyse(docs: DocumentInterface[]): ChunkPostings[] {
    return docs.map((doc) => {
      const fields = this.analyser.termsOf(doc);
      const terms = new Map<string, [number, number, number]>();
      const lengths: [number, number, number] = [0, 0, 0];
      FIELDS.forEach((field, f) => {
        const seen = new Set<string>();
        for (const term of fields[field].split(" ")) {
          if (!term) continue;
          seen.add(term);
          if (Buffer.byteLength(term) > MAX_TERM_BYTES) continue;
          let tf = terms.get(term);
          if (!tf) {
            tf = [0, 0, 0];
            terms.set(term, tf);
          }
          tf[f]++;
        }
        lengths[f] = seen.size;
      });
      return { terms, lengths };
    });
  }

  /**
   * Inserts the postings of rows just inserted (their keys, parallel to `analysed`). `first`, a
   * data-modifying statement with its parameters, runs in the same statement ahead of them (one
   * round trip instead of two: the owner row and its postings).
   */
  async write(
    client: PoolClient,
    labels: string[],
    analysed: ChunkPostings[],
    first?: { sql: string; params: unknown[] },
  ): Promise<void> {
    if (!first && !analysed.some((a) => a.terms.size)) return;
    const at = (first?.params.length ?? 0) + 1;
    await client.query(`${first ? `WITH first AS (${first.sql}) ` : ""}${this.insertSql(at, "bigint")}`, [
      ...(first?.params ?? []),
      ...this.columns(labels, analysed),
    ]);
  }

  /**
   * The postings of rows (`keys` parallel to `analysed`) as the eight parameters `insertSql`
   * reads: key, term, occurrences in title, headings, body, the row's field lengths.
   */
  columns(keys: unknown[], analysed: ChunkPostings[]): unknown[][] {
    const cols: unknown[][] = [[], [], [], [], [], [], [], []];
    analysed.forEach(({ terms, lengths }, i) => {
      for (const [term, tf] of terms) {
        cols[0]?.push(keys[i]);
        cols[1]?.push(term);
        cols[2]?.push(tf[0]);
        cols[3]?.push(tf[1]);
        cols[4]?.push(tf[2]);
        cols[5]?.push(lengths[0]);
        cols[6]?.push(lengths[1]);
        cols[7]?.push(lengths[2]);
      }
    });
    return cols;
  }

  /**
   * An INSERT of the postings in `columns`' parameters ($at…$at+7). The key column holds `keyType`
   * values; `keyed` maps them to the stored keys when the rows get theirs in the same statement
   * (a join on a data-modifying WITH: chunk ids to the labels their INSERT returned).
   */
  insertSql(at: number, keyType: "bigint" | "text", keyed?: { join: string; key: string }): string {
    const p = (n: number, type: string) => `$${at + n}::${type}[]`;
    return `INSERT INTO ${this.postings} (term, ${this.key}, tf_title, tf_headings, tf_body, len_title, len_headings, len_body)
       SELECT p.term, ${keyed?.key ?? "p.k"}, p.tt, p.th, p.tb, p.lt, p.lh, p.lb
       FROM unnest(${p(0, keyType)}, ${p(1, "text")}, ${[2, 3, 4, 5, 6, 7].map((n) => p(n, "int")).join(", ")})
         AS p(k, term, tt, th, tb, lt, lh, lb) ${keyed?.join ?? ""}`;
  }

  /** The query's analysed terms as this index stores them (distinct, in query order). */
  terms(text: string): string[] {
    return [...new Set(this.analyser.analyze(text))].filter((t) => Buffer.byteLength(t) <= MAX_TERM_BYTES);
  }

  /** Rows scored and the document frequencies of `terms` per field. */
  async statistics(pool: Pool, terms: string[]): Promise<TermStatistics> {
    const [{ rows: totalsRows }, { rows: dfRows }] = await Promise.all([
      pool.query<{ chunks: string; len_title: string; len_headings: string; len_body: string }>(
        `SELECT chunks, len_title, len_headings, len_body FROM ${this.totals}`,
      ),
      terms.length
        ? pool.query<{ term: string; title: string; headings: string; body: string }>(
            `SELECT term, count(*) FILTER (WHERE tf_title > 0) AS title, count(*) FILTER (WHERE tf_headings > 0) AS headings,
               count(*) FILTER (WHERE tf_body > 0) AS body
             FROM ${this.postings} WHERE term = ANY($1::text[]) GROUP BY term`,
            [terms],
          )
        : { rows: [] },
    ]);
    const totals = totalsRows[0];
    return {
      rows: Number(totals?.chunks ?? 0),
      df: new Map(dfRows.map((r) => [r.term, [Number(r.title), Number(r.headings), Number(r.body)]] as const)),
      lengths: [Number(totals?.len_title ?? 0), Number(totals?.len_headings ?? 0), Number(totals?.len_body ?? 0)],
    };
  }

  /**
   * The scoring of `query`, or undefined when no term of it is stored: `ranked` is a WITH clause
   * defining `s(key, score)` over every matching row, for the caller to join and order; `params`
   * are its parameters ($1…$8).
   */
  async scoring(pool: Pool, query: string): Promise<{ ranked: string; params: unknown[] } | undefined> {
    const asked = this.terms(query);
    if (!asked.length) return undefined;
    const { rows: n, df, lengths } = await this.statistics(pool, asked);
    if (!n || !df.size) return undefined;
    // Query order, as the embedded index adds up its terms (floating-point sums then agree too).
    const terms = asked.filter((t) => df.has(t));
    const selective = selectiveTerms(terms, (t) => Math.max(...(df.get(t) as readonly number[])), n);
    // Common terms only add to rows that hold a selective term (KeywordSearchOptions.maxDocFrequency).
    const restricted = selective.length < terms.length;
    const idf = FIELDS.map((_, f) => terms.map((t) => bm25Idf(n, (df.get(t) as readonly number[])[f] as number)));
    // An empty field everywhere has no average; no row has a term there, so any positive value does.
    const avg = lengths.map((sum) => sum / n || 1);
    const { k, b, d } = BM25_PARAMETERS;
    const boost = this.boosts;
    // A field weighted 0 is left out, as KeywordIndex leaves it out: a term found only there
    // neither brings a row in nor counts as matched.
    const weighted = FIELDS.filter((field) => boost[field] > 0);
    const held = (row: string) =>
      weighted.length === FIELDS.length
        ? ""
        : `AND (${weighted.map((f) => `${row}tf_${f} > 0`).join(" OR ") || "false"})`;
    const share = (field: string, f: number, weight: number) =>
      weight > 0
        ? `CASE WHEN p.tf_${field} > 0 THEN ${weight} * q.idf_${field} * (${d} + p.tf_${field} * ${k + 1} /
             (p.tf_${field} + ${k} * (${1 - b} + ${b} * p.len_${field} / $${5 + f}::float8))) ELSE 0 END`
        : `0 * $${5 + f}::float8`; // the parameter still needs its type
    const ranked = `WITH q AS (
         SELECT * FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[]) AS q(term, idf_title, idf_headings, idf_body)
       ), s AS (
         SELECT p.${this.key} AS key,
           sum(${share("title", 0, boost.title)} + ${share("headings", 1, boost.headings)} + ${share("body", 2, boost.body)})
             * count(*) AS score
         FROM ${this.postings} p JOIN q USING (term)
         WHERE true ${held("p.")}
         ${restricted ? `AND p.${this.key} IN (SELECT ${this.key} FROM ${this.postings} WHERE term = ANY($8::text[]) ${held("")})` : ""}
         GROUP BY p.${this.key}
       )`;
    const params: unknown[] = [terms, idf[0], idf[1], idf[2], avg[0], avg[1], avg[2]];
    if (restricted) params.push(selective);
    return { ranked, params };
  }
}

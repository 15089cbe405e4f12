import { Document } from "@langchain/core/documents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SourceWrite } from "../../src/knowledge/KnowledgeStore.js";
import { hnswBuildMemoryKB, PostgresStore, raiseBuildMemory } from "../../src/knowledge/PostgresStore.js";
import { KeywordIndex } from "../../vectorstores/KeywordIndex.js";
import { WholeDocumentIndex } from "../../vectorstores/WholeDocumentIndex.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { storeContract } from "./storeContract.js";

let pg: TestPostgres;
let prefix = "";
let n = 0;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

// Each test gets its own tables in the one server (a fresh prefix), as separate stores would.
const open = () => PostgresStore.open({ url: pg.url, modelId: "hash-32", tablePrefix: prefix, maxConnections: 1 });
storeContract({
  name: "PostgresStore",
  open() {
    prefix = `t${++n}`;
    return open();
  },
  reopen: open,
});

describe("PostgresStore", () => {
  it("refuses a store built with another embedding model", async () => {
    const store = await PostgresStore.open({
      url: pg.url,
      modelId: "model-a",
      tablePrefix: "models",
      maxConnections: 1,
    });
    await store.close();
    await expect(
      PostgresStore.open({ url: pg.url, modelId: "model-b", tablePrefix: "models", maxConnections: 1 }),
    ).rejects.toMatchObject({ code: "MODEL_MISMATCH" });
  });

  it("gives its index build the memory its rows need, for the build's transaction only, never less than the server's", async () => {
    // About 2.2 KB a row at 384 dimensions and m 16 (pgvector's graph), with a quarter to spare.
    expect(hnswBuildMemoryKB(100_000, 384, 16) / 100_000).toBeGreaterThan(2);
    expect(hnswBuildMemoryKB(100_000, 384, 16) / 100_000).toBeLessThan(3.5);
    expect(hnswBuildMemoryKB(200_000, 384, 16)).toBeGreaterThan(hnswBuildMemoryKB(100_000, 384, 16));
    const { default: pgClient } = await import("pg");
    const client = new pgClient.Client({ connectionString: pg.url });
    await client.connect();
    const setting = async () =>
      (await client.query<{ maintenance_work_mem: string }>("SHOW maintenance_work_mem")).rows[0]?.maintenance_work_mem;
    const during = async (needKB: number, capMB: number) => {
      await client.query("BEGIN");
      await raiseBuildMemory(client, needKB, capMB);
      const value = await setting();
      await client.query("COMMIT");
      return value;
    };
    try {
      const before = await setting();
      expect(before).toBe("64MB");
      expect(await during(200 * 1024, 1024)).toBe("200MB");
      expect(await setting()).toBe(before);
      expect(await during(200 * 1024, 100)).toBe("100MB");
      expect(await during(200 * 1024, 0)).toBe(before);
      expect(await during(1024, 1024)).toBe(before);
      await client.query("SET maintenance_work_mem = '512MB'");
      expect(await during(200 * 1024, 1024)).toBe("512MB");
    } finally {
      await client.query("RESET maintenance_work_mem");
      await client.end();
    }
  });

  it("builds its HNSW index with the parameters recorded when the store was created (default m 16, ef_construction 64)", async () => {
    const vectors = (n: number) => Array.from({ length: n }, (_, i) => [1, i + 1, 0.5]);
    const write = (path: string) => ({
      record: { path, root: "/r", source: path, hash: path, size: 1, mtimeMs: 0, indexedAt: new Date(0).toISOString() },
      chunks: [new Document({ id: `${path}#0`, pageContent: "alpha" })],
      vectors: vectors(1),
    });
    const indexDef = async (prefix: string) => {
      const { default: pgClient } = await import("pg");
      const client = new pgClient.Client({ connectionString: pg.url });
      await client.connect();
      const { rows } = await client.query<{ indexdef: string }>(
        "SELECT indexdef FROM pg_indexes WHERE indexname = $1",
        [`${prefix}_chunks_embedding`],
      );
      await client.end();
      return rows[0]?.indexdef ?? "";
    };
    const plain = await PostgresStore.open({
      url: pg.url,
      modelId: "m",
      tablePrefix: "hnsw_default",
      maxConnections: 1,
    });
    await plain.commit({ put: [write("/r/a.md")] });
    await plain.finishLoad();
    await plain.close();
    expect(await indexDef("hnsw_default")).toMatch(/m='?16'?, ef_construction='?64'?/);
    // A store created with its own parameters keeps them, whoever opens it first with a vector.
    const first = await PostgresStore.open({
      url: pg.url,
      modelId: "m",
      tablePrefix: "hnsw_own",
      maxConnections: 1,
      hnsw: { M: 8, efConstruction: 40 },
    });
    await first.close();
    const second = await PostgresStore.open({ url: pg.url, modelId: "m", tablePrefix: "hnsw_own", maxConnections: 1 });
    await second.commit({ put: [write("/r/b.md")] });
    await second.finishLoad();
    expect(await indexDef("hnsw_own")).toMatch(/m='?8'?, ef_construction='?40'?/);
    // Vectors go over the wire at single precision, which is what pgvector keeps: the scores agree.
    const hits = await second.denseSearch([1, 1, 0.5], { k: 1 });
    expect(hits[0]?.score).toBeCloseTo(1, 6);
    await second.close();
  });

  it("names the server it cannot reach, without the password", async () => {
    const error = await PostgresStore.open({
      url: "postgres://genera:secret@127.0.0.1:1/none",
      modelId: "m",
      maxConnections: 1,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PROVIDER_UNAVAILABLE" });
    expect(String((error as Error).message)).toContain("127.0.0.1:1");
    expect(String((error as Error).message)).not.toContain("secret");
  });
});

describe("PostgresStore keyword scores", () => {
  /** 320 chunks (past the 200 where unselective query terms are dropped) with titles and headings. */
  function corpus(): SourceWrite[] {
    const words = "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega rho tau phi chi psi".split(" ");
    const embeddings = new HashEmbeddings({ dimension: 32 });
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    return Array.from({ length: 40 }, (_, f) => {
      const texts = Array.from({ length: 8 }, () =>
        Array.from({ length: 5 + (next() % 30) }, () => words[next() % words.length]).join(" "),
      );
      const chunks = texts.map(
        (text, c) =>
          new Document({
            id: `doc${f}#${c}`,
            pageContent: `${text} common${c % 2 ? " rare" : ""}`,
            metadata: { title: `${words[f % words.length]} file ${f}`, headings: [`Part ${c}`, words[c] as string] },
          }),
      );
      return {
        record: {
          path: `/corpus/doc${f}.md`,
          root: "/corpus",
          source: `doc${f}.md`,
          hash: `h${f}`,
          size: 1,
          mtimeMs: 1,
          indexedAt: "2026-12-06T12:00:00.000Z",
        },
        chunks,
        vectors: texts.map((t) => embeddings.embedText(t)),
      };
    });
  }

  it("are the embedded KeywordIndex's BM25+ scores, after updates and removals too", async () => {
    const store = await PostgresStore.open({ url: pg.url, modelId: "hash-32", tablePrefix: "bm25", maxConnections: 1 });
    try {
      const writes = corpus();
      await store.commit({ put: writes });
      // Replace one source and remove another: the corpus totals must follow.
      const changed = corpus().slice(0, 1);
      (changed[0] as SourceWrite).chunks = (changed[0] as SourceWrite).chunks.slice(0, 3);
      (changed[0] as SourceWrite).vectors = (changed[0] as SourceWrite).vectors.slice(0, 3);
      await store.commit({ put: changed, remove: ["/corpus/doc5.md"] });
      const index = new KeywordIndex();
      index.add(
        [...changed, ...writes.slice(1)].filter((w) => w.record.path !== "/corpus/doc5.md").flatMap((w) => w.chunks),
      );
      for (const query of [
        "alpha rare",
        "gamma delta common",
        "Part 3 sigma",
        "omega file 12",
        "zeta",
        "nothing-here",
      ]) {
        const expected = index.search(query, { k: 10 });
        const actual = await store.keywordSearch(query, { k: 10 });
        expect(actual.map((h) => h.document.id)).toEqual(expected.map((h) => h.id));
        actual.forEach((hit, i) => {
          expect(hit.score).toBeCloseTo(expected[i]?.score as number, 9);
        });
      }
      const filtered = await store.keywordSearch("alpha", { k: 5, filter: { title: "alpha file 16" } });
      expect(filtered.map((h) => h.document.id)).toEqual(
        index.search("alpha", { k: 5, filter: { title: "alpha file 16" } }).map((h) => h.id),
      );
    } finally {
      await store.close();
    }
  });

  it("drops the postings of replaced and removed rows; a store with foreign keys on its postings gets the trigger", async () => {
    const open = () => PostgresStore.open({ url: pg.url, modelId: "hash-32", tablePrefix: "fk", maxConnections: 1 });
    let store = await open();
    await store.commit({ put: corpus().slice(0, 6) });
    await store.close();
    const { default: pgClient } = await import("pg");
    const client = new pgClient.Client({ connectionString: pg.url });
    await client.connect();
    // The shape before: each posting checked against its row by a foreign key that cascades.
    await client.query(`
      DROP TRIGGER fk_postings_on_owner_delete ON fk_chunks;
      DROP TRIGGER fk_document_postings_on_owner_delete ON fk_documents;
      ALTER TABLE fk_postings ADD FOREIGN KEY (label) REFERENCES fk_chunks(label) ON DELETE CASCADE;
      ALTER TABLE fk_document_postings ADD FOREIGN KEY (sid) REFERENCES fk_documents(sid) ON DELETE CASCADE;`);
    const orphans = async () => {
      const { rows } = await client.query<{ chunks: string; documents: string; keys: string }>(`SELECT
        (SELECT count(*) FROM fk_postings p WHERE NOT EXISTS (SELECT 1 FROM fk_chunks c WHERE c.label = p.label)) AS chunks,
        (SELECT count(*) FROM fk_document_postings p WHERE NOT EXISTS (SELECT 1 FROM fk_documents d WHERE d.sid = p.sid)) AS documents,
        (SELECT count(*) FROM pg_constraint WHERE conrelid IN ('fk_postings'::regclass, 'fk_document_postings'::regclass) AND contype = 'f') AS keys`);
      return rows[0];
    };
    store = await open();
    try {
      const changed = corpus().slice(0, 1);
      (changed[0] as SourceWrite).chunks = (changed[0] as SourceWrite).chunks.slice(0, 3);
      (changed[0] as SourceWrite).vectors = (changed[0] as SourceWrite).vectors.slice(0, 3);
      await store.commit({ put: changed, remove: ["/corpus/doc5.md"] });
      await store.commit({ remove: ["/corpus/doc4.md"] });
      expect(await orphans()).toEqual({ chunks: "0", documents: "0", keys: "0" });
      const index = new KeywordIndex();
      index.add([...changed, ...corpus().slice(1, 4)].flatMap((w) => w.chunks));
      for (const query of ["alpha rare", "gamma delta common"]) {
        const actual = await store.keywordSearch(query, { k: 10 });
        expect(actual.map((h) => h.document.id)).toEqual(index.search(query, { k: 10 }).map((h) => h.id));
      }
    } finally {
      await store.close();
      await client.end();
    }
  });

  it("a version 2 store (no whole documents) gets them on open", async () => {
    const open = () => PostgresStore.open({ url: pg.url, modelId: "hash-32", tablePrefix: "v2", maxConnections: 1 });
    let store = await open();
    const writes = corpus().slice(0, 4);
    for (const [f, w] of writes.entries()) for (const c of w.chunks) c.metadata.source = `doc${f}.md`;
    await store.commit({ put: writes });
    const before = await store.documentSearch("alpha rare", { k: 4 });
    expect(before.length).toBeGreaterThan(0);
    await store.close();
    const { default: pgClient } = await import("pg");
    const client = new pgClient.Client({ connectionString: pg.url });
    await client.connect();
    await client.query(
      `DROP TABLE v2_document_postings, v2_document_totals, v2_documents CASCADE; UPDATE v2_meta SET value = '2' WHERE key = 'version';`,
    );
    await client.end();
    store = await open();
    try {
      expect(await store.documentSearch("alpha rare", { k: 4 })).toEqual(before);
      const index = new KeywordIndex();
      index.add(writes.flatMap((w) => w.chunks));
      const whole = WholeDocumentIndex.of(index);
      for (const hit of before) expect(hit.score).toBeCloseTo(whole.scores("alpha rare").get(hit.source) as number, 9);
      expect(before[0]?.chunkIds).toEqual([...whole.chunksOf(before[0]?.source as string)]);
    } finally {
      await store.close();
    }
  });

  it("a version 1 store (tsvector keywords) is migrated on open", async () => {
    const open = () => PostgresStore.open({ url: pg.url, modelId: "hash-32", tablePrefix: "old", maxConnections: 1 });
    let store = await open();
    await store.commit({ put: corpus().slice(0, 3) });
    await store.close();
    // Back to version 1's shape: a tsvector column, no postings, no totals.
    const { default: pgClient } = await import("pg");
    const client = new pgClient.Client({ connectionString: pg.url });
    await client.connect();
    await client.query(`
      ALTER TABLE old_chunks ADD COLUMN terms tsvector NOT NULL DEFAULT ''::tsvector;
      DROP TABLE old_postings; DROP TABLE old_keyword_totals CASCADE;
      DROP TRIGGER IF EXISTS old_keyword_totals_on_insert ON old_chunks; DROP TRIGGER IF EXISTS old_keyword_totals_on_delete ON old_chunks;
      ALTER TABLE old_chunks DROP COLUMN len_title, DROP COLUMN len_headings, DROP COLUMN len_body;
      UPDATE old_meta SET value = '1' WHERE key = 'version';`);
    await client.end();
    store = await open();
    try {
      const index = new KeywordIndex();
      index.add(
        corpus()
          .slice(0, 3)
          .flatMap((w) => w.chunks),
      );
      const hits = await store.keywordSearch("beta rare", { k: 5 });
      expect(hits.map((h) => h.document.id)).toEqual(index.search("beta rare", { k: 5 }).map((h) => h.id));
      await store.commit({ remove: ["/corpus/doc0.md"] });
      expect(await store.counts()).toEqual({ sources: 2, chunks: 16 });
    } finally {
      await store.close();
    }
  });
});

import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { PostgresStore } from "../../src/knowledge/PostgresStore.js";
import { HNSW_DEFAULTS } from "../../vectorstores/hnsw.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { WireCounter } from "../helpers/wireCounter.js";

let pg: TestPostgres;
let root = "";
beforeAll(async () => {
  pg = await startPostgres();
  root = mkdtempSync(join(tmpdir(), "genera-pgkb-"));
});
afterAll(async () => {
  await pg?.stop();
  rmSync(root, { recursive: true, force: true });
});

const embeddings = new HashEmbeddings({ dimension: 48 });
async function open(prefix: string, url = pg.url): Promise<KnowledgeBase> {
  const store = await PostgresStore.open({
    url,
    modelId: embeddings.modelId,
    tablePrefix: prefix,
    maxConnections: 1,
  });
  return KnowledgeBase.open({ dir: join(root, "unused"), embeddings, store });
}

const NOTES: Record<string, string> = {
  "volcanoes.md": "# Volcanoes\n\nMagma rises through the crust and erupts as lava. Mount Etna erupts often.",
  "tides.md": "# Tides\n\nThe moon's gravity pulls the oceans, giving two high tides a day.",
  "bread.md": "# Bread\n\nYeast ferments sugars and the dough rises before baking at 230 degrees.",
};

describe("KnowledgeBase on the Postgres store", () => {
  it("indexes, searches hybrid, updates and deletes; a second process sees it all", async () => {
    const docs = join(root, "docs");
    mkdirSync(docs, { recursive: true });
    for (const [name, text] of Object.entries(NOTES)) writeFileSync(join(docs, name), text);

    const kb = await open("kb");
    const first = await kb.index([docs]);
    expect(first).toMatchObject({ added: 3, failed: 0 });
    expect(await kb.stats()).toMatchObject({ documents: 3, model: "hash-48", dimension: 48 });

    const hits = await kb.asRetriever({ k: 2 }).invoke("why does the moon make tides");
    expect(hits[0]?.metadata.source).toBe("tides.md");
    expect(hits[0]?.metadata.keywordScore).toBeGreaterThan(0);
    expect(hits[0]?.metadata.denseScore).toBeGreaterThan(0);
    const dense = await kb.asRetriever({ k: 1, mode: "dense" }).invoke("magma lava erupts crust");
    expect(dense[0]?.metadata.source).toBe("volcanoes.md");
    expect((await kb.asRetriever({ k: 1, mode: "keyword" }).invoke("yeast dough"))[0]?.metadata.source).toBe(
      "bread.md",
    );

    expect((await kb.index([docs])).unchanged).toBe(3);
    writeFileSync(join(docs, "bread.md"), "# Bread\n\nSourdough uses a starter instead of baker's yeast.");
    unlinkSync(join(docs, "tides.md"));
    const second = await kb.index([docs]);
    expect(second).toMatchObject({ updated: 1, deleted: 1, unchanged: 1 });
    expect((await kb.asRetriever({ k: 1, mode: "keyword" }).invoke("sourdough starter"))[0]?.metadata.source).toBe(
      "bread.md",
    );
    expect(await kb.asRetriever({ k: 3, mode: "keyword" }).invoke("moon gravity oceans")).toEqual([]);
    expect((await kb.listSources()).map((s) => s.source).sort()).toEqual(["bread.md", "volcanoes.md"]);
    expect((await kb.documentChunks("bread.md"))[0]?.pageContent).toContain("Sourdough");

    const other = await open("kb");
    expect(await other.counts()).toEqual(await kb.counts());
    await other.removeSource("volcanoes.md");
    expect((await kb.listSources()).map((s) => s.source)).toEqual(["bread.md"]);
    await other.close();
    await kb.close();
  });

  it("searches as broadly as the embedded store: one efSearch setting, one default", async () => {
    const both = async (hnsw?: { efSearch: number }) => {
      const embedded = await KnowledgeBase.open({
        dir: join(root, `ef-${hnsw?.efSearch ?? "default"}`),
        embeddings,
        hnsw,
      });
      const postgres = await KnowledgeBase.open({ dir: join(root, "unused"), embeddings, databaseUrl: pg.url, hnsw });
      const result = [embedded.vectorStore.efSearch, (postgres.store as PostgresStore).efSearch];
      // PGlite runs every connection in one session: the store's setting is what the server searches with.
      const { default: pgClient } = await import("pg");
      const client = new pgClient.Client({ connectionString: pg.url });
      await client.connect();
      await postgres.store.denseSearch(await embeddings.embedQuery("tides"), { k: 1 });
      const { rows } = await client.query<{ ef: string }>("SELECT current_setting('hnsw.ef_search') AS ef");
      await client.end();
      await embedded.close();
      await postgres.close();
      return [...result, Number(rows[0]?.ef)];
    };
    expect(await both()).toEqual([HNSW_DEFAULTS.efSearch, HNSW_DEFAULTS.efSearch, HNSW_DEFAULTS.efSearch]);
    expect(await both({ efSearch: 37 })).toEqual([37, 37, 37]);
  });

  it("reads its files' records in one round trip and commits a batch in four, however many files it holds", async () => {
    const wire = await WireCounter.start(pg.url, "postgres");
    const docs = join(root, "trips");
    mkdirSync(docs, { recursive: true });
    writeFileSync(join(docs, "first.md"), "# First\n\nThe first load fixes the vectors' length.");
    const kb = await open("trips", wire.url);
    try {
      await kb.index([docs]);
      for (const [name, text] of Object.entries(NOTES)) writeFileSync(join(docs, name), text);
      wire.reset();
      // Three new files, one batch: the records of all four files in one read, the three files in
      // one commit, and the cleanup's one listing of the stored files.
      const added = await kb.index([docs], { finishLoad: false });
      expect(added).toMatchObject({ added: 3, unchanged: 1, failed: 0 });
      expect(wire.count).toBe(1 + 4 + 1);
      writeFileSync(join(docs, "bread.md"), "# Bread\n\nSourdough uses a starter instead of baker's yeast.");
      wire.reset();
      const updated = await kb.index([docs], { finishLoad: false });
      expect(updated).toMatchObject({ updated: 1, unchanged: 3, chunksDeleted: 1 });
      expect(wire.count).toBe(1 + 4 + 1);
      // Where the time went, step by step.
      expect(Object.keys(updated.timings ?? {}).sort()).toEqual(["committing", "embedding", "loading", "reading"]);
      expect((await kb.asRetriever({ k: 1, mode: "keyword" }).invoke("sourdough starter"))[0]?.metadata.source).toBe(
        "bread.md",
      );
    } finally {
      await kb.close();
      await wire.stop();
    }
  });
});

import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { afterAll, describe, expect, it } from "vitest";
import { GeneraError } from "../../src/errors.js";
import { HNSWVectorStore } from "../../vectorstores/index.js";
import { clusteredVectors } from "./clustered.js";
import { BagOfWordsEmbeddings } from "./fakeEmbeddings.js";

const root = mkdtempSync(join(tmpdir(), "genera-hnsw-persist-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => join(root, `store-${dirCount++}`);

const embeddings = new BagOfWordsEmbeddings({ dimension: 32 });

async function savedStore(dir = freshDir(), count = 300) {
  const { vectors } = clusteredVectors(count, 32, 10, 3);
  const store = new HNSWVectorStore(embeddings, { efSearch: 77, M: 12, efConstruction: 80 });
  await store.addVectors(
    vectors,
    vectors.map((_, i) => new Document({ pageContent: `text ${i}`, metadata: { i, tags: ["a", String(i % 3)] } })),
    { ids: vectors.map((_, i) => `id-${i}`) },
  );
  await store.delete({ ids: ["id-5", "id-6"] });
  await store.save(dir);
  return { dir, store, vectors };
}

async function expectLoadError(dir: string, code: string, options = {}, using = embeddings) {
  const error = await HNSWVectorStore.load(dir, using, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GeneraError);
  expect((error as GeneraError).code).toBe(code);
  return error as GeneraError;
}

function generationFiles(dir: string) {
  return readdirSync(dir).filter((name) => name !== "manifest.json");
}

function manifestOf(dir: string) {
  return JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
}

describe("HNSWVectorStore save/load", () => {
  it("round-trips documents, vectors, settings and search results", async () => {
    const { dir, store, vectors } = await savedStore();
    const loaded = await HNSWVectorStore.load(dir, embeddings);
    expect(loaded.size).toBe(298);
    expect(loaded.ids().sort()).toEqual(store.ids().sort());
    expect(loaded.getDocument("id-7")).toEqual(store.getDocument("id-7"));
    expect(loaded.getDocument("id-5")).toBeUndefined();
    expect(loaded.getVector("id-9")).toEqual(store.getVector("id-9"));
    expect([loaded.space, loaded.M, loaded.efConstruction, loaded.efSearch, loaded.dimension, loaded.modelId]).toEqual([
      "cosine",
      12,
      80,
      77,
      32,
      "bag-of-words-32",
    ]);
    // biome-ignore lint/suspicious/noExplicitAny: hnswlib does not save ef, so check it was restored.
    expect((loaded as any).index.getEf()).toBe(77);
    for (const query of vectors.slice(0, 20)) {
      const a = await store.similaritySearchVectorWithScore(query, 5);
      const b = await loaded.similaritySearchVectorWithScore(query, 5);
      expect(b.map(([d, s]) => [d.id, s])).toEqual(a.map(([d, s]) => [d.id, s]));
    }
    const manifest = manifestOf(dir);
    expect(manifest).toMatchObject({ format: "genera-hnsw", version: 1, count: 298, dimension: 32, space: "cosine" });
    expect(manifest.labels).toHaveLength(298);

    // The loaded store keeps working: upsert, delete, add, and a second save replaces the first generation.
    await loaded.addDocuments([new Document({ pageContent: "brand new words here" })], { ids: ["id-7"] });
    await loaded.delete({ ids: ["id-8"] });
    await loaded.addDocuments([new Document({ pageContent: "another fresh entry" })], { ids: ["extra"] });
    expect(loaded.size).toBe(298);
    expect((await loaded.similaritySearch("brand new words here", 1))[0].id).toBe("id-7");
    const firstGeneration = manifest.generation;
    await loaded.save(dir);
    const files = generationFiles(dir);
    expect(files).toHaveLength(2);
    expect(files.some((f) => f.includes(firstGeneration))).toBe(false);
    const again = await HNSWVectorStore.load(dir, embeddings, { efSearch: 200 });
    expect(again.efSearch).toBe(200);
    expect(again.getDocument("id-7")!.pageContent).toBe("brand new words here");
    expect(again.has("id-8")).toBe(false);
    expect(again.getDocument("id-3")!.metadata).toEqual({ i: 3, tags: ["a", "0"] });
  });

  it("saves and loads an empty store, and a missing index is NOT_FOUND", async () => {
    const dir = freshDir();
    await new HNSWVectorStore(embeddings).save(dir);
    const loaded = await HNSWVectorStore.load(dir, embeddings);
    expect(loaded.size).toBe(0);
    expect(await loaded.similaritySearch("anything", 3)).toEqual([]);
    await loaded.addDocuments([new Document({ pageContent: "first words" })]);
    expect(loaded.dimension).toBe(32);
    expect(HNSWVectorStore.exists(dir)).toBe(true);
    expect(HNSWVectorStore.exists(join(root, "does-not-exist"))).toBe(false);
    await expectLoadError(join(root, "does-not-exist"), "NOT_FOUND");
  });

  it("refuses another embedding model, dimension or space with MODEL_MISMATCH", async () => {
    const { dir } = await savedStore();
    const other = new BagOfWordsEmbeddings({ dimension: 32, modelId: "some-other-model" });
    const error = await expectLoadError(dir, "MODEL_MISMATCH", {}, other);
    expect(error.message).toContain("some-other-model");
    await expectLoadError(dir, "MODEL_MISMATCH", { dimension: 64 });
    // Same model name, but the embeddings declare another output size.
    await expectLoadError(
      dir,
      "MODEL_MISMATCH",
      { modelId: "bag-of-words-32" },
      new BagOfWordsEmbeddings({ dimension: 48 }),
    );
    await expectLoadError(dir, "MODEL_MISMATCH", { space: "l2" });
    await expectLoadError(dir, "MODEL_MISMATCH", { modelId: "explicit-other" });
    expect((await HNSWVectorStore.load(dir, other, { modelId: "bag-of-words-32" })).size).toBe(298);
  });

  it("detects truncated, altered or missing files and unknown format versions as INDEX_CORRUPT", async () => {
    type SavedManifest = { files: { index: { name: string; bytes: number }; docstore: { name: string } } } & Record<
      string,
      unknown
    > & { labels: [number, string][] };
    const cases: [string, (dir: string, manifest: SavedManifest) => void][] = [
      ["truncated index", (dir, m) => truncateSync(join(dir, m.files.index.name), m.files.index.bytes - 100)],
      [
        "flipped index byte",
        (dir, m) => {
          const path = join(dir, m.files.index.name);
          const bytes = readFileSync(path);
          bytes[Math.floor(bytes.length / 2)] ^= 0xff;
          writeFileSync(path, bytes);
        },
      ],
      [
        "altered docstore",
        (dir, m) => {
          const path = join(dir, m.files.docstore.name);
          writeFileSync(path, readFileSync(path, "utf8").replace("text 1", "text X"));
        },
      ],
      ["missing index", (dir, m) => rmSync(join(dir, m.files.index.name))],
      ["manifest not JSON", (dir) => writeFileSync(join(dir, "manifest.json"), '{"format": "genera-hn')],
      ["manifest empty", (dir) => writeFileSync(join(dir, "manifest.json"), "")],
      ["unknown version", (dir, m) => writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...m, version: 2 }))],
      ["foreign format", (dir, m) => writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...m, format: "x" }))],
      ["count tampered", (dir, m) => writeFileSync(join(dir, "manifest.json"), JSON.stringify({ ...m, count: 5 }))],
      [
        "label map tampered",
        (dir, m) =>
          writeFileSync(
            join(dir, "manifest.json"),
            JSON.stringify({
              ...m,
              labels: m.labels.map(([l, id], i) => [i === 0 ? 1 : l, id]),
            }),
          ),
      ],
    ];
    for (const [name, damage] of cases) {
      const { dir } = await savedStore(freshDir(), 120);
      damage(dir, manifestOf(dir));
      const error = await expectLoadError(dir, "INDEX_CORRUPT").catch((e) => {
        throw new Error(`${name}: ${e}`);
      });
      expect(error.message, name).toMatch(/damaged|version/);
    }
  });

  it("leftovers of a save that crashed before its manifest are ignored, then cleaned by the next save", async () => {
    const { dir, store } = await savedStore(freshDir(), 150);
    const good = manifestOf(dir);
    // What a crash mid-save leaves: a newer generation's partial files and a manifest temp file.
    writeFileSync(join(dir, "index.zzzzzzzz.hnsw"), Buffer.alloc(1000, 7));
    writeFileSync(join(dir, "docstore.zzzzzzzz.json"), '{"format":"genera-hnsw-docstore","documents":[');
    writeFileSync(join(dir, "manifest.json.123.abcd.tmp"), '{"format"');
    writeFileSync(join(dir, "unrelated.txt"), "not ours");
    const loaded = await HNSWVectorStore.load(dir, embeddings);
    expect(loaded.size).toBe(store.size);
    expect(manifestOf(dir).generation).toBe(good.generation);
    await loaded.save(dir);
    expect(readdirSync(dir).sort()).toEqual(
      [
        "manifest.json",
        "unrelated.txt",
        `index.${manifestOf(dir).generation}.hnsw`,
        `docstore.${manifestOf(dir).generation}.json`,
      ].sort(),
    );
  });

  it("a save that cannot serialise metadata fails with INVALID_INPUT and keeps the previous generation", async () => {
    const { dir, store } = await savedStore(freshDir(), 50);
    const before = readdirSync(dir).sort();
    await store.addDocuments([new Document({ pageContent: "big number", metadata: { n: 10n } })]);
    const error = await store.save(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as GeneraError).code).toBe("INVALID_INPUT");
    expect(readdirSync(dir).sort()).toEqual(before);
    expect((await HNSWVectorStore.load(dir, embeddings)).size).toBe(48);
  });
});

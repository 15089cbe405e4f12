import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EmbeddedStore } from "../../src/knowledge/EmbeddedStore.js";
import type { SourceWrite } from "../../src/knowledge/KnowledgeStore.js";
import { WholeDocumentIndex } from "../../vectorstores/WholeDocumentIndex.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";

// Issue 13 item 6: a large upload's commit (SQLite rows, HNSW inserts, keyword postings) ran
// in one synchronous block, so every search in the server waited for it. It now lets the
// event loop through between slices, inside one transaction.

const embeddings = new HashEmbeddings({ dimension: 32 });
let dir: string;
let store: EmbeddedStore;
const open = () => EmbeddedStore.open({ dir, embeddings, modelId: "hash-32", onRepair: () => {} });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "genera-slices-"));
  store = await open();
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(path: string, chunks: number, word: string): SourceWrite {
  const texts = Array.from({ length: chunks }, (_, i) => `Chunk ${i} of ${path} mentions ${word} and number ${i * 7}.`);
  return {
    record: {
      path,
      root: "/up",
      source: path.slice(4),
      hash: `${path}-${chunks}`,
      size: chunks,
      mtimeMs: 1,
      indexedAt: "2026-12-06T12:00:00.000Z",
    },
    chunks: texts.map((t, i) => new Document({ id: `${path}#${i}`, pageContent: t, metadata: { source: path } })),
    vectors: texts.map((t) => embeddings.embedText(t)),
  };
}

describe("EmbeddedStore commits a large batch in slices", () => {
  it("lets the event loop run while 1,000 chunks are committed, and the batch is whole afterwards", async () => {
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    await store.commit({ put: [file("/up/big.md", 1000, "zephyr")] });
    ticking = false;
    // Between slices (64 chunks each: analysis, rows, graph inserts) other callbacks got their turn.
    expect(turns).toBeGreaterThan(10);
    expect((await store.counts()).chunks).toBe(1000);
    expect((await store.keywordSearch("zephyr", { k: 2000 })).length).toBe(1000);
    await store.close();
    store = await open();
    expect((await store.counts()).chunks).toBe(1000);
  });

  it("updates the whole-document index once per batch, not after every slice a search sees", async () => {
    // More chunks already stored than the batch brings, so the index is updated, not rebuilt.
    await store.commit({ put: [file("/up/small.md", 1200, "willow")] });
    const whole = WholeDocumentIndex.of(store.keywordIndex);
    const rebuilds = () => whole.keywordIndex.revision;
    const before = rebuilds();
    // A search between slices: the chunk postings already hold part of the batch.
    let searches = 0;
    let partial = false;
    let ticking = true;
    const search = (): void => {
      if (!ticking) return;
      searches++;
      const seen = store.keywordIndex.size - 1200;
      if (seen > 0 && seen < 1000) partial = true;
      WholeDocumentIndex.of(store.keywordIndex);
      setImmediate(search);
    };
    setImmediate(search);
    await store.commit({ put: [file("/up/big.md", 1000, "zephyr")] });
    ticking = false;
    expect(partial).toBe(true);
    // Re-analysing a growing document after each of its slices made an ingest quadratic.
    expect(rebuilds()).toBe(before);
    expect(searches).toBeGreaterThan(10);
    // After the batch, one update brings the new document in, as a full build would.
    expect(WholeDocumentIndex.of(store.keywordIndex)).toBe(whole);
    expect(rebuilds()).toBe(before + 1);
    expect(whole.chunksOf("/up/big.md")).toHaveLength(1000);
    expect([...whole.scores("zephyr").keys()]).toEqual(["/up/big.md"]);
  });

  it("serialises commits made without waiting (each is its own transaction)", async () => {
    await Promise.all([
      store.commit({ put: [file("/up/a.md", 300, "alder")] }),
      store.commit({ put: [file("/up/b.md", 300, "birch")] }),
      store.commit({ remove: ["/up/a.md"] }),
    ]);
    expect((await store.listSources()).map((s) => s.path)).toEqual(["/up/b.md"]);
    expect(await store.keywordSearch("alder", { k: 5 })).toEqual([]);
    await store.close();
    store = await open();
    expect((await store.counts()).chunks).toBe(300);
  });
});

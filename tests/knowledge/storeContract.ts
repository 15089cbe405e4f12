import { Document } from "@langchain/core/documents";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { KnowledgeStore, SourceWrite } from "../../src/knowledge/KnowledgeStore.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";

/** Opens a fresh, empty store (and `reopen` the same one again, as another process would). */
export interface StoreFactory {
  name: string;
  open(): Promise<KnowledgeStore>;
  reopen(): Promise<KnowledgeStore>;
  cleanup?(): Promise<void>;
}

const embeddings = new HashEmbeddings({ dimension: 32 });

function source(path: string, texts: string[], extra: Record<string, unknown> = {}): SourceWrite {
  const chunks = texts.map(
    (text, i) =>
      new Document({
        id: `${path}#${i}:${text.length}`,
        pageContent: text,
        metadata: { source: path.split("/").pop(), chunkIndex: i, ...extra },
      }),
  );
  return {
    record: {
      path,
      root: "/corpus",
      source: path.replace("/corpus/", ""),
      hash: `hash-${texts.join("|").length}`,
      size: texts.join("").length,
      mtimeMs: 1_700_000_000_000,
      indexedAt: "2026-12-06T12:00:00.000Z",
    },
    chunks,
    vectors: texts.map((t) => embeddings.embedText(t)),
  };
}

/** The KnowledgeStore contract, run the same way against every implementation. */
export function storeContract(factory: StoreFactory): void {
  describe(`${factory.name}: the KnowledgeStore contract`, () => {
    let store: KnowledgeStore;
    beforeEach(async () => {
      store = await factory.open();
    });
    afterEach(async () => {
      await store.close();
      await factory.cleanup?.();
    });

    it("stores sources with their chunks in order and reads them back", async () => {
      await store.commit({
        put: [
          source("/corpus/cats.md", ["Cats purr when content.", "A cat sleeps sixteen hours a day."]),
          source("/corpus/rust.md", ["Rust's borrow checker prevents data races."]),
        ],
      });
      expect(await store.counts()).toEqual({ sources: 2, chunks: 3 });
      expect(store.dimension).toBe(32);
      const cats = await store.getSource("/corpus/cats.md");
      expect(cats).toMatchObject({ path: "/corpus/cats.md", root: "/corpus", source: "cats.md", size: 56 });
      expect(cats?.chunkIds).toEqual(["/corpus/cats.md#0:23", "/corpus/cats.md#1:33"]);
      expect((await store.listSources()).map((s) => s.path)).toEqual(["/corpus/cats.md", "/corpus/rust.md"]);
      const [first, missing, last] = await store.getChunks(["/corpus/cats.md#0:23", "nope", "/corpus/rust.md#0:42"]);
      expect(first?.pageContent).toBe("Cats purr when content.");
      expect(first?.metadata).toMatchObject({ source: "cats.md", chunkIndex: 0 });
      expect(missing).toBeUndefined();
      expect(last?.id).toBe("/corpus/rust.md#0:42");
      expect(await store.sizeBytes()).toBeGreaterThan(0);
    });

    it("finds chunks by keywords and by vector, best first, honouring filters", async () => {
      await store.commit({
        put: [
          source("/corpus/cats.md", ["Cats purr when content.", "A cat sleeps sixteen hours a day."], { lang: "en" }),
          source("/corpus/rust.md", ["Rust's borrow checker prevents data races."], { lang: "en" }),
          source("/corpus/chats.md", ["Les chats dorment beaucoup."], { lang: "fr" }),
        ],
      });
      const words = await store.keywordSearch("how many hours do cats sleep", { k: 5 });
      expect(words[0]?.document.id).toBe("/corpus/cats.md#1:33");
      expect(words.map((w) => w.document.id)).not.toContain("/corpus/rust.md#0:42");
      for (let i = 1; i < words.length; i++) expect(words[i - 1]!.score).toBeGreaterThanOrEqual(words[i]!.score);

      const query = embeddings.embedText("borrow checker data races");
      const dense = await store.denseSearch(query, { k: 2 });
      expect(dense).toHaveLength(2);
      expect(dense[0]?.document.id).toBe("/corpus/rust.md#0:42");
      expect(dense[0]!.score).toBeGreaterThan(dense[1]!.score);
      expect(dense[0]!.score).toBeLessThanOrEqual(1 + 1e-6);

      const french = await store.denseSearch(query, { k: 5, filter: { lang: "fr" } });
      expect(french.map((d) => d.document.id)).toEqual(["/corpus/chats.md#0:27"]);
      const byPredicate = await store.keywordSearch("cats cat", {
        k: 5,
        filter: (doc) => doc.metadata.chunkIndex === 0,
      });
      expect(byPredicate.map((d) => d.document.id)).toEqual(["/corpus/cats.md#0:23"]);
      expect(await store.keywordSearch("the of and", { k: 5 })).toEqual([]);
    });

    it("replaces a source's chunks, removes sources and touches mtimes in one commit", async () => {
      await store.commit({
        put: [source("/corpus/a.md", ["alpha one", "alpha two"]), source("/corpus/b.md", ["beta"])],
      });
      await store.commit({
        put: [source("/corpus/a.md", ["alpha rewritten"])],
        remove: ["/corpus/b.md", "/corpus/unknown.md"],
        touch: [{ path: "/corpus/a.md", mtimeMs: 42 }],
      });
      expect(await store.counts()).toEqual({ sources: 1, chunks: 1 });
      expect((await store.getSource("/corpus/a.md"))?.mtimeMs).toBe(42);
      expect(await store.getSource("/corpus/b.md")).toBeUndefined();
      expect((await store.keywordSearch("alpha", { k: 5 })).map((h) => h.document.pageContent)).toEqual([
        "alpha rewritten",
      ]);
      expect(await store.keywordSearch("beta", { k: 5 })).toEqual([]);
    });

    it("scores whole documents, counts terms and reads chunks with their neighbours", async () => {
      await store.commit({
        put: [
          source("/corpus/cats.md", ["Cats purr.", "Cats sleep all day.", "A cat hunts mice.", "Kittens play."]),
          source("/corpus/dogs.md", ["Dogs bark at cats."]),
        ],
      });
      await store.commit({ put: [source("/corpus/dogs.md", ["Dogs bark.", "Dogs fetch."])] });
      const hits = await store.documentSearch("cats sleep", { k: 5 });
      expect(hits.map((h) => h.source)).toEqual(["cats.md"]);
      expect(hits[0]?.chunkIds).toEqual((await store.getSource("/corpus/cats.md"))?.chunkIds);
      expect((await store.documentSearch("dogs", { k: 1 }))[0]).toMatchObject({ source: "dogs.md" });
      expect(await store.documentSearch("nothing", { k: 5 })).toEqual([]);
      expect(await store.keywordStatistics(["cat", "dog", "absent"])).toEqual({ chunks: 6, frequencies: [4, 2, 0] }); // "cats" is each cats.md chunk's title
      const ids = (await store.getSource("/corpus/cats.md"))?.chunkIds ?? [];
      const [middle, first, unknown] = await store.chunkWindows([ids[2] as string, ids[0] as string, "nope"], 1);
      expect(middle?.source).toBe("cats.md");
      expect(middle?.chunks.map((c) => c.pageContent)).toEqual([
        "Cats sleep all day.",
        "A cat hunts mice.",
        "Kittens play.",
      ]);
      expect(first?.chunks.map((c) => c.id)).toEqual(ids.slice(0, 2));
      expect(unknown).toBeUndefined();
    });

    it("refuses a bad batch whole: nothing already stored changes", async () => {
      await store.commit({ put: [source("/corpus/a.md", ["alpha"])] });
      const taken = source("/corpus/c.md", ["gamma"]);
      (taken.chunks[0] as Document).id = "/corpus/a.md#0:5";
      await expect(
        store.commit({ put: [source("/corpus/b.md", ["beta"]), taken], remove: ["/corpus/a.md"] }),
      ).rejects.toMatchObject({ code: "CONFLICT" });
      const short = source("/corpus/d.md", ["delta"]);
      short.vectors = [[1, 2, 3]];
      await expect(store.commit({ put: [short] })).rejects.toMatchObject({ code: "INVALID_INPUT" });
      expect(await store.counts()).toEqual({ sources: 1, chunks: 1 });
      expect((await store.getSource("/corpus/a.md"))?.chunkIds).toEqual(["/corpus/a.md#0:5"]);
    });

    it("keeps every resolved commit for the next process", async () => {
      await store.commit({ put: [source("/corpus/a.md", ["alpha persists"])] });
      await store.close();
      store = await factory.reopen();
      expect(await store.counts()).toEqual({ sources: 1, chunks: 1 });
      expect(store.dimension).toBe(32);
      expect((await store.keywordSearch("persists", { k: 1 }))[0]?.document.pageContent).toBe("alpha persists");
      const dense = await store.denseSearch(embeddings.embedText("alpha persists"), { k: 1 });
      expect(dense[0]?.score).toBeCloseTo(1, 4);
    });
  });
}

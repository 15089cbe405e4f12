import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import { GeneraError } from "../../src/errors.js";
import { HNSWVectorStore } from "../../vectorstores/index.js";
import { clusteredVectors, exactTopK } from "./clustered.js";
import { BagOfWordsEmbeddings } from "./fakeEmbeddings.js";

const fruit = [
  { text: "apple banana cherry fruit salad", metadata: { kind: "fruit", lang: "en" } },
  { text: "banana smoothie with apple juice", metadata: { kind: "fruit", lang: "en" } },
  { text: "rust borrow checker lifetimes", metadata: { kind: "code", lang: "en" } },
  { text: "typescript generics and type inference", metadata: { kind: "code", lang: "en" } },
  { text: "apfel banane kirsche obstsalat", metadata: { kind: "fruit", lang: "de" } },
];

function docs(items = fruit): Document[] {
  return items.map((item) => new Document({ pageContent: item.text, metadata: { ...item.metadata } }));
}

async function fruitStore(options: ConstructorParameters<typeof HNSWVectorStore>[1] = {}) {
  const store = new HNSWVectorStore(new BagOfWordsEmbeddings(), options);
  const ids = await store.addDocuments(docs(), { ids: fruit.map((_, i) => `doc-${i}`) });
  return { store, ids };
}

function expectCode(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GeneraError);
    expect((error as GeneraError).code).toBe(code);
    return error as GeneraError;
  }
  throw new Error(`expected GeneraError ${code}`);
}

async function expectRejects(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GeneraError);
  expect((error as GeneraError).code).toBe(code);
  return error as GeneraError;
}

/** Everything observable about a store, to show a rejected call changed nothing. */
async function snapshot(store: HNSWVectorStore) {
  const query = await store.embeddings.embedQuery("apple banana code");
  return {
    size: store.size,
    ids: store.ids().sort(),
    docs: store.listDocuments().map((d) => [d.id, d.pageContent, d.metadata]),
    vectors: store.ids().map((id) => store.getVector(id)),
    search: (await store.similaritySearchVectorWithScore(query, 5)).map(([d, s]) => [d.id, s]),
  };
}

describe("HNSWVectorStore basics", () => {
  it("adds documents, returns ids, and finds the nearest text first with a higher-is-better score", async () => {
    const { store, ids } = await fruitStore();
    expect(ids).toEqual(["doc-0", "doc-1", "doc-2", "doc-3", "doc-4"]);
    expect(store.size).toBe(5);
    expect(store.dimension).toBe(32);
    expect(store.space).toBe("cosine");
    expect(store.modelId).toBe("bag-of-words-32");
    const results = await store.similaritySearchWithScore("apple banana cherry fruit salad", 3);
    expect(results[0][0].id).toBe("doc-0");
    expect(results[0][0].pageContent).toBe(fruit[0].text);
    expect(results[0][1]).toBeCloseTo(1, 5);
    expect(results[0][1]).toBeGreaterThan(results[1][1]);
    expect(results[1][1]).toBeGreaterThanOrEqual(results[2][1]);
  });

  it("generates UUIDs, honours Document.id, and returns copies the caller cannot use to corrupt the store", async () => {
    const store = new HNSWVectorStore(new BagOfWordsEmbeddings());
    const [generated, fromDoc] = await store.addDocuments([
      new Document({ pageContent: "alpha", metadata: { n: 1 } }),
      new Document({ pageContent: "beta", metadata: { n: 2 }, id: "beta-id" }),
    ]);
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    expect(fromDoc).toBe("beta-id");
    const doc = store.getDocument("beta-id")!;
    doc.metadata.n = 99;
    expect(store.getDocument("beta-id")!.metadata.n).toBe(2);
    expect(store.getDocuments(["beta-id", "nope"]).map((d) => d?.id)).toEqual(["beta-id", undefined]);
    expect(store.has(generated)).toBe(true);
    expect(store.has("nope")).toBe(false);
  });

  it("upserts: the same id twice keeps one entry with the new text and vector", async () => {
    const { store } = await fruitStore();
    const before = store.getVector("doc-2")!;
    await store.addDocuments([new Document({ pageContent: "apple banana cherry fruit salad", metadata: { v: 2 } })], {
      ids: ["doc-2"],
    });
    expect(store.size).toBe(5);
    expect(store.getDocument("doc-2")!.pageContent).toBe("apple banana cherry fruit salad");
    expect(store.getDocument("doc-2")!.metadata).toEqual({ v: 2 });
    expect(store.getVector("doc-2")).not.toEqual(before);
    const hits = await store.similaritySearch("rust borrow checker lifetimes", 5);
    expect(hits.filter((d) => d.id === "doc-2")).toHaveLength(1);
    expect(hits.some((d) => d.pageContent.includes("rust"))).toBe(false);
    // Duplicate ids inside one batch: the last one wins.
    await store.addDocuments([new Document({ pageContent: "first" }), new Document({ pageContent: "second" })], {
      ids: ["dup", "dup"],
    });
    expect(store.size).toBe(6);
    expect(store.getDocument("dup")!.pageContent).toBe("second");
  });

  it("churn through upserts recycles deleted slots instead of growing without bound", async () => {
    const embeddings = new BagOfWordsEmbeddings();
    const store = new HNSWVectorStore(embeddings, { initialCapacity: 8 });
    for (let round = 0; round < 20; round++) {
      await store.addDocuments(
        Array.from({ length: 8 }, (_, i) => new Document({ pageContent: `round ${round} item ${i} word${i}` })),
        { ids: Array.from({ length: 8 }, (_, i) => `item-${i}`) },
      );
    }
    expect(store.size).toBe(8);
    const hits = await store.similaritySearch("round 19 item 3 word3", 1);
    expect(hits[0].id).toBe("item-3");
    expect(hits[0].pageContent).toBe("round 19 item 3 word3");
    // biome-ignore lint/suspicious/noExplicitAny: reach into the private index to check its slot count.
    const index = (store as any).index;
    expect(index.getMaxElements()).toBeLessThanOrEqual(16);
  });

  it("deletes for real, skips ids that are not in the store, and rejects non-string ids", async () => {
    const { store } = await fruitStore();
    await store.delete({ ids: ["doc-0"] });
    expect(store.size).toBe(4);
    expect(store.has("doc-0")).toBe(false);
    expect(store.getDocument("doc-0")).toBeUndefined();
    expect(store.getVector("doc-0")).toBeUndefined();
    const hits = await store.similaritySearch("apple banana cherry fruit salad", 10);
    expect(hits.map((d) => d.id)).not.toContain("doc-0");
    expect(hits).toHaveLength(4);

    // An id that is not there (never was, or already deleted) is not an error; the others still go.
    await store.delete({ ids: ["doc-1", "missing", "doc-0", "doc-1"] });
    expect(store.size).toBe(3);
    expect(store.has("doc-1")).toBe(false);

    const before = await snapshot(store);
    const error = await expectRejects(store.delete({ ids: ["doc-2", 7 as unknown as string] }), "INVALID_INPUT");
    expect(error.message).toContain("7");
    expect(await snapshot(store)).toEqual(before);
    await expectRejects(store.delete({}), "INVALID_INPUT");
  });

  it("filters by metadata object and by predicate during the search, still returning k results", async () => {
    const embeddings = new BagOfWordsEmbeddings({ dimension: 16 });
    const store = new HNSWVectorStore(embeddings);
    const many = Array.from(
      { length: 400 },
      (_, i) => new Document({ pageContent: `common words shared text ${i}`, metadata: { bucket: i % 50, i } }),
    );
    await store.addDocuments(many);
    // Only 8 of 400 match: a post-filter of the top k would almost always come back short.
    const byObject = await store.similaritySearch("common words", 5, { bucket: 7 });
    expect(byObject).toHaveLength(5);
    expect(byObject.every((d) => d.metadata.bucket === 7)).toBe(true);
    const byPredicate = await store.similaritySearch("common words", 8, (doc: Document) => doc.metadata.i % 100 === 3);
    expect(byPredicate).toHaveLength(4);
    expect(byPredicate.map((d) => d.metadata.i).sort((a, b) => a - b)).toEqual([3, 103, 203, 303]);
    const none = await store.similaritySearch("common words", 5, { bucket: 1000 });
    expect(none).toEqual([]);
    expect(await store.similaritySearch("common words", 3, {})).toHaveLength(3);
    await expectRejects(store.similaritySearch("x", 3, "bucket = 7" as never), "INVALID_INPUT");
    const thrown = await expectRejects(
      store.similaritySearch("x", 3, () => {
        throw new Error("boom");
      }),
      "INVALID_INPUT",
    );
    expect(thrown.message).toContain("boom");
  });

  it("filter results match an exact filtered search", async () => {
    const { vectors, sample } = clusteredVectors(2000, 24, 20, 7);
    const store = new HNSWVectorStore(new BagOfWordsEmbeddings({ dimension: 24 }));
    await store.addVectors(
      vectors,
      vectors.map((_, i) => new Document({ pageContent: `v${i}`, metadata: { odd: i % 2 === 1, i } })),
      { ids: vectors.map((_, i) => String(i)) },
    );
    let agree = 0;
    for (let q = 0; q < 20; q++) {
      const query = sample();
      const odd = vectors.map((v, i) => (i % 2 === 1 ? v : vectors[0].map(() => 0)));
      const expected = exactTopK(odd, query, 10).filter((i) => i % 2 === 1);
      const got = (await store.similaritySearchVectorWithScore(query, 10, { odd: true })).map(([d]) => Number(d.id));
      expect(got).toHaveLength(10);
      expect(got.every((i) => i % 2 === 1)).toBe(true);
      agree += got.filter((i) => expected.includes(i)).length;
    }
    expect(agree / 200).toBeGreaterThanOrEqual(0.95);
  });

  it("reports scores per space: ip is the inner product, l2 is 1/(1+distance)", async () => {
    const embeddings = new BagOfWordsEmbeddings({ dimension: 3 });
    const ip = new HNSWVectorStore(embeddings, { space: "ip" });
    await ip.addVectors(
      [
        [1, 0, 0],
        [0, 2, 0],
      ],
      [new Document({ pageContent: "x" }), new Document({ pageContent: "y" })],
      {
        ids: ["x", "y"],
      },
    );
    const [[topIp, scoreIp]] = await ip.similaritySearchVectorWithScore([0, 1, 0], 1);
    expect(topIp.id).toBe("y");
    expect(scoreIp).toBeCloseTo(2, 5);

    const l2 = new HNSWVectorStore(embeddings, { space: "l2" });
    await l2.addVectors(
      [
        [0, 0, 0],
        [3, 4, 0],
      ],
      [new Document({ pageContent: "o" }), new Document({ pageContent: "p" })],
      {
        ids: ["o", "p"],
      },
    );
    const results = await l2.similaritySearchVectorWithScore([0, 0, 0], 2);
    expect(results.map(([d]) => d.id)).toEqual(["o", "p"]);
    expect(results[0][1]).toBeCloseTo(1, 6);
    expect(results[1][1]).toBeCloseTo(1 / 6, 6);
  });

  it("MMR picks diverse results, and asRetriever({ searchType: 'mmr' }) uses it", async () => {
    const embeddings = new BagOfWordsEmbeddings({ dimension: 64 });
    const store = new HNSWVectorStore(embeddings);
    const texts = [
      "solar panel energy output",
      "solar panel energy output today",
      "solar panel energy output report",
      "solar wind turbine farm",
      "panel discussion on energy policy",
    ];
    await store.addDocuments(
      texts.map((t) => new Document({ pageContent: t })),
      { ids: ["a", "a2", "a3", "b", "c"] },
    );
    const plain = await store.similaritySearch("solar panel energy output", 2);
    expect(plain.map((d) => d.id)).toEqual(expect.arrayContaining(["a"]));
    expect(plain.map((d) => d.id).every((id) => id!.startsWith("a"))).toBe(true);

    const mmr = await store.maxMarginalRelevanceSearch(
      "solar panel energy output",
      { k: 2, fetchK: 5, lambda: 0.3 },
      undefined,
    );
    expect(mmr[0].id).toBe("a");
    expect(mmr[1].id!.startsWith("a")).toBe(false);
    const pureRelevance = await store.maxMarginalRelevanceSearch(
      "solar panel energy output",
      { k: 3, lambda: 1 },
      undefined,
    );
    expect(pureRelevance.map((d) => d.id)).toEqual(
      (await store.similaritySearch("solar panel energy output", 3)).map((d) => d.id),
    );

    const retriever = store.asRetriever({ k: 2, searchType: "mmr", searchKwargs: { fetchK: 5, lambda: 0.3 } });
    const retrieved = await retriever.invoke("solar panel energy output");
    expect(retrieved.map((d) => d.id)).toEqual(mmr.map((d) => d.id));

    const filtered = await store.maxMarginalRelevanceSearch(
      "solar panel energy output",
      { k: 2, fetchK: 5, filter: (d: Document) => d.id !== "a" },
      undefined,
    );
    expect(filtered.map((d) => d.id)).not.toContain("a");
    await expectRejects(store.maxMarginalRelevanceSearch("q", { k: 2, lambda: 2 }, undefined), "INVALID_INPUT");
  });

  it("rejects bad input with INVALID_INPUT and leaves the store unchanged", async () => {
    const { store } = await fruitStore();
    const before = await snapshot(store);
    const good = [0.1, 0.2, ...new Array(30).fill(0.01)];
    const doc = new Document({ pageContent: "ok" });
    const bad: [string, () => Promise<unknown>][] = [
      ["wrong dimension", () => store.addVectors([good, [1, 2, 3]], [doc, doc])],
      ["NaN", () => store.addVectors([good, good.map((x, i) => (i === 5 ? Number.NaN : x))], [doc, doc])],
      ["Infinity", () => store.addVectors([good.map((x, i) => (i === 0 ? Number.POSITIVE_INFINITY : x))], [doc])],
      ["beyond float32", () => store.addVectors([good.map((x, i) => (i === 3 ? 1e39 : x))], [doc])],
      ["string entry", () => store.addVectors([good.map((x, i) => (i === 0 ? ("1" as never) : x))], [doc])],
      ["vector count mismatch", () => store.addVectors([good, good], [doc])],
      ["ids length mismatch", () => store.addVectors([good, good], [doc, doc], { ids: ["doc-0"] })],
      ["empty id", () => store.addVectors([good], [doc], { ids: [""] })],
      ["non-string pageContent", () => store.addDocuments([doc, { pageContent: 42, metadata: {} } as never])],
      ["null document", () => store.addDocuments([null as never])],
      ["array metadata", () => store.addDocuments([{ pageContent: "x", metadata: [1] } as never])],
      ["not an array", () => store.addVectors("nope" as never, [doc])],
      ["query dimension", () => store.similaritySearchVectorWithScore([1, 2], 3)],
      [
        "query NaN",
        () =>
          store.similaritySearchVectorWithScore(
            good.map(() => Number.NaN),
            3,
          ),
      ],
      ["k zero", () => store.similaritySearchVectorWithScore(good, 0)],
      ["k fraction", () => store.similaritySearchVectorWithScore(good, 1.5)],
    ];
    for (const [name, call] of bad) {
      const error = await expectRejects(call(), "INVALID_INPUT").catch((e) => {
        throw new Error(`${name}: ${e}`);
      });
      expect(error.message.length, name).toBeGreaterThan(5);
    }
    // A doc id that would replace doc-0 in a batch that later fails must not have replaced it.
    await expectRejects(store.addVectors([good, [Number.NaN]], [doc, doc], { ids: ["doc-0", "new"] }), "INVALID_INPUT");
    expect(await snapshot(store)).toEqual(before);
    expectCode(() => new HNSWVectorStore(new BagOfWordsEmbeddings(), { M: 0 }), "INVALID_INPUT");
    expectCode(() => new HNSWVectorStore(new BagOfWordsEmbeddings(), { space: "dot" as never }), "INVALID_INPUT");
    expectCode(() => {
      store.efSearch = -1;
    }, "INVALID_INPUT");
  });

  it("accepts typed arrays, grows capacity geometrically, and clamps k to the live count", async () => {
    const store = new HNSWVectorStore(new BagOfWordsEmbeddings({ dimension: 4 }), { initialCapacity: 2 });
    const capacities = new Set<number>();
    for (let i = 0; i < 40; i++) {
      await store.addVectors([Float32Array.from([i, 1, 0, 0.5]) as never], [new Document({ pageContent: `p${i}` })]);
      // biome-ignore lint/suspicious/noExplicitAny: reach into the private index to observe resizes.
      capacities.add((store as any).index.getMaxElements());
    }
    expect([...capacities]).toEqual([2, 4, 8, 16, 32, 64]);
    expect(await store.similaritySearchVectorWithScore([1, 1, 0, 0.5], 100)).toHaveLength(40);
    expect(await new HNSWVectorStore(new BagOfWordsEmbeddings()).similaritySearch("empty", 4)).toEqual([]);
  });

  it("fromTexts / fromDocuments follow LangChain conventions and efSearch is settable", async () => {
    const embeddings = new BagOfWordsEmbeddings();
    const store = await HNSWVectorStore.fromTexts(
      ["one fish", "two fish", "red fish"],
      [{ n: 1 }, { n: 2 }, { n: 3 }],
      embeddings,
      {
        efSearch: 120,
        M: 8,
      },
    );
    expect(store.size).toBe(3);
    expect(store.efSearch).toBe(120);
    expect(store.M).toBe(8);
    store.efSearch = 33;
    // biome-ignore lint/suspicious/noExplicitAny: check the setting reached hnswlib.
    expect((store as any).index.getEf()).toBe(33);
    const shared = await HNSWVectorStore.fromTexts(["a b", "c d"], { shared: true }, embeddings);
    expect(shared.listDocuments().every((d) => d.metadata.shared === true)).toBe(true);
    const fromDocs = await HNSWVectorStore.fromDocuments(docs(), embeddings, { ids: fruit.map((_, i) => `f${i}`) });
    expect(fromDocs.ids().sort()).toEqual(["f0", "f1", "f2", "f3", "f4"]);
  });

  it("reaches recall@10 ≥ 0.99 with default settings on 5k × 64 clustered vectors", async () => {
    const { vectors, sample } = clusteredVectors(5000, 64, 50, 42);
    const store = new HNSWVectorStore(new BagOfWordsEmbeddings({ dimension: 64 }));
    await store.addVectors(
      vectors,
      vectors.map((_, i) => new Document({ pageContent: `v${i}` })),
      { ids: vectors.map((_, i) => String(i)) },
    );
    let hits = 0;
    const queries = 200;
    for (let q = 0; q < queries; q++) {
      const query = sample();
      const truth = new Set(exactTopK(vectors, query, 10));
      const found = await store.similaritySearchVectorWithScore(query, 10);
      hits += found.filter(([d]) => truth.has(Number(d.id))).length;
    }
    expect(hits / (queries * 10)).toBeGreaterThanOrEqual(0.99);
  });
});

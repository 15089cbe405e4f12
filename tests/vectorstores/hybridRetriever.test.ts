import type { Document } from "@langchain/core/documents";
import { FakeVectorStore } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { GeneraError } from "../../src/errors.js";
import { HYBRID_DEFAULTS, HybridRetriever, type HybridRetrieverOptions } from "../../vectorstores/HybridRetriever.js";
import { HNSWVectorStore } from "../../vectorstores/hnsw.js";
import { KeywordIndex, type KeywordIndexOptions } from "../../vectorstores/KeywordIndex.js";
import { ConceptEmbeddings, chunk } from "./hybridFixtures.js";

const CONCEPTS = {
  car: 0,
  automobile: 0,
  vehicle: 0,
  engine: 1,
  motor: 1,
  recipe: 2,
  cooking: 2,
  soup: 2,
  guitar: 3,
  music: 3,
};

async function setup(docs: Document[], keywordOptions: KeywordIndexOptions = {}) {
  const embeddings = new ConceptEmbeddings(CONCEPTS);
  const store = new HNSWVectorStore(embeddings);
  await store.addDocuments(docs);
  const keywordIndex = KeywordIndex.rebuildFrom(docs, keywordOptions);
  embeddings.queryCalls = 0;
  embeddings.documentCalls = 0;
  const make = (options: Partial<HybridRetrieverOptions> = {}) =>
    new HybridRetriever({ vectorStore: store, keywordIndex, ...options });
  return { embeddings, store, keywordIndex, make };
}

const corpus = () => [
  chunk("cars#0", "A car has a motor under the hood that turns fuel into motion.", { title: "Cars" }),
  chunk("gadget#0", "The Zorblax 9000 is a kitchen gadget sold since 2019.", { title: "Gadgets" }),
  chunk("soup#0", "Slow cooking turns bones into a rich soup stock.", { title: "Kitchen" }),
  chunk("guitar#0", "Tune each guitar string against a reference pitch.", { title: "Music" }),
  chunk("trains#0", "Trains run on rails between cities.", { title: "Trains" }),
];

const ids = (results: Array<[Document, number]> | Document[]) =>
  results.map((r) => (Array.isArray(r) ? r[0].id : r.id));

describe("HybridRetriever modes", () => {
  it("hybrid finds both a paraphrase (dense) and a rare name (keyword)", async () => {
    const { make } = await setup(corpus());
    // No shared words with cars#0: only the dense side can find it.
    expect(ids(await make({ mode: "keyword" }).invoke("automobile engine"))).toEqual([]);
    expect(ids(await make({ mode: "dense", k: 1 }).invoke("automobile engine"))).toEqual(["cars#0"]);
    expect(ids(await make({ k: 1 }).invoke("automobile engine"))).toEqual(["cars#0"]);
    // A made-up product name: the concept encoder has no idea; BM25 does.
    expect(ids(await make({ k: 1 }).invoke("what is the Zorblax 9000?"))).toEqual(["gadget#0"]);
  });

  it("embeds the query once per hybrid or dense call and never in keyword mode", async () => {
    const { embeddings, make } = await setup(corpus());
    await make({ mode: "keyword" }).invoke("guitar soup");
    expect(embeddings.queryCalls).toBe(0);
    await make().invoke("guitar soup");
    expect(embeddings.queryCalls).toBe(1);
    await make({ mode: "dense", mmr: { lambda: 0.5 } }).invoke("guitar soup");
    expect(embeddings.queryCalls).toBe(2);
    expect(embeddings.documentCalls).toBe(0);
  });

  it("returns copies carrying fused, dense and keyword scores and the id", async () => {
    const { make, keywordIndex } = await setup(corpus());
    const results = await make({ k: 5, aggregate: "none" }).retrieveWithScores("guitar music Zorblax");
    expect(results.length).toBeGreaterThanOrEqual(2);
    for (const [doc, score] of results) {
      expect(doc.metadata.score).toBe(score);
      expect(doc.metadata.id).toBe(doc.id);
      expect(typeof doc.metadata.denseScore).toBe("number");
      expect(doc.metadata.keywordScore === null || typeof doc.metadata.keywordScore === "number").toBe(true);
    }
    const scores = results.map(([, s]) => s);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    const guitar = results.find(([d]) => d.id === "guitar#0")![0];
    expect(guitar.metadata.keywordScore).toBeGreaterThan(0);
    const cars = results.find(([d]) => d.id === "cars#0");
    if (cars) expect(cars[0].metadata.keywordScore).toBeNull();
    guitar.metadata.title = "mutated";
    expect(keywordIndex.getDocument("guitar#0")?.metadata.title).toBe("Music");
  });

  it("reports only the side that was used", async () => {
    const { make } = await setup(corpus());
    const [keywordOnly] = await make({ mode: "keyword", k: 1 }).invoke("guitar");
    expect(keywordOnly.metadata.denseScore).toBeNull();
    expect(keywordOnly.metadata.keywordScore).toBeGreaterThan(0);
    const [denseOnly] = await make({ mode: "dense", k: 1 }).invoke("guitar");
    expect(denseOnly.metadata.keywordScore).toBeNull();
    expect(denseOnly.metadata.denseScore).toBeGreaterThan(0.9);
  });

  it("scores keyword-only candidates on the dense side from their stored vectors", async () => {
    const { make, store } = await setup(corpus());
    // fetchK 1: the dense side returns only its top hit; gadget#0 comes from BM25 alone.
    // k = 2 fetches the dense top 2 (guitar, soup); gadget#0 comes from BM25 alone and, with
    // keywordWeight 1, ranks first whatever its dense score.
    const options = { fetchK: 1, k: 2, aggregate: "none", keywordWeight: 1 } as const;
    const question = "Zorblax music soup";
    const results = await make({ ...options, denseCompletion: true }).invoke(question);
    const gadget = results.find((d) => d.id === "gadget#0")!;
    const q = await store.embeddings.embedQuery(question);
    const v = store.getVector("gadget#0")!;
    expect(gadget.metadata.denseScore).toBeCloseTo(
      q.reduce((s, x, i) => s + x * v[i], 0),
      5,
    );
    // Off, a keyword-only candidate has no dense score.
    const plain = await make({ ...options, denseCompletion: false }).invoke(question);
    expect(plain.find((d) => d.id === "gadget#0")!.metadata.denseScore).toBeNull();
  });

  it("works with a store that cannot return vectors (core's in-memory FakeVectorStore)", async () => {
    const fillers = [1, 2, 3, 4].map((i) =>
      chunk(`filler${i}#0`, `Soup recipe number ${i} needs slow cooking.`, { title: `Recipe ${i}` }),
    );
    const docs = [...corpus(), ...fillers];
    const embeddings = new ConceptEmbeddings(CONCEPTS);
    const store = new FakeVectorStore(embeddings);
    await store.addDocuments(docs);
    const keywordIndex = KeywordIndex.rebuildFrom(docs);
    const retriever = new HybridRetriever({
      vectorStore: store,
      keywordIndex,
      k: 2,
      fetchK: 1,
      aggregate: "none",
      keywordWeight: 0.9,
    });
    // The dense side's top 2 are soup chunks; gadget#0 is a keyword-only candidate without a vector to score.
    const results = await retriever.invoke("Zorblax soup");
    expect(ids(results)).toContain("gadget#0");
    expect(results.find((d) => d.id === "gadget#0")!.metadata.denseScore).toBeNull();
  });

  it("returns nothing for a blank query and rejects bad options", async () => {
    const { make } = await setup(corpus());
    expect(await make().invoke("   ")).toEqual([]);
    for (const bad of [{ k: 0 }, { keywordWeight: 1.5 }, { mode: "both" }, { fusion: "sum" }, { mmr: { lambda: 2 } }]) {
      expect(() => make(bad as Partial<HybridRetrieverOptions>)).toThrow(GeneraError);
    }
  });
});

describe("HybridRetriever fusion options", () => {
  it("RRF and convex fusion both rank the doubly matched chunk first", async () => {
    const { make } = await setup(corpus());
    for (const fusion of ["rrf", "convex"] as const) {
      const [top] = await make({ fusion, k: 1 }).invoke("guitar music tuning");
      expect(top.id).toBe("guitar#0");
    }
  });

  it("ranks a document that answers the whole question above a one-word match", async () => {
    const docs = [
      chunk("city#0", "Osaka population census by district.", { source: "osaka.md", title: "Osaka" }),
      chunk("city#1", "Osaka subway lines and their stations.", { source: "osaka.md", title: "Osaka" }),
      chunk("city#2", "Osaka housing prices by ward.", { source: "osaka.md", title: "Osaka" }),
      chunk("lone#0", "Population of the region.", { source: "stats.md", title: "Stats" }),
      chunk("lyon#0", "Subway maps of Lyon are printed on paper and posted in every station hall.", {
        source: "lyon.md",
      }),
      chunk("lyon#1", "Housing in Lyon costs less than in Paris, according to many reports over the years.", {
        source: "lyon2.md",
      }),
      chunk("rivers#0", "Rivers flow into the sea.", { source: "rivers.md", title: "Rivers" }),
    ];
    const { make: makeDefault } = await setup(docs, { boosts: { title: 0 } });
    // Whole-document evidence would already lift Osaka; this isolates the chunk aggregation.
    const make = (options: Partial<HybridRetrieverOptions>) =>
      makeDefault({ normalization: "minmax", documentWeight: 0, ...options });
    const question = "population, subway and housing";
    const chunkLevel = await make({ mode: "keyword", aggregate: "none", titleBoost: 0 }).invoke(question);
    expect(chunkLevel[0].id).toBe("lone#0");
    const docLevel = await make({ mode: "keyword", aggregate: "document", aggregateBonus: 0.1, titleBoost: 0 }).invoke(
      question,
    );
    expect(docLevel[0].metadata.source).toBe("osaka.md");
    // One chunk per document: the Osaka file does not fill every slot.
    expect(docLevel.map((d) => d.metadata.source)).toEqual([...new Set(docLevel.map((d) => d.metadata.source))]);
    const twoEach = await make({
      mode: "keyword",
      aggregate: "document",
      aggregateBonus: 0.1,
      chunksPerDocument: 2,
    }).invoke(question);
    expect(twoEach.slice(0, 2).every((d) => d.metadata.source === "osaka.md")).toBe(true);
  });

  it("boosts documents whose title the question names", async () => {
    const body = "Adjust the pegs slowly and check with a tuner.";
    const docs = [
      chunk("a#0", body, { source: "a.md", title: "Violin care" }),
      chunk("b#0", body, { source: "b.md", title: "Guitar tuning" }),
      chunk("c#0", body, { source: "c.md", title: "Guitar tuning basics" }),
    ];
    // Title field weight 0 so only the retriever's title boost tells the titles apart.
    const { make } = await setup(docs, { boosts: { title: 0 } });
    const question = "guitar tuning with pegs";
    const plain = await make({ titleBoost: 0, aggregate: "none", documentWeight: 0 }).retrieveWithScores(question);
    expect(new Set(plain.map(([, s]) => s)).size).toBe(1);
    const boosted = await make({ titleBoost: 0.3, aggregate: "none", documentWeight: 0 }).retrieveWithScores(question);
    expect(boosted[0][0].id).toBe("b#0");
    expect(boosted[0][1] - plain[0][1]).toBeCloseTo(0.3, 10);
    // "basics" is not in the question: 2 of 3 title words covered, below the default full coverage.
    expect(boosted.find(([d]) => d.id === "c#0")![1]).toBeCloseTo(plain[0][1], 10);
    const partial = await make({
      titleBoost: 0.3,
      titleMinCoverage: 0.5,
      aggregate: "none",
      documentWeight: 0,
    }).retrieveWithScores(question);
    expect(partial.find(([d]) => d.id === "c#0")![1] - plain[0][1]).toBeCloseTo(0.2, 10);
  });

  it("boosts the document a question names by its title's name, not the page that mentions it", async () => {
    const docs = [
      chunk("tar#0", "In a few words: the purpose of this utility is to archive files.", {
        source: "tar.md",
        title: "tar(1): an archiving utility",
      }),
      chunk("basename#0", "basename NAME [SUFFIX]: print NAME with leading directories removed.", {
        source: "basename.md",
        title: "basename(1): strip directory and suffix from filenames",
      }),
    ];
    const { make } = await setup(docs, { boosts: { title: 0 } });
    const question = "In a few words, what's the purpose of the basename utility?";
    const score = async (options: Partial<HybridRetrieverOptions>) =>
      new Map(
        (await make({ mode: "keyword", documentWeight: 0, ...options }).retrieveWithScores(question)).map(([d, s]) => [
          d.id,
          s,
        ]),
      );
    const plain = await score({ titleBoost: 0 });
    // "basename" is all that the man page's title names (the rest is a description), so the
    // question covers it; the whole title it does not. tar's title names "tar", not asked for.
    const named = await score({});
    expect(HYBRID_DEFAULTS.titleBoost).toBe(1);
    expect(named.get("basename#0")! - plain.get("basename#0")!).toBeCloseTo(1, 10);
    expect(named.get("tar#0")).toBeCloseTo(plain.get("tar#0")!, 10);
  });

  it("ranks the chunk whose term line names what the question asks above chunks that mention it", async () => {
    const docs = [
      chunk(
        "widget#0",
        "The default widget only spins. By default the widget spins and spins, the default way any widget spins.",
        { source: "widget.md", title: "Widget overview" },
      ),
      chunk(
        "widget#1",
        "Tool selection.\n\n--widget=<name> [default: spinner]\n\nChooses which widget runs, e.g. spinner or hummer.",
        { source: "widget.md", title: "Widget overview" },
      ),
      chunk("widget#2", "Speed.\n\n--spin-rate=<rpm> [default: 40]\n\nHow fast the widget turns.", {
        source: "widget.md",
        title: "Widget overview",
      }),
      chunk("hummer#0", "The hummer hums. Its default hum is low.", { source: "hummer.md", title: "Hummer" }),
    ];
    const { make } = await setup(docs);
    const question = "What is the default widget?";
    const options = { mode: "keyword", aggregate: "none", documentWeight: 0, titleBoost: 0 } as const;
    const plain = await make({ ...options, termBoost: 0 }).retrieveWithScores(question);
    expect(plain[0]![0].id).toBe("widget#0");
    const owned = await make(options).retrieveWithScores(question);
    expect(HYBRID_DEFAULTS.termBoost).toBe(1.5);
    expect(owned[0]![0].id).toBe("widget#1");
    const score = (results: Array<[Document, number]>, id: string) => results.find(([d]) => d.id === id)![1];
    expect(score(owned, "widget#1") - score(plain, "widget#1")).toBeCloseTo(1.5, 10);
    expect(score(owned, "widget#0")).toBeCloseTo(score(plain, "widget#0"), 10);
    // Half of "--spin-rate" is below the default full coverage; a lower bar scales the boost by the share.
    const spin = "How fast is the spin?";
    const fullOnly = await make(options).retrieveWithScores(spin);
    expect(score(fullOnly, "widget#2")).toBeCloseTo(
      score(await make({ ...options, termBoost: 0 }).retrieveWithScores(spin), "widget#2"),
      10,
    );
    const half = await make({ ...options, termMinCoverage: 0.5 }).retrieveWithScores(spin);
    expect(score(half, "widget#2") - score(fullOnly, "widget#2")).toBeCloseTo(0.75, 10);
    // A question that writes the option whole asks for that entry: twice the boost.
    const written = "What is the default of --spin-rate?";
    const withName = score(await make(options).retrieveWithScores(written), "widget#2");
    const without = score(await make({ ...options, termBoost: 0 }).retrieveWithScores(written), "widget#2");
    expect(withName - without).toBeCloseTo(3, 10);
    expect(() => make({ termBoost: -1 })).toThrow(GeneraError);
  });

  it("applies one filter to both sides", async () => {
    const { store, keywordIndex, make } = await setup(corpus());
    const seen: unknown[] = [];
    const original = store.similaritySearchVectorWithScore.bind(store);
    store.similaritySearchVectorWithScore = (q, k, filter) => {
      seen.push(filter);
      return original(q, k, filter);
    };
    const filter = { title: "Kitchen" };
    const results = await make({ filter, k: 5 }).invoke("Zorblax soup cooking guitar");
    expect(seen).toEqual([filter]);
    expect(ids(results)).toEqual(["soup#0"]);
    expect(keywordIndex.search("Zorblax", { filter })).toEqual([]);

    const predicate = (doc: { metadata: Record<string, unknown> }) => doc.metadata.title !== "Gadgets";
    const viaPredicate = await make({ filter: predicate, k: 5 }).invoke("Zorblax guitar");
    expect(ids(viaPredicate)).not.toContain("gadget#0");
    expect(ids(viaPredicate)).toContain("guitar#0");
  });

  it("diversifies near-duplicates with MMR over stored vectors", async () => {
    const docs = [
      chunk("dup#0", "Car engine maintenance: change the engine oil.", { source: "d0.md" }),
      chunk("dup#1", "Car engine maintenance: change the engine oil often.", { source: "d1.md" }),
      chunk("dup#2", "Car engine maintenance: change engine oil yearly.", { source: "d2.md" }),
      chunk("paint#0", "Car maintenance: wash the paint; car maintenance also means tyre checks.", {
        source: "p.md",
      }),
      chunk("guitar#0", "Guitar strings.", { source: "g.md" }),
    ];
    const { make: makeDefault } = await setup(docs);
    const make = (options: Partial<HybridRetrieverOptions>) =>
      // No whole-document evidence: this isolates MMR.
      makeDefault({ normalization: "minmax", keywordWeight: 0.6, documentWeight: 0, ...options });
    const question = "car engine maintenance";
    const plain = await make({ k: 2, aggregate: "none" }).invoke(question);
    expect(ids(plain).every((id) => id!.startsWith("dup"))).toBe(true);
    const diverse = await make({ k: 2, aggregate: "none", mmr: { lambda: 0.5, fetchK: 5 } }).invoke(question);
    expect(diverse[0].id).toBe(plain[0].id);
    expect(diverse[1].id).toBe("paint#0");
  });
});

import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/engine/random.js";
import { GeneraError } from "../../src/errors.js";
import { analyzeText, foldText, KeywordIndex, titleName } from "../../vectorstores/KeywordIndex.js";
import type { KeywordScores } from "../../vectorstores/KeywordScores.js";
import { porterStem } from "../../vectorstores/porterStem.js";
import { topIds } from "../../vectorstores/scoreFusion.js";
import { chunk } from "./hybridFixtures.js";

const corpus = () => [
  chunk("pike#0", "Zebulon Pike led an expedition to the southern Louisiana Territory in 1806.", {
    title: "Early explorers",
    headings: ["Early explorers", "Expeditions"],
  }),
  chunk("errors#0", "The server answers with error code 4021 when the upload quota is exhausted.", {
    title: "Error reference",
  }),
  chunk("errors#1", "Error codes below 4000 are transient; retry them with exponential backoff.", {
    title: "Error reference",
  }),
  chunk("config#0", "Configuration lives in genera.config.json; configuring ports needs a restart.", {
    title: "Setup",
  }),
  chunk("cafe#0", "The Café Müller menu lists crème brûlée and espresso.", { title: "Menus" }),
  chunk("gpt#0", "GPT-4 and GPT-3.5 differ in context length; version 2.4.1 of the client supports both.", {
    title: "Models",
  }),
  chunk("hash#0", "Hash tables give constant average lookup time.", { title: "Hashing", source: "cs/hashing.md" }),
  chunk("trees#0", "Binary search trees keep keys ordered for range queries.", {
    title: "Trees",
    source: "cs/trees.md",
  }),
];

function expectGeneraError(fn: () => unknown, code: string): GeneraError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GeneraError);
    expect((error as GeneraError).code).toBe(code);
    return error as GeneraError;
  }
  throw new Error(`expected GeneraError ${code}`);
}

describe("porterStem", () => {
  it("matches the reference algorithm on the paper's examples", () => {
    const cases: Record<string, string> = {
      caresses: "caress",
      ponies: "poni",
      cats: "cat",
      agreed: "agre",
      plastered: "plaster",
      motoring: "motor",
      hopping: "hop",
      falling: "fall",
      filing: "file",
      happy: "happi",
      relational: "relat",
      conditional: "condit",
      generalization: "gener",
      connection: "connect",
      connecting: "connect",
      adjustment: "adjust",
      electrical: "electr",
      hopeful: "hope",
      goodness: "good",
      controlling: "control",
    };
    for (const [word, stem] of Object.entries(cases)) expect(porterStem(word), word).toBe(stem);
  });

  it("leaves short words, numbers and non-ASCII words alone", () => {
    expect(porterStem("is")).toBe("is");
    expect(porterStem("v2s")).toBe("v2s");
    expect(porterStem("ñandús")).toBe("ñandús");
  });
});

describe("text analysis", () => {
  it("folds Unicode compatibility forms, diacritics and case", () => {
    expect(foldText("Ångström CAFÉ naïve ﬁle Straße")).toBe("angstrom cafe naive file strasse");
  });

  it("drops stop words, stems, and keeps compounds whole and in parts", () => {
    expect(analyzeText("The configuring of the servers")).toEqual(["configur", "server"]);
    expect(analyzeText("GPT-4 costs 1,000 dollars")).toEqual(["gpt-4", "gpt", "4", "cost", "1000", "dollar"]);
    expect(analyzeText("users' don't", { stem: false })).toEqual(["users"]);
  });

  it("drops contractions with their apostrophe gone, as the words they stand for", () => {
    expect(analyzeText("In a few words, what's the purpose of basename? It isn't tar", { stem: false })).toEqual([
      "words",
      "purpose",
      "basename",
      "tar",
    ]);
  });

  it("keeps command-line options whole as well as their words", () => {
    expect(analyzeText("- `-i, --initial`: do not convert tabs", { stem: false })).toEqual([
      "-i",
      "--initial",
      "initial",
      "convert",
      "tabs",
    ]);
    expect(analyzeText("Which tool accepts --check-supported?", { stem: false })).toEqual([
      "tool",
      "accepts",
      "--check-supported",
      "check-supported",
      "check",
      "supported",
    ]);
    // Hyphenated words, negative numbers and ranges are no options.
    expect(analyzeText("x-ray at -1 or 3-4", { stem: false })).toEqual(["x-ray", "x", "ray", "1", "3-4", "3", "4"]);
  });

  it("reads what a title names", () => {
    expect(titleName("basename(1): strip directory and suffix from filenames")).toBe("basename");
    expect(titleName("align-content (CSS property)")).toBe("align-content");
    expect(titleName("8.8. Geometric Types")).toBe("Geometric Types");
    expect(titleName("GRANT — define access privileges")).toBe("GRANT");
    expect(titleName("Encoder–decoder, encoder-only and decoder-only models")).toBe(
      "Encoder–decoder, encoder-only and decoder-only models",
    );
    expect(titleName("(untitled)")).toBe("(untitled)");
  });

  it("splits scripts without spaces into characters and pairs", () => {
    expect(analyzeText("東京都")).toEqual(["東", "東京", "京", "京都", "都"]);
  });
});

describe("KeywordIndex search", () => {
  it("finds rare names and exact numbers", () => {
    const index = KeywordIndex.rebuildFrom(corpus());
    expect(index.search("who was Zebulon Pike?", { k: 3 })[0].id).toBe("pike#0");
    expect(index.search("what does 4021 mean", { k: 3 })[0].id).toBe("errors#0");
    expect(index.search("1806", { k: 3 }).map((r) => r.id)).toEqual(["pike#0"]);
    expect(index.search("client 2.4.1", { k: 1 })[0].id).toBe("gpt#0");
  });

  it("matches across word forms and accents", () => {
    const index = KeywordIndex.rebuildFrom(corpus());
    expect(index.search("how do I configure it", { k: 1 })[0].id).toBe("config#0");
    expect(index.search("cafe muller creme brulee", { k: 1 })[0].id).toBe("cafe#0");
    const unstemmed = KeywordIndex.rebuildFrom(corpus(), { stem: false });
    expect(unstemmed.search("configure", { k: 1 })).toEqual([]);
  });

  it("returns results best first with positive scores and copies of the documents", () => {
    const index = KeywordIndex.rebuildFrom(corpus());
    const results = index.search("error code retry", { k: 5 });
    expect(results.map((r) => r.id).sort()).toEqual(["errors#0", "errors#1"]);
    expect(results[0].score).toBeGreaterThanOrEqual(results[1].score);
    results[0].document.metadata.title = "changed";
    expect(index.getDocument(results[0].id)?.metadata.title).toBe("Error reference");
    expect(index.search("the of and", { k: 5 })).toEqual([]);
  });

  it("weights a title match above a body match", () => {
    const index = KeywordIndex.rebuildFrom([
      chunk("a#0", "Some notes on many things, including hashing in passing.", { title: "Miscellany" }),
      chunk("b#0", "Buckets and collisions explained.", { title: "Hashing" }),
    ]);
    expect(index.search("hashing", { k: 2 }).map((r) => r.id)).toEqual(["b#0", "a#0"]);
  });

  it("applies metadata and predicate filters", () => {
    const index = KeywordIndex.rebuildFrom(corpus());
    expect(index.search("hash trees keys", { k: 5, filter: { source: "cs/trees.md" } }).map((r) => r.id)).toEqual([
      "trees#0",
    ]);
    const ids = index.search("error code", { k: 5, filter: (doc) => doc.id !== "errors#0" }).map((r) => r.id);
    expect(ids).toEqual(["errors#1"]);
  });

  it("supports fuzzy and prefix matching on request", () => {
    const index = KeywordIndex.rebuildFrom(corpus());
    expect(index.search("zebulom", { k: 1 })).toEqual([]);
    expect(index.search("zebulom", { k: 1, fuzzy: true })[0].id).toBe("pike#0");
    expect(index.search("zebu", { k: 1, prefix: true })[0].id).toBe("pike#0");
  });

  it("scores terms found in most chunks only on chunks that match a rarer term, unless nothing else is left", () => {
    const docs = Array.from({ length: 250 }, (_, i) =>
      chunk(`c${i}#0`, i === 7 ? "common words and one zanzibar" : `common words number ${i}`),
    );
    const index = KeywordIndex.rebuildFrom(docs);
    const hits = index.search("common zanzibar", { k: 300 });
    expect(hits.map((r) => r.id)).toEqual(["c7#0"]);
    // The common term still counts where it is found: the same score as scoring every term everywhere.
    expect(hits[0]?.score).toBe(index.search("common zanzibar", { k: 1, maxDocFrequency: 1 })[0]?.score);
    expect(index.search("common", { k: 300 })).toHaveLength(250);
    expect(index.search("common zanzibar", { k: 300, maxDocFrequency: 1 })).toHaveLength(250);
  });

  it("ranks a profile's own field line above a neighbour that mentions the value (parallel profiles)", () => {
    // One profile per element: "Atomic number: N" in every identity chunk, so "atomic" and
    // "number" are in most chunks; "element" is in every description, "11" in two chunks.
    const docs = Array.from({ length: 130 }, (_, i) => [
      chunk(`e${i}#0`, `Symbol: X${i}\nAtomic number: ${i + 20}\nAtomic weight: ${i * 2 + 40}.5`),
      chunk(`e${i}#1`, i === 3 ? "Soft metallic element with a half-life of 2.5*10^11 years." : "A metallic element."),
    ]).flat();
    docs.push(chunk("sodium#0", "Symbol: Na\nAtomic number: 11\nAtomic weight: 22.98977"));
    const index = KeywordIndex.rebuildFrom(docs);
    expect(index.search("Which element has atomic number 11?", { k: 1 })[0]?.id).toBe("sodium#0");
  });

  it("scores exactly as MiniSearch's own search does, filters and repeated searches included", async () => {
    const words = ["attention", "layer", "norm", "token", "quokka", "retrieval", "Müller", "gpt-4", "2023", "scale"];
    const random = seededRandom(7);
    const pick = () => words[Math.floor(random() * words.length)];
    const docs = Array.from({ length: 300 }, (_, i) =>
      chunk(`d${i}#0`, Array.from({ length: 5 + (i % 17) }, pick).join(" "), {
        title: i % 3 ? `Title ${pick()}` : "",
        headings: i % 2 ? [pick() as string] : [],
        group: i % 4,
      }),
    );
    const index = KeywordIndex.rebuildFrom(docs);
    // MiniSearch's own path, as scores() took it before: the same call on the same postings.
    const mini = (index as unknown as { mini: { search(q: string, o: object): Array<{ id: string; score: number }> } })
      .mini;
    const reference = (query: string, filter?: (id: string) => boolean) => {
      const terms = [...new Set(index.analyze(query))];
      return new Map(
        mini
          .search(terms.join(" "), {
            tokenize: (t: string) => t.split(" "),
            processTerm: (t: string) => t,
            fields: ["title", "headings", "body"],
            boost: { title: 2, headings: 1.5, body: 1 },
            filter: filter && ((r: { id: string }) => filter(r.id)),
          })
          .map((r) => [r.id, r.score]),
      );
    };
    for (const query of ["attention layer", "quokka scale 2023", "gpt-4 müller", "token token norm", "absent words"]) {
      const want = reference(query);
      for (let repeat = 0; repeat < 2; repeat++) {
        expect(new Map(index.scores(query, { maxDocFrequency: 1 }))).toEqual(want);
      }
      const even = (id: string) => Number(id.slice(1, -2)) % 4 === 0;
      expect(new Map(index.scores(query, { maxDocFrequency: 1, filter: { group: 0 } }))).toEqual(
        reference(query, even),
      );
    }
    // The postings a search copies out of MiniSearch are kept in step with every later change,
    // so a search right after one equals a search on postings copied afresh.
    const queries = ["attention layer", "quokka scale 2023", "token norm", "müller norm"];
    const internals = index as unknown as { postings?: unknown };
    const check = () => {
      const kept = queries.map((q) => new Map(index.scores(q, { maxDocFrequency: 1 })));
      internals.postings = undefined;
      expect(kept).toEqual(queries.map((q) => new Map(index.scores(q, { maxDocFrequency: 1 }))));
    };
    for (const query of queries) index.scores(query, { maxDocFrequency: 1 });
    index.add([
      chunk("new#0", "attention attention quokka token"),
      chunk("new#1", "layer scale norm", { title: "Quokka norm", headings: ["attention"] }),
    ]);
    check();
    index.remove(["d3#0", "d10#0", "new#1"]);
    check();
    index.replace([chunk("d5#0", "quokka quokka quokka 2023 attention")]);
    check();
    await index.compact(); // drops discarded postings
    check();
  });

  it("ranks its matches as topIds ranks them and reads a score by id without a Map of every match", () => {
    // Many equal scores, so ties must fall back to the id as topIds does.
    const docs = Array.from({ length: 400 }, (_, i) =>
      chunk(`c${String(i).padStart(3, "0")}#0`, i % 5 ? `quokka walrus ${i % 7 ? "" : "quokka"}` : "walrus"),
    );
    const index = KeywordIndex.rebuildFrom(docs);
    const scores = index.scores("quokka walrus", { maxDocFrequency: 1 });
    const asMap = new Map(scores);
    expect(scores.size).toBe(400);
    expect(asMap.size).toBe(400);
    for (const k of [1, 7, 50, 400, 1000]) {
      expect((scores as KeywordScores).top(k)).toEqual(topIds(asMap, k));
    }
    expect(scores.get("c001#0")).toBe(asMap.get("c001#0"));
    expect(scores.get("absent")).toBeUndefined();
    expect(scores.has("c000#0")).toBe(true);
    // A chunk removed after the search is left out of what the scores list, and not found by id.
    index.remove(["c001#0"]);
    expect(scores.get("c001#0")).toBeUndefined();
    expect([...scores.keys()]).not.toContain("c001#0");
    expect((scores as KeywordScores).top(3)).not.toContain("c001#0");
  });

  it("rejects bad k and filters", () => {
    const index = KeywordIndex.rebuildFrom(corpus());
    expectGeneraError(() => index.search("x", { k: 0 }), "INVALID_INPUT");
    expectGeneraError(() => index.search("x", { filter: [1] as unknown as Record<string, unknown> }), "INVALID_INPUT");
  });
});

describe("KeywordIndex updates", () => {
  it("adds, replaces (upserts) and removes by id", () => {
    const index = new KeywordIndex();
    index.add(corpus().slice(0, 3));
    expect(index.size).toBe(3);
    expect(index.has("pike#0")).toBe(true);

    index.replace([
      chunk("pike#0", "Meriwether Lewis and William Clark crossed the continent.", { title: "Early explorers" }),
      chunk("new#0", "Zebulon appears here now.", { title: "New" }),
    ]);
    expect(index.size).toBe(4);
    expect(index.search("zebulon", { k: 5 }).map((r) => r.id)).toEqual(["new#0"]);
    expect(index.search("meriwether", { k: 5 }).map((r) => r.id)).toEqual(["pike#0"]);

    expect(index.remove(["errors#0", "missing"])).toBe(1);
    expect(index.has("errors#0")).toBe(false);
    expect(index.search("4021", { k: 5 })).toEqual([]);
    expect(index.size).toBe(3);
  });

  it("refuses duplicates and documents without ids, storing nothing from the failed call", () => {
    const index = KeywordIndex.rebuildFrom(corpus().slice(0, 2));
    expectGeneraError(() => index.add([chunk("other#0", "fresh text"), corpus()[0]]), "CONFLICT");
    expect(index.has("other#0")).toBe(false);
    const noId = chunk("x#0", "text");
    noId.id = undefined;
    noId.metadata.id = undefined;
    expectGeneraError(() => index.add([chunk("y#0", "fine"), noId]), "INVALID_INPUT");
    expectGeneraError(() => index.add([chunk("z#0", "a"), chunk("z#0", "b")]), "INVALID_INPUT");
    expect(index.size).toBe(2);
  });
});

describe("KeywordIndex persistence (through a store)", () => {
  it("reopens from termsOf output with the same scores, without the texts", () => {
    const original = KeywordIndex.rebuildFrom(corpus(), { boosts: { title: 3 } });
    original.remove(["cafe#0"]);
    const docs = new Map(corpus().map((d) => [d.id as string, d]));
    // What a store keeps per chunk: the analysed terms; the documents come from its docstore.
    const stored = corpus()
      .filter((d) => original.has(d.id as string))
      .map((d) => ({ id: d.id as string, terms: original.termsOf(d) }));
    const reopened = new KeywordIndex({ boosts: { title: 3 }, documents: { get: (id) => docs.get(id) } });
    reopened.addAnalyzed(stored);
    expect(reopened.size).toBe(original.size);
    for (const q of ["Zebulon 1806", "error code", "configuring", "GPT-4", "café"]) {
      const a = reopened.search(q, { k: 5 });
      const b = original.search(q, { k: 5 });
      expect(a.map((r) => r.id)).toEqual(b.map((r) => r.id));
      expect(a.map((r) => r.score)).toEqual(b.map((r) => r.score));
    }
    expect(reopened.getDocument("pike#0")?.metadata.headings).toEqual(["Early explorers", "Expeditions"]);
    reopened.add([chunk("after#0", "added after load")]);
    docs.set("after#0", chunk("after#0", "added after load"));
    expect(reopened.search("added", { k: 1 })[0].id).toBe("after#0");
    expectGeneraError(() => reopened.addAnalyzed(stored.slice(0, 1)), "CONFLICT");
  });

  it("analyses a long text a piece at a time to exactly the terms of analysing it whole", async () => {
    const index = new KeywordIndex();
    const line = "ΟΔΟΣ ΣΟΦΊΑΣ\tdon't  gpt-4.1 costs 1,000,000 — e\u0301cole naïve\u00a0snake_case\n\n";
    const text = `${line.repeat(40)}end`;
    const doc = chunk("long#0", text, { source: "long.md", title: "Long Title", headings: ["Part", "One"] });
    const whole = index.termsOf(doc);
    for (const piece of [1, 7, 13, 64, 1 << 16]) {
      expect(await index.termsOfInSlices(doc, piece), String(piece)).toEqual(whole);
    }
  });

  it("restores a snapshot of its postings with the same scores, and keeps changing after", () => {
    const docs = new Map(corpus().map((d) => [d.id as string, d]));
    const documents = { get: (id: string) => docs.get(id) };
    const original = new KeywordIndex({ boosts: { title: 3 }, documents });
    original.addAnalyzed(corpus().map((d) => ({ id: d.id as string, terms: original.termsOf(d) })));
    original.remove(["cafe#0"]);
    // Written term by term, it is exactly what MiniSearch's own serialisation gives.
    const mini = (original as unknown as { mini: object }).mini;
    expect(JSON.parse(original.snapshot())).toEqual(JSON.parse(JSON.stringify(mini)));
    const restored = new KeywordIndex({ boosts: { title: 3 }, documents });
    restored.loadSnapshot(original.snapshot());
    expect(restored.size).toBe(original.size);
    expect(restored.ids().sort()).toEqual(original.ids().sort());
    for (const q of ["Zebulon 1806", "error code", "configuring", "GPT-4", "café"]) {
      expect(restored.search(q, { k: 5 }).map((r) => [r.id, r.score])).toEqual(
        original.search(q, { k: 5 }).map((r) => [r.id, r.score]),
      );
    }
    const later = chunk("after#0", "added after the snapshot");
    docs.set("after#0", later);
    restored.addAnalyzed([{ id: "after#0", terms: restored.termsOf(later) }]);
    expect(restored.search("snapshot", { k: 1 })[0]?.id).toBe("after#0");
    expect(() => restored.loadSnapshot("{not json")).toThrow();
    expect(restored.size).toBe(0);
    // An index with its own documents keeps the entries it is given documents for.
    const own = new KeywordIndex({ boosts: { title: 3 } });
    own.loadSnapshot(original.snapshot(), [docs.get("pike#0")!]);
    expect(own.ids()).toEqual(["pike#0"]);
    expect(own.getDocument("pike#0")?.pageContent).toBe(docs.get("pike#0")?.pageContent);
  });

  it("an index with its own documents needs them with the terms", () => {
    const index = new KeywordIndex();
    const doc = corpus()[0];
    expectGeneraError(() => index.addAnalyzed([{ id: "x", terms: index.termsOf(doc) }]), "INVALID_INPUT");
    index.addAnalyzed([{ id: doc.id as string, terms: index.termsOf(doc), document: doc }]);
    expect(index.search("zebulon", { k: 1 })[0]?.document.pageContent).toBe(doc.pageContent);
  });

  it("compact() drops removed entries' postings and keeps scores", async () => {
    const index = KeywordIndex.rebuildFrom(corpus());
    const before = index.search("hash", { k: 3 });
    index.remove(["pike#0", "errors#0", "errors#1", "config#0"]);
    await index.compact();
    const postings = (index as unknown as { mini: { dirtCount: number; _index: { has(t: string): boolean } } }).mini;
    expect(postings.dirtCount).toBe(0);
    expect(postings._index.has("zebulon")).toBe(false);
    expect(index.search("hash", { k: 3 }).map((r) => r.id)).toEqual(
      before.map((r) => r.id).filter((id) => index.has(id)),
    );
  });
});

describe("KeywordIndex fields weighted 0", () => {
  it("open no match with a common term in the query (a title-only hit is no hit)", () => {
    // 300 chunks that all say "common" (unselective past 200 chunks); "rare" is in one body and in ten titles.
    const docs = Array.from(
      { length: 300 },
      (_, i) =>
        new Document({
          id: `c${i}`,
          pageContent: i === 0 ? "common rare words" : `common words ${i}`,
          metadata: { title: i > 0 && i <= 10 ? "rare title" : `title ${i}` },
        }),
    );
    const index = new KeywordIndex({ boosts: { title: 0, headings: 0, body: 1 } });
    index.add(docs);
    const scores = [...index.scores("common rare")];
    expect(scores.map(([id]) => id)).toEqual(["c0"]);
    expect(scores[0]?.[1]).toBeGreaterThan(0);
  });
});

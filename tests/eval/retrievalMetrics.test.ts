import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import { GeneraError } from "../../src/errors.js";
import {
  containsAnswer,
  evaluateRetriever,
  ndcgAtK,
  normalizeAnswer,
  recallAtK,
  reciprocalRank,
  sourceMatches,
  tokenF1,
} from "../../src/eval/retrievalMetrics.js";

describe("source matching", () => {
  it("matches equal paths and suffixes at a path boundary", () => {
    expect(sourceMatches("/home/me/kb/docs/a.md", "docs/a.md")).toBe(true);
    expect(sourceMatches("docs/a.md", "./docs/a.md")).toBe(true);
    expect(sourceMatches("C:\\kb\\docs\\a.md", "docs/a.md")).toBe(true);
    expect(sourceMatches("/kb/docs/data.md", "a.md")).toBe(false);
    expect(sourceMatches("", "a.md")).toBe(false);
  });
});

describe("ranking metrics", () => {
  const retrieved = ["x.md", "kb/a.md", "kb/a.md", "b.md", "y.md"];

  it("recall@k counts each gold source once", () => {
    expect(recallAtK(retrieved, ["a.md", "b.md"], 1)).toBe(0);
    expect(recallAtK(retrieved, ["a.md", "b.md"], 3)).toBe(0.5);
    expect(recallAtK(retrieved, ["a.md", "b.md"], 5)).toBe(1);
    expect(recallAtK(retrieved, [], 5)).toBe(0);
  });

  it("reciprocal rank is 1 / rank of the first hit", () => {
    expect(reciprocalRank(retrieved, ["a.md"])).toBe(0.5);
    expect(reciprocalRank(retrieved, ["b.md"])).toBe(0.25);
    expect(reciprocalRank(retrieved, ["z.md"])).toBe(0);
    expect(reciprocalRank(retrieved, ["b.md"], 3)).toBe(0);
  });

  it("nDCG@k uses binary relevance and ignores repeated chunks of a found document", () => {
    // Hits at ranks 2 and 4 (rank 3 repeats a.md): DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3).
    const expected = (1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3));
    expect(ndcgAtK(retrieved, ["a.md", "b.md"], 5)).toBeCloseTo(expected, 12);
    expect(ndcgAtK(["a.md"], ["a.md"], 10)).toBe(1);
    expect(ndcgAtK(["q.md"], ["a.md"], 10)).toBe(0);
  });
});

describe("answer metrics", () => {
  it("normalises case, accents, punctuation and articles", () => {
    expect(normalizeAnswer("The Café, an  ÉCOLE!")).toBe("cafe ecole");
  });

  it("token F1 is the harmonic mean of token precision and recall", () => {
    expect(tokenF1("the cat sat", "cat sat down")).toBeCloseTo(0.8, 12); // p = 2/2, r = 2/3
    expect(tokenF1("dog", "cat")).toBe(0);
    expect(tokenF1("Paris", ["London", "paris"])).toBe(1);
  });

  it("containsAnswer looks for the whole normalised answer", () => {
    expect(containsAnswer("It was founded in 1806 by Pike.", "1806")).toBe(true);
    expect(containsAnswer("It was founded in 18060.", "1806")).toBe(false);
    expect(containsAnswer("Ångström units", ["angstrom"])).toBe(true);
  });
});

describe("evaluateRetriever", () => {
  const docsFor: Record<string, string[]> = {
    "where is a": ["kb/a.md", "kb/b.md"],
    "where is b": ["kb/c.md", "kb/b.md"],
    "nothing here": ["kb/c.md"],
  };
  const retriever = {
    calls: 0,
    async invoke(q: string) {
      this.calls++;
      return (docsFor[q] ?? []).map(
        (source, i) =>
          new Document({
            pageContent: source === "kb/b.md" ? "B is at 42 Main St." : `text ${i}`,
            metadata: { source },
          }),
      );
    },
  };

  it("averages recall, MRR, nDCG and answer containment over the questions", async () => {
    const result = await evaluateRetriever(
      retriever,
      [
        { question: "where is a", sources: ["a.md"] },
        { question: "where is b", sources: ["b.md"], answer: "42 Main St" },
        { question: "nothing here", sources: ["a.md"] },
        { question: "no gold at all" },
      ],
      { ks: [1, 2] },
    );
    expect(retriever.calls).toBe(4);
    expect(result.questions).toBe(4);
    expect(result.withSources).toBe(3);
    expect(result.withAnswer).toBe(1);
    expect(result.recall[1]).toBeCloseTo(1 / 3, 12);
    expect(result.recall[2]).toBeCloseTo(2 / 3, 12);
    expect(result.mrr).toBeCloseTo((1 + 0.5 + 0) / 3, 12);
    expect(result.answerInContext[1]).toBe(0);
    expect(result.answerInContext[2]).toBe(1);
    expect(result.details.map((d) => d.firstRelevantRank)).toEqual([1, 2, null, null]);
  });

  it("rejects bad cut-offs and questions", async () => {
    await expect(evaluateRetriever(retriever, [], { ks: [0] })).rejects.toBeInstanceOf(GeneraError);
    await expect(evaluateRetriever(retriever, [{ question: " " }])).rejects.toBeInstanceOf(GeneraError);
  });
});

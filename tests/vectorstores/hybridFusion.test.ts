import { describe, expect, it } from "vitest";
import {
  aggregateByDocument,
  convexFusion,
  maximalMarginalRelevance,
  normalizeScores,
  rankIds,
  reciprocalRankFusion,
  topIds,
} from "../../vectorstores/scoreFusion.js";

const map = (entries: Record<string, number>) => new Map(Object.entries(entries));
const obj = (m: Map<string, number>) => Object.fromEntries(m);

describe("score normalisation", () => {
  it("min-max scales to [0, 1] and treats all-equal scores as all best", () => {
    expect(obj(normalizeScores(map({ a: 1, b: 3, c: 5 }), "minmax"))).toEqual({ a: 0, b: 0.5, c: 1 });
    expect(obj(normalizeScores(map({ a: 2, b: 2 }), "minmax"))).toEqual({ a: 1, b: 1 });
    expect(normalizeScores(new Map(), "minmax").size).toBe(0);
    expect(obj(normalizeScores(map({ a: 2, b: 4 }), "minmax", { zeroFloor: true }))).toEqual({ a: 0.5, b: 1 });
  });

  it("z-score centres on the mean in units of the standard deviation", () => {
    const z = normalizeScores(map({ a: 1, b: 3, c: 5 }), "zscore");
    const sd = Math.sqrt(8 / 3);
    expect(z.get("a")).toBeCloseTo(-2 / sd, 12);
    expect(z.get("b")).toBeCloseTo(0, 12);
    expect(z.get("c")).toBeCloseTo(2 / sd, 12);
    expect(obj(normalizeScores(map({ a: 7, b: 7 }), "zscore"))).toEqual({ a: 0, b: 0 });
  });
});

describe("fusion", () => {
  it("convex fusion weights normalised scores and floors a missing side", () => {
    const dense = map({ a: 0.9, b: 0.5 });
    const keyword = map({ b: 10, c: 4 });
    const plain = convexFusion(dense, keyword, {
      keywordWeight: 0.6,
      normalization: "minmax",
      keywordZeroFloor: false,
    });
    // nd = {a: 1, b: 0}, nk = {b: 1, c: 0}; missing entries take the side's minimum (0).
    expect(plain.get("a")).toBeCloseTo(0.4, 12);
    expect(plain.get("b")).toBeCloseTo(0.6, 12);
    expect(plain.get("c")).toBeCloseTo(0, 12);
    // BM25's own zero as the keyword floor: nk = {b: 10/10, c: 4/10}.
    const fused = convexFusion(dense, keyword, { keywordWeight: 0.6, normalization: "minmax" });
    expect(fused.get("a")).toBeCloseTo(0.4, 12);
    expect(fused.get("b")).toBeCloseTo(0.6, 12);
    expect(fused.get("c")).toBeCloseTo(0.24, 12);
    expect(rankIds(fused)).toEqual(["b", "a", "c"]);
  });

  it("convex fusion with z-scores floors a missing side at its lowest z", () => {
    const dense = map({ a: 3, b: 1 });
    const keyword = map({ a: 1, b: 2, c: 3 });
    const fused = convexFusion(dense, keyword, { keywordWeight: 0.5, normalization: "zscore" });
    const zk = Math.sqrt(3 / 2); // keyword z-scores: a = −√1.5, b = 0, c = √1.5
    expect(fused.get("a")).toBeCloseTo(0.5 * -zk + 0.5 * 1, 12);
    expect(fused.get("b")).toBeCloseTo(0.5 * 0 + 0.5 * -1, 12);
    expect(fused.get("c")).toBeCloseTo(0.5 * zk + 0.5 * -1, 12);
  });

  it("weight 1 or 0 reduces convex fusion to one side", () => {
    const dense = map({ a: 0.9, b: 0.1 });
    const keyword = map({ a: 1, b: 9 });
    expect(rankIds(convexFusion(dense, keyword, { keywordWeight: 1, normalization: "minmax" }))).toEqual(["b", "a"]);
    expect(rankIds(convexFusion(dense, keyword, { keywordWeight: 0, normalization: "minmax" }))).toEqual(["a", "b"]);
  });

  it("reciprocal rank fusion sums 1 / (k + rank)", () => {
    const fused = reciprocalRankFusion(
      [
        ["a", "b", "c"],
        ["b", "a"],
      ],
      { k: 60 },
    );
    expect(fused.get("a")).toBeCloseTo(1 / 61 + 1 / 62, 15);
    expect(fused.get("b")).toBeCloseTo(1 / 62 + 1 / 61, 15);
    expect(fused.get("c")).toBeCloseTo(1 / 63, 15);
    const weighted = reciprocalRankFusion([["a"], ["b"]], { k: 0, weights: [2, 1] });
    expect(obj(weighted)).toEqual({ a: 2, b: 1 });
  });
});

describe("top-k selection", () => {
  it("agrees with a full sort, ties broken by id", () => {
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const scores = new Map(
      Array.from({ length: 500 }, (_, i) => [`id${i}`, Math.floor(random() * 50)] as [string, number]),
    );
    for (const k of [1, 7, 50, 200, 600]) expect(topIds(scores, k)).toEqual(rankIds(scores).slice(0, k));
  });
});

describe("document aggregation", () => {
  it("scores a document by its best chunk plus a bonus for the next ones", () => {
    const chunks = map({ x1: 0.9, x2: 0.5, x3: 0.4, x4: 0.3, y1: 0.95 });
    const docs = aggregateByDocument(chunks, (id) => id[0], { bonus: 0.1, extra: 2 });
    expect(docs.map((d) => d.key)).toEqual(["x", "y"]);
    expect(docs[0].score).toBeCloseTo(0.9 + 0.1 * (0.5 + 0.4), 12);
    expect(docs[0].chunkIds).toEqual(["x1", "x2", "x3", "x4"]);
    expect(docs[1].score).toBeCloseTo(0.95, 12);
    // Without a bonus it is plain max pooling.
    expect(aggregateByDocument(chunks, (id) => id[0], { bonus: 0 }).map((d) => d.key)).toEqual(["y", "x"]);
  });
});

describe("maximal marginal relevance", () => {
  it("trades relevance against redundancy", () => {
    const pool = [
      { id: "a", score: 1, vector: [1, 0] },
      { id: "b", score: 0.9, vector: [1, 0] },
      { id: "c", score: 0.5, vector: [0, 1] },
    ];
    // λ = 0.5: after a, b scores 0.5·0.8 − 0.5·1 = −0.1 and c scores 0.5·0 − 0.5·0 = 0.
    expect(maximalMarginalRelevance(pool, 2, 0.5)).toEqual(["a", "c"]);
    expect(maximalMarginalRelevance(pool, 2, 1)).toEqual(["a", "b"]);
    expect(maximalMarginalRelevance(pool, 5, 0.5)).toHaveLength(3);
  });
});

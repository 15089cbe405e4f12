/**
 * Score arithmetic for hybrid retrieval: per-query normalisation, convex and
 * reciprocal-rank fusion, document-level aggregation and maximal marginal
 * relevance. Pure functions over id → score maps so they can be checked by hand.
 *
 * BM25 scores are unbounded and depend on the query's length and rare terms;
 * cosine similarities of a sentence encoder crowd into a narrow band. Neither
 * scale means anything across queries, so each side is normalised per query,
 * over the same candidate set, before the two are mixed.
 */

import { cosineSimilarity } from "../src/util/cosineSimilarity.js";

export type ScoreNormalization = "minmax" | "zscore";

const EPSILON = 1e-12;

/**
 * Normalise scores over one query's candidates.
 * - `minmax`: (s − min) / (max − min) ∈ [0, 1]; when every score is equal they all become 1
 *   (each is the best on that side). `zeroFloor` takes min ≤ 0: for BM25, whose 0 means
 *   "no term matched", the lowest candidate still matched something and should keep credit for it.
 * - `zscore`: (s − mean) / standard deviation; all 0 when the deviation is 0.
 */
export function normalizeScores(
  scores: ReadonlyMap<string, number>,
  method: ScoreNormalization,
  options: { zeroFloor?: boolean } = {},
): Map<string, number> {
  const out = new Map<string, number>();
  if (scores.size === 0) return out;
  const values = [...scores.values()];
  if (method === "minmax") {
    let min = options.zeroFloor ? 0 : Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const range = max - min;
    for (const [id, v] of scores) out.set(id, range > EPSILON ? (v - min) / range : 1);
    return out;
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) * (b - mean), 0) / values.length;
  const sd = Math.sqrt(variance);
  for (const [id, v] of scores) out.set(id, sd > EPSILON ? (v - mean) / sd : 0);
  return out;
}

export interface ConvexFusionOptions {
  /** Weight of the keyword side in [0, 1]; the dense side gets 1 − keywordWeight. */
  keywordWeight: number;
  normalization: ScoreNormalization;
  /** Min-max the keyword side against 0 rather than its lowest candidate (default true). */
  keywordZeroFloor?: boolean;
}

/**
 * fused(d) = w · norm(keyword)(d) + (1 − w) · norm(dense)(d) over the union of both candidate sets.
 * A candidate missing from one side takes that side's lowest normalised value: it
 * was not retrieved there, so it can be no better than the worst that was (0 on the
 * keyword side with the zero floor).
 */
export function convexFusion(
  dense: ReadonlyMap<string, number>,
  keyword: ReadonlyMap<string, number>,
  options: ConvexFusionOptions,
): Map<string, number> {
  const w = options.keywordWeight;
  const nd = normalizeScores(dense, options.normalization);
  const zeroFloor = (options.keywordZeroFloor ?? true) && options.normalization === "minmax";
  const nk = normalizeScores(keyword, options.normalization, { zeroFloor });
  const floor = (m: Map<string, number>) => (m.size ? Math.min(...m.values()) : 0);
  const dFloor = floor(nd);
  const kFloor = zeroFloor ? 0 : floor(nk);
  const fused = new Map<string, number>();
  for (const id of new Set([...dense.keys(), ...keyword.keys()])) {
    fused.set(id, w * (nk.get(id) ?? kFloor) + (1 - w) * (nd.get(id) ?? dFloor));
  }
  return fused;
}

/** Ids ordered by descending score; ties broken by id so results are deterministic. */
export function rankIds(scores: ReadonlyMap<string, number>): string[] {
  return [...scores.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([id]) => id);
}

/** The k best ids by score (ties by id), without sorting every match when there are many. */
export function topIds(scores: ReadonlyMap<string, number>, k: number): string[] {
  if (scores.size <= 4 * k) return rankIds(scores).slice(0, k);
  const better = (a: [string, number], b: [string, number]) => a[1] > b[1] || (a[1] === b[1] && a[0] < b[0]);
  // A min-heap of the best k seen so far; its root is the worst of them.
  const heap: Array<[string, number]> = [];
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && better(heap[m], heap[l])) m = l;
      if (r < heap.length && better(heap[m], heap[r])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (const entry of scores) {
    if (heap.length < k) {
      heap.push(entry);
      for (let i = heap.length - 1; i > 0; ) {
        const p = (i - 1) >> 1;
        if (!better(heap[p], heap[i])) break;
        [heap[i], heap[p]] = [heap[p], heap[i]];
        i = p;
      }
    } else if (better(entry, heap[0])) {
      heap[0] = entry;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (better(a, b) ? -1 : 1)).map(([id]) => id);
}

/**
 * Reciprocal rank fusion (Cormack et al., 2009): fused(d) = Σ_lists weight / (k + rank(d)),
 * ranks starting at 1. Only ranks matter, so no normalisation is needed — which is
 * also why it loses information that convex fusion keeps.
 */
export function reciprocalRankFusion(
  rankings: ReadonlyArray<readonly string[]>,
  options: { k?: number; weights?: readonly number[] } = {},
): Map<string, number> {
  const k = options.k ?? 60;
  const fused = new Map<string, number>();
  rankings.forEach((ranking, list) => {
    const weight = options.weights?.[list] ?? 1;
    ranking.forEach((id, i) => {
      fused.set(id, (fused.get(id) ?? 0) + weight / (k + i + 1));
    });
  });
  return fused;
}

export interface DocumentAggregate {
  /** The grouping key (usually the source path). */
  key: string;
  score: number;
  /** Chunk ids of this document, best first. */
  chunkIds: string[];
}

/**
 * Score whole documents from their chunks: the best chunk's score plus `bonus` times
 * the sum of the next `extra` chunks' scores (negative scores add nothing). A document
 * with several chunks that each answer part of the question thus rises above one whose
 * single chunk matches a lone word, while one strong chunk still dominates.
 */
export function aggregateByDocument(
  chunkScores: ReadonlyMap<string, number>,
  keyOf: (chunkId: string) => string,
  options: { bonus: number; extra?: number },
): DocumentAggregate[] {
  const extra = options.extra ?? 2;
  const groups = new Map<string, string[]>();
  for (const id of rankIds(chunkScores)) {
    const key = keyOf(id);
    const list = groups.get(key);
    if (list) list.push(id);
    else groups.set(key, [id]);
  }
  const docs: DocumentAggregate[] = [];
  for (const [key, chunkIds] of groups) {
    let score = chunkScores.get(chunkIds[0])!;
    for (const id of chunkIds.slice(1, 1 + extra)) score += options.bonus * Math.max(0, chunkScores.get(id)!);
    docs.push({ key, score, chunkIds });
  }
  return docs.sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export { cosineSimilarity };

/**
 * Greedy maximal marginal relevance over an already ranked pool: repeatedly take the
 * item maximising λ · relevance − (1 − λ) · max cosine to what is already taken.
 * Relevance is the min-max normalised input score so λ trades like for like;
 * items without a vector count as similar to nothing.
 */
export function maximalMarginalRelevance(
  pool: ReadonlyArray<{ id: string; score: number; vector?: ArrayLike<number> }>,
  k: number,
  lambda: number,
): string[] {
  const relevance = normalizeScores(new Map(pool.map((p) => [p.id, p.score])), "minmax");
  const remaining = [...pool];
  const chosen: typeof remaining = [];
  while (chosen.length < k && remaining.length > 0) {
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    remaining.forEach((candidate, i) => {
      let redundancy = 0;
      if (candidate.vector) {
        for (const c of chosen) {
          if (c.vector) redundancy = Math.max(redundancy, cosineSimilarity(candidate.vector, c.vector));
        }
      }
      const value = lambda * relevance.get(candidate.id)! - (1 - lambda) * redundancy;
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    });
    chosen.push(remaining.splice(best, 1)[0]);
  }
  return chosen.map((c) => c.id);
}

import type { DocumentInterface } from "@langchain/core/documents";
import { GeneraError } from "../errors.js";

/**
 * Retrieval and answer metrics. Relevance is binary and by document: a retrieved
 * chunk is relevant when its `metadata.source` names a gold source — equal after
 * normalising separators, or one path ending with the other at a path boundary
 * ("docs/a.md" matches "/home/me/kb/docs/a.md"), because QA files name sources
 * relative to their corpus while indexes store whatever path was ingested.
 */

function normalizePath(path: string): string {
  return path
    .replace(/\\/g, "/")
    .replace(/^(\.\/)+/, "")
    .replace(/\/+$/, "");
}

export function sourceMatches(retrieved: string, gold: string): boolean {
  const a = normalizePath(retrieved);
  const b = normalizePath(gold);
  if (a === "" || b === "") return false;
  return a === b || a.endsWith(`/${b}`) || b.endsWith(`/${a}`);
}

/** For each rank, the index of the gold source it newly covers, or -1 (irrelevant or already covered). */
function newlyCovered(retrieved: readonly string[], gold: readonly string[], k: number): number[] {
  const covered = new Set<number>();
  return retrieved.slice(0, k).map((source) => {
    const g = gold.findIndex((gs, i) => !covered.has(i) && sourceMatches(source, gs));
    if (g >= 0) covered.add(g);
    return g;
  });
}

/** Share of gold sources found among the top k retrieved sources (0 when there is no gold). */
export function recallAtK(retrieved: readonly string[], gold: readonly string[], k: number): number {
  if (gold.length === 0) return 0;
  return newlyCovered(retrieved, gold, k).filter((g) => g >= 0).length / gold.length;
}

/** 1 / rank of the first relevant result (ranks from 1), 0 when none is relevant. Averaged over questions: MRR. */
export function reciprocalRank(retrieved: readonly string[], gold: readonly string[], k = retrieved.length): number {
  const i = retrieved.slice(0, k).findIndex((s) => gold.some((g) => sourceMatches(s, g)));
  return i < 0 ? 0 : 1 / (i + 1);
}

/**
 * nDCG@k with binary relevance: DCG = Σ rel_i / log2(i + 1); a gold source is credited
 * once, so further chunks of an already found document add nothing. The ideal ranking
 * puts min(k, |gold|) relevant documents first.
 */
export function ndcgAtK(retrieved: readonly string[], gold: readonly string[], k: number): number {
  if (gold.length === 0) return 0;
  const dcg = newlyCovered(retrieved, gold, k).reduce((sum, g, i) => sum + (g >= 0 ? 1 / Math.log2(i + 2) : 0), 0);
  let ideal = 0;
  for (let i = 0; i < Math.min(k, gold.length); i++) ideal += 1 / Math.log2(i + 2);
  return dcg / ideal;
}

/** SQuAD-style answer normalisation: fold case and accents, drop punctuation and articles, squeeze spaces. */
export function normalizeAnswer(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, " ")
    .replace(/\b(a|an|the)\b/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function tokens(text: string): string[] {
  const n = normalizeAnswer(text);
  return n === "" ? [] : n.split(" ");
}

/** Token-overlap F1 between a prediction and the gold answer (best over several golds). */
export function tokenF1(pred: string, gold: string | readonly string[]): number {
  const golds = typeof gold === "string" ? [gold] : gold;
  let best = 0;
  const p = tokens(pred);
  for (const g of golds) {
    const t = tokens(g);
    if (p.length === 0 || t.length === 0) {
      best = Math.max(best, p.length === t.length ? 1 : 0);
      continue;
    }
    const counts = new Map<string, number>();
    for (const w of t) counts.set(w, (counts.get(w) ?? 0) + 1);
    let common = 0;
    for (const w of p) {
      const c = counts.get(w) ?? 0;
      if (c > 0) {
        common++;
        counts.set(w, c - 1);
      }
    }
    if (common === 0) continue;
    const precision = common / p.length;
    const recall = common / t.length;
    best = Math.max(best, (2 * precision * recall) / (precision + recall));
  }
  return best;
}

/** Whether the normalised gold answer (any of several) occurs in the normalised prediction as whole words. */
export function containsAnswer(pred: string, gold: string | readonly string[]): boolean {
  const haystack = ` ${normalizeAnswer(pred)} `;
  const golds = typeof gold === "string" ? [gold] : gold;
  return golds.some((g) => {
    const needle = normalizeAnswer(g);
    return needle !== "" && haystack.includes(` ${needle} `);
  });
}

export interface RetrievalQA {
  question: string;
  /** Gold source paths (relative paths are fine: matched by suffix). */
  sources?: string[];
  /** A short gold answer; scored by whether the retrieved text contains it. */
  answer?: string | string[];
  /**
   * The documents do not answer this question (it may still share their words): the right
   * behaviour is to decline, and retrieval metrics skip it.
   */
  unanswerable?: boolean;
}

export interface RetrievalEvaluation {
  questions: number;
  /** Questions with gold sources (the denominator of recall, MRR and nDCG). */
  withSources: number;
  /** Questions with a gold answer (the denominator of answerInContext). */
  withAnswer: number;
  recall: Record<number, number>;
  ndcg: Record<number, number>;
  /** Mean reciprocal rank over the top max(ks) results. */
  mrr: number;
  /** Share of questions whose top-k retrieved text contains the gold answer. */
  answerInContext: Record<number, number>;
  /** Per question: the 1-based rank of the first relevant result (null when none), for error analysis. */
  details: Array<{ question: string; firstRelevantRank: number | null; retrievedSources: string[] }>;
}

export interface RetrieverLike {
  invoke(query: string): Promise<DocumentInterface[]>;
}

/**
 * Run every question through the retriever once and average the metrics. The
 * retriever must return at least max(ks) documents for the larger cut-offs to mean
 * anything — set its k accordingly.
 */
export async function evaluateRetriever(
  retriever: RetrieverLike,
  qa: readonly RetrievalQA[],
  options: { ks?: number[] } = {},
): Promise<RetrievalEvaluation> {
  const ks = options.ks ?? [1, 5, 10];
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new GeneraError("INVALID_INPUT", `evaluateRetriever ks must be positive integers, got ${JSON.stringify(ks)}`);
  }
  const maxK = Math.max(...ks);
  const zero = () => Object.fromEntries(ks.map((k) => [k, 0])) as Record<number, number>;
  const recall = zero();
  const ndcg = zero();
  const answerInContext = zero();
  let mrr = 0;
  let withSources = 0;
  let withAnswer = 0;
  const details: RetrievalEvaluation["details"] = [];

  for (const [i, item] of qa.entries()) {
    if (!item || typeof item.question !== "string" || item.question.trim() === "") {
      throw new GeneraError("INVALID_INPUT", `QA item ${i} has no question`, { details: { index: i } });
    }
    const docs = (await retriever.invoke(item.question)).slice(0, maxK);
    const sources = docs.map((d) => String(d.metadata?.source ?? ""));
    const gold = item.sources ?? [];
    let firstRelevantRank: number | null = null;
    if (gold.length > 0) {
      withSources++;
      for (const k of ks) {
        recall[k] += recallAtK(sources, gold, k);
        ndcg[k] += ndcgAtK(sources, gold, k);
      }
      const rr = reciprocalRank(sources, gold);
      mrr += rr;
      firstRelevantRank = rr > 0 ? Math.round(1 / rr) : null;
    }
    const answer = item.answer;
    if (answer !== undefined && (typeof answer === "string" ? answer.trim() !== "" : answer.length > 0)) {
      withAnswer++;
      for (const k of ks) {
        if (
          containsAnswer(
            docs
              .slice(0, k)
              .map((d) => d.pageContent)
              .join("\n"),
            answer,
          )
        )
          answerInContext[k]++;
      }
    }
    details.push({ question: item.question, firstRelevantRank, retrievedSources: sources });
  }

  const mean = (rec: Record<number, number>, n: number) =>
    Object.fromEntries(ks.map((k) => [k, n > 0 ? rec[k] / n : 0])) as Record<number, number>;
  return {
    questions: qa.length,
    withSources,
    withAnswer,
    recall: mean(recall, withSources),
    ndcg: mean(ndcg, withSources),
    mrr: withSources > 0 ? mrr / withSources : 0,
    answerInContext: mean(answerInContext, withAnswer),
    details,
  };
}

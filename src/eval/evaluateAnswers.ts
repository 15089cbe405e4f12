import { readFileSync } from "node:fs";
import { GeneraError } from "../errors.js";
import { containsAnswer, type RetrievalQA, tokenF1 } from "./retrievalMetrics.js";

/** Anything that answers `{ question }` with `{ answer }` — a RAG chain, typically. */
export interface AnswerChainLike {
  invoke(input: { question: string }): Promise<{ answer: string }>;
}

export interface AnswerEvaluation {
  questions: number;
  /** Questions with a gold answer: the denominator of the means. */
  withAnswer: number;
  /** Mean SQuAD token F1 between the answer (citation markers removed) and the gold answer. */
  f1: number;
  /** Share of answers that contain the gold answer (after normalisation). */
  containsAnswer: number;
  /** Share of questions answered with the given no-answer text. */
  noAnswerRate: number;
  details: Array<{ question: string; answer: string; gold?: string | string[]; f1?: number; contains?: boolean }>;
}

/** Removes `[n]` citation markers so they do not count as answer tokens. */
export function stripCitations(text: string): string {
  return text.replace(/\s*\[\d+(?:\s*[-–,]\s*\d+)*\]/g, "").trim();
}

/**
 * Runs every question through the chain (`concurrency` at a time) and scores the answers
 * that have a gold answer with token F1 and contains-answer.
 */
export async function evaluateAnswers(
  chain: AnswerChainLike,
  qa: readonly RetrievalQA[],
  options: { concurrency?: number; noAnswerText?: string } = {},
): Promise<AnswerEvaluation> {
  const details: AnswerEvaluation["details"] = new Array(qa.length);
  let next = 0;
  const worker = async () => {
    while (next < qa.length) {
      const i = next++;
      const item = qa[i] as RetrievalQA;
      const { answer } = await chain.invoke({ question: item.question });
      const gold = item.answer;
      const hasGold = gold !== undefined && (typeof gold === "string" ? gold.trim() !== "" : gold.length > 0);
      const prose = stripCitations(answer);
      details[i] = hasGold
        ? { question: item.question, answer, gold, f1: tokenF1(prose, gold), contains: containsAnswer(prose, gold) }
        : { question: item.question, answer };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 1, qa.length)) }, worker));
  const scored = details.filter((d) => d.f1 !== undefined);
  const mean = (values: number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
  return {
    questions: qa.length,
    withAnswer: scored.length,
    f1: mean(scored.map((d) => d.f1 as number)),
    containsAnswer: mean(scored.map((d) => (d.contains ? 1 : 0))),
    noAnswerRate: options.noAnswerText
      ? details.filter((d) => d.answer.trim() === options.noAnswerText).length / Math.max(1, qa.length)
      : 0,
    details,
  };
}

/**
 * Reads a QA file: one JSON object per line, `{ "question", "answer"?, "sources"? }`;
 * blank lines and lines starting with `//` are skipped. A bad line is an INVALID_INPUT
 * naming the file and line.
 */
export function readQaFile(path: string): RetrievalQA[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new GeneraError("NOT_FOUND", `QA file ${path} cannot be read: ${(error as Error).message}`, {
      cause: error,
      details: { path },
    });
  }
  const items: RetrievalQA[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("//")) return;
    const where = `${path}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new GeneraError("INVALID_INPUT", `${where} is not valid JSON: ${(error as Error).message}`, {
        details: { path, line: i + 1 },
      });
    }
    const v = value as Partial<RetrievalQA>;
    if (typeof v !== "object" || v === null || typeof v.question !== "string" || v.question.trim() === "") {
      throw new GeneraError("INVALID_INPUT", `${where} has no "question" string`, { details: { path, line: i + 1 } });
    }
    const answerOk =
      v.answer === undefined ||
      typeof v.answer === "string" ||
      (Array.isArray(v.answer) && v.answer.every((a) => typeof a === "string"));
    const sourcesOk =
      v.sources === undefined || (Array.isArray(v.sources) && v.sources.every((s) => typeof s === "string"));
    if (!answerOk || !sourcesOk) {
      throw new GeneraError(
        "INVALID_INPUT",
        `${where}: "answer" must be a string or strings, "sources" an array of strings`,
        {
          details: { path, line: i + 1 },
        },
      );
    }
    items.push({ question: v.question, answer: v.answer, sources: v.sources });
  });
  if (items.length === 0)
    throw new GeneraError("INVALID_INPUT", `QA file ${path} has no questions`, { details: { path } });
  return items;
}

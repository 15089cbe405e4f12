import { readFileSync } from "node:fs";
import { GeneraError } from "../errors.js";
import { containsAnswer, type RetrievalQA, sourceMatches, tokenF1 } from "./retrievalMetrics.js";

/** Anything that answers `{ question }` with `{ answer }` (and cited `sources`) — a RAG chain, typically. */
export interface AnswerChainLike {
  invoke(input: { question: string }): Promise<{ answer: string; sources?: Array<{ source: string }> }>;
}

export interface AnswerEvaluation {
  questions: number;
  /** Answerable questions with a gold answer: the denominator of f1 and containsAnswer. */
  withAnswer: number;
  /** Mean SQuAD token F1 between the answer (citation markers removed) and the gold answer. */
  f1: number;
  /** Share of answers that contain the gold answer (after normalisation). */
  containsAnswer: number;
  /** Answerable questions with gold sources: the denominator of citedFirst. */
  withSources: number;
  /** Share of those whose first cited source is a gold source (a declined answer cites nothing: 0). */
  citedFirst: number;
  /** Share of all questions answered with the given no-answer text. */
  noAnswerRate: number;
  /** Questions marked `unanswerable` in the QA file. */
  unanswerable: number;
  /** Of the declined questions, the share that were unanswerable (1 when nothing was declined). */
  declinePrecision: number;
  /** Of the unanswerable questions, the share that were declined (1 when there are none). */
  declineRecall: number;
  /** Of the answerable questions, the share that were declined. */
  falseDeclineRate: number;
  /**
   * Share of all questions handled right: an answerable one whose answer contains the gold
   * answer (or, without a gold answer, that was not declined), an unanswerable one declined.
   */
  correct: number;
  details: Array<{
    question: string;
    answer: string;
    gold?: string | string[];
    f1?: number;
    contains?: boolean;
    unanswerable?: boolean;
    declined: boolean;
    firstCited?: string;
    citedFirst?: boolean;
  }>;
}

/** Removes `[n]` citation markers so they do not count as answer tokens. */
export function stripCitations(text: string): string {
  return text.replace(/\s*\[\d+(?:\s*[-–,]\s*\d+)*\]/g, "").trim();
}

function hasGold(gold: RetrievalQA["answer"]): gold is string | string[] {
  return gold !== undefined && (typeof gold === "string" ? gold.trim() !== "" : gold.length > 0);
}

/**
 * Runs every question through the chain (`concurrency` at a time) and scores it: answers to
 * answerable questions by token F1, contains-answer and whether the first cited source is a
 * gold one; unanswerable questions by whether they were declined (an answer equal to
 * `noAnswerText`, or one that cites no source when no text is given).
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
      const { answer, sources = [] } = await chain.invoke({ question: item.question });
      const declined =
        options.noAnswerText !== undefined ? answer.trim() === options.noAnswerText : sources.length === 0;
      const firstCited = sources[0]?.source;
      const detail: AnswerEvaluation["details"][number] = { question: item.question, answer, declined };
      if (firstCited !== undefined) detail.firstCited = firstCited;
      if (item.unanswerable) detail.unanswerable = true;
      else {
        if (hasGold(item.answer)) {
          const prose = stripCitations(answer);
          detail.gold = item.answer;
          detail.f1 = declined ? 0 : tokenF1(prose, item.answer);
          detail.contains = !declined && containsAnswer(prose, item.answer);
        }
        if (item.sources && item.sources.length > 0) {
          detail.citedFirst =
            firstCited !== undefined && !declined && item.sources.some((g) => sourceMatches(firstCited, g));
        }
      }
      details[i] = detail;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 1, qa.length)) }, worker));
  const mean = (values: number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
  const share = (items: typeof details, test: (d: (typeof details)[number]) => boolean, empty: number) =>
    items.length === 0 ? empty : items.filter(test).length / items.length;
  const scored = details.filter((d) => d.f1 !== undefined);
  const sourced = details.filter((d) => d.citedFirst !== undefined);
  const unanswerable = details.filter((d) => d.unanswerable);
  const answerable = details.filter((d) => !d.unanswerable);
  const declined = details.filter((d) => d.declined);
  const right = (d: (typeof details)[number]) =>
    d.unanswerable ? d.declined : d.contains !== undefined ? d.contains : !d.declined;
  return {
    questions: qa.length,
    withAnswer: scored.length,
    f1: mean(scored.map((d) => d.f1 as number)),
    containsAnswer: mean(scored.map((d) => (d.contains ? 1 : 0))),
    withSources: sourced.length,
    citedFirst: mean(sourced.map((d) => (d.citedFirst ? 1 : 0))),
    noAnswerRate: share(details, (d) => d.declined, 0),
    unanswerable: unanswerable.length,
    declinePrecision: share(declined, (d) => d.unanswerable === true, 1),
    declineRecall: share(unanswerable, (d) => d.declined, 1),
    falseDeclineRate: share(answerable, (d) => d.declined, 0),
    correct: share(details, right, 0),
    details,
  };
}

/**
 * Reads a QA file: one JSON object per line, `{ "question", "answer"?, "sources"?, "unanswerable"? }`;
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
    const unanswerableOk = v.unanswerable === undefined || typeof v.unanswerable === "boolean";
    if (!answerOk || !sourcesOk || !unanswerableOk) {
      throw new GeneraError(
        "INVALID_INPUT",
        `${where}: "answer" must be a string or strings, "sources" an array of strings, "unanswerable" a boolean`,
        { details: { path, line: i + 1 } },
      );
    }
    if (v.unanswerable && (v.answer !== undefined || (v.sources?.length ?? 0) > 0)) {
      throw new GeneraError("INVALID_INPUT", `${where}: an "unanswerable" question has no "answer" or "sources"`, {
        details: { path, line: i + 1 },
      });
    }
    const item: RetrievalQA = { question: v.question, answer: v.answer, sources: v.sources };
    if (v.unanswerable) item.unanswerable = true;
    items.push(item);
  });
  if (items.length === 0)
    throw new GeneraError("INVALID_INPUT", `QA file ${path} has no questions`, { details: { path } });
  return items;
}

import type { Writable } from "node:stream";
import type { Command } from "commander";
import type { AnswerModel } from "../../../chains/answerModel.js";
import { createRagChain, type DocumentRetriever } from "../../../chains/createRagChain.js";
import { type AnswerEvaluation, evaluateAnswers, readQaFile } from "../../eval/evaluateAnswers.js";
import { evaluateRetriever, type RetrievalEvaluation } from "../../eval/retrievalMetrics.js";
import { NO_ANSWER_TEXT } from "../../llms/ExtractiveAnswerer.js";
import { loadCliConfig, openKnowledgeBase } from "../context.js";
import { kFlag, modeFlag } from "../flags.js";
import { addLlmOptions, llmOverrides, openAnswerModel } from "./llmOptions.js";

export interface EvalReport {
  file: string;
  k: number;
  retrieval: Omit<RetrievalEvaluation, "details">;
  answers?: Omit<AnswerEvaluation, "details">;
  details: Array<{
    question: string;
    firstRelevantRank: number | null;
    retrievedSources: string[];
    answer?: string;
    f1?: number;
    contains?: boolean;
    unanswerable?: boolean;
    declined?: boolean;
    citedFirst?: boolean;
  }>;
}

const fmt = (x: number) => x.toFixed(3);

/** The on-screen table (Markdown, so it pastes into reports as is). */
export function formatEvalTable(report: EvalReport): string {
  const r = report.retrieval;
  const rows: Array<[string, string]> = [["questions", String(r.questions)]];
  if (r.withSources > 0) {
    for (const k of Object.keys(r.recall).map(Number)) rows.push([`recall@${k}`, fmt(r.recall[k] ?? 0)]);
    rows.push(["MRR", fmt(r.mrr)]);
    for (const k of Object.keys(r.ndcg).map(Number)) rows.push([`nDCG@${k}`, fmt(r.ndcg[k] ?? 0)]);
  } else {
    rows.push(["retrieval metrics", "n/a (no gold sources)"]);
  }
  if (r.withAnswer > 0) rows.push([`answer in top ${report.k} passages`, fmt(r.answerInContext[report.k] ?? 0)]);
  if (report.answers) {
    const a = report.answers;
    rows.push(["answer token-F1", fmt(a.f1)]);
    rows.push(["answer contains gold", fmt(a.containsAnswer)]);
    if (a.withSources > 0) rows.push(["right document cited first", fmt(a.citedFirst)]);
    rows.push(["no-answer rate", fmt(a.noAnswerRate)]);
    if (a.unanswerable > 0) {
      rows.push([`unanswerable questions`, String(a.unanswerable)]);
      rows.push(["decline precision", fmt(a.declinePrecision)]);
      rows.push(["decline recall", fmt(a.declineRecall)]);
    }
    rows.push(["answerable declined", fmt(a.falseDeclineRate)]);
    rows.push(["correct (declined counts for unanswerable)", fmt(a.correct)]);
  }
  const width = Math.max(...rows.map(([m]) => m.length), 6);
  const lines = [`| ${"metric".padEnd(width)} | value |`, `| ${"-".repeat(width)} | ----- |`];
  for (const [metric, value] of rows) lines.push(`| ${metric.padEnd(width)} | ${value} |`);
  return `${lines.join("\n")}\n`;
}

/**
 * Scores retrieval (recall@k, MRR, nDCG@k over gold `sources`) and, when the file has gold
 * answers and a model is given, the answers (token F1, contains-answer).
 */
export async function runEval(
  file: string,
  options: { retriever: DocumentRetriever; llm?: AnswerModel; k: number; json?: boolean; out?: Writable },
): Promise<EvalReport> {
  const out = options.out ?? process.stdout;
  const qa = readQaFile(file);
  const ks = [...new Set([1, options.k])].sort((a, b) => a - b);
  const { details: retrievalDetails, ...retrieval } = await evaluateRetriever(options.retriever, qa, { ks });
  let answers: AnswerEvaluation | undefined;
  if (options.llm && qa.some((q) => q.answer !== undefined || q.unanswerable)) {
    const chain = createRagChain({ retriever: options.retriever, llm: options.llm, k: options.k });
    answers = await evaluateAnswers(chain, qa, { noAnswerText: NO_ANSWER_TEXT });
  }
  const { details: answerDetails = [], ...answerSummary } = answers ?? {};
  const report: EvalReport = {
    file,
    k: options.k,
    retrieval,
    ...(answers ? { answers: answerSummary as Omit<AnswerEvaluation, "details"> } : {}),
    details: retrievalDetails.map((d, i) => {
      const a = answerDetails[i];
      if (!a) return d;
      const { question: _q, gold: _g, firstCited: _f, ...scores } = a;
      return { ...d, ...scores };
    }),
  };
  if (options.json) out.write(`${JSON.stringify(report)}\n`);
  else out.write(formatEvalTable(report));
  return report;
}

export function register(program: Command): void {
  addLlmOptions(
    program
      .command("eval")
      .description(
        "score retrieval (recall@k, MRR, nDCG@k) and answers (contains-gold, right source first, decline precision/recall) on a QA file",
      )
      .argument("<qa.jsonl>", 'one JSON object per line: { "question", "answer"?, "sources"?, "unanswerable"? }')
      .option("--store <dir>", "index folder (default <dataDir>/index)")
      .option("-k, --k <n>", "cut-off for the metrics and passages per answer", kFlag)
      .option("--mode <mode>", "hybrid | keyword | dense", modeFlag)
      .option("--no-answers", "score retrieval only")
      .option("--json", "print one JSON object"),
  ).action(async (file: string, opts, command: Command) => {
    const config = loadCliConfig(command, { retrieval: { k: opts.k, mode: opts.mode }, ...llmOverrides(opts) });
    const kb = await openKnowledgeBase(config, { store: opts.store });
    try {
      const k = config.retrieval.k;
      const retriever = kb.asRetriever({ k: Math.max(k, 1), mode: config.retrieval.mode });
      const llm = opts.answers === false ? undefined : await openAnswerModel(config, kb.embeddings);
      await runEval(file, { retriever, llm, k, json: opts.json });
    } finally {
      await kb.close();
    }
  });
}

import type { Writable } from "node:stream";
import type { Command } from "commander";
import type { AnswerModel } from "../../../chains/answerModel.js";
import { citedPassages, createRagChain, type DocumentRetriever } from "../../../chains/createRagChain.js";
import type { CitedSource } from "../../llms/citedSource.js";
import { loadCliConfig, openKnowledgeBase } from "../context.js";
import { kFlag, modeFlag, requireText } from "../flags.js";
import { addLlmOptions, llmOverrides, openAnswerModel, printSources } from "./llmOptions.js";

export interface AskOptions {
  retriever: DocumentRetriever;
  llm: AnswerModel;
  json?: boolean;
  /** Stream the answer as it is produced (text mode only; default true). */
  stream?: boolean;
  out?: Writable;
}

/** The JSON shape of `genera ask --json`: one object on one line. */
export function askJson(question: string, answer: string, sources: CitedSource[]) {
  return {
    question,
    answer,
    sources: sources.map((s) => ({
      index: s.index,
      source: s.source,
      title: s.title,
      headings: s.headings,
      page: s.page,
      score: s.score,
      denseScore: s.denseScore,
      keywordScore: s.keywordScore,
      id: s.id,
      text: s.text,
    })),
  };
}

/** Answers one question; text mode streams the answer and then lists the cited sources. */
export async function runAsk(
  question: string,
  options: AskOptions,
): Promise<{ answer: string; sources: CitedSource[] }> {
  const out = options.out ?? process.stdout;
  const chain = createRagChain({ retriever: options.retriever, llm: options.llm });
  if (options.json || options.stream === false) {
    const result = await chain.invoke({ question });
    if (options.json) out.write(`${JSON.stringify(askJson(question, result.answer, result.sources))}\n`);
    else {
      out.write(`${result.answer}\n`);
      printSources(out, result.sources);
    }
    return result;
  }
  let answer = "";
  let passages: CitedSource[] = [];
  for await (const chunk of await chain.stream({ question })) {
    if (chunk.sources) passages = chunk.sources;
    if (chunk.answer) {
      answer += chunk.answer;
      out.write(chunk.answer);
    }
  }
  out.write("\n");
  // A generator's stream announces every passage; show only the ones it cited.
  const sources = citedPassages(answer, passages);
  printSources(out, sources);
  return { answer, sources };
}

export function register(program: Command): void {
  addLlmOptions(
    program
      .command("ask")
      .description("answer a question from the indexed documents, with numbered citations")
      .argument("<question>", "the question")
      .option("--store <dir>", "index folder (default <dataDir>/index)")
      .option("-k, --k <n>", "passages to answer from", kFlag)
      .option("--mode <mode>", "hybrid | keyword | dense", modeFlag)
      .option("--no-stream", "print the answer when it is complete")
      .option("--json", 'print one JSON object { "answer", "sources": [...] }'),
  ).action(async (question: string, opts, command: Command) => {
    requireText("question", question, 'genera ask "How is attention scaled?"');
    const config = loadCliConfig(command, { retrieval: { k: opts.k, mode: opts.mode }, ...llmOverrides(opts) });
    const kb = await openKnowledgeBase(config, { store: opts.store });
    try {
      const llm = await openAnswerModel(config, kb.embeddings);
      const retriever = kb.asRetriever({ k: config.retrieval.k, mode: config.retrieval.mode });
      await runAsk(question, { retriever, llm, json: opts.json, stream: opts.stream });
    } finally {
      await kb.close();
    }
  });
}

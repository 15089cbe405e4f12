import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import type { Command } from "commander";
import type { AnswerModel } from "../../../chains/answerModel.js";
import { type ChatTurn, createConversationalRagChain } from "../../../chains/createConversationalRagChain.js";
import { citedPassages, type DocumentRetriever } from "../../../chains/createRagChain.js";
import { isGeneraError } from "../../errors.js";
import type { CitedSource } from "../../llms/citedSource.js";
import { loadCliConfig, openKnowledgeBase } from "../context.js";
import { kFlag, modeFlag } from "../flags.js";
import { addLlmOptions, llmOverrides, openAnswerModel, printSources } from "./llmOptions.js";

export interface ChatOptions {
  retriever: DocumentRetriever;
  llm: AnswerModel;
  input?: Readable;
  output?: Writable;
  /** Show the prompt ("you> "); off when input is not a terminal. */
  prompt?: boolean;
  /** Turns kept in the history (default 10 messages). */
  maxHistory?: number;
}

const HELP = "Commands: /sources (sources of the last answer), /reset (forget the conversation), /exit\n";

/**
 * An interactive conversation over the index: each question is answered with the
 * conversational RAG chain and the history so far. Returns the number of questions answered.
 */
export async function runChat(options: ChatOptions): Promise<number> {
  const output = options.output ?? process.stdout;
  const input = options.input ?? process.stdin;
  const chain = createConversationalRagChain({ retriever: options.retriever, llm: options.llm });
  const maxHistory = options.maxHistory ?? 10;
  const rl = createInterface({ input, terminal: false });
  const showPrompt = options.prompt ?? Boolean((input as { isTTY?: boolean }).isTTY);
  let history: ChatTurn[] = [];
  let lastSources: CitedSource[] = [];
  let answered = 0;
  output.write(`Ask about the indexed documents. ${HELP}`);
  if (showPrompt) output.write("you> ");
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === "") {
      if (showPrompt) output.write("you> ");
      continue;
    }
    if (line === "/exit" || line === "/quit") break;
    if (line === "/reset") {
      history = [];
      lastSources = [];
      output.write("(conversation cleared)\n");
    } else if (line === "/sources") {
      if (lastSources.length === 0) output.write("(no sources yet)\n");
      else printSources(output, lastSources);
    } else if (line === "/help") {
      output.write(HELP);
    } else if (line.startsWith("/")) {
      output.write(`Unknown command ${line}. ${HELP}`);
    } else {
      try {
        let answer = "";
        let passages: CitedSource[] = [];
        output.write("genera> ");
        for await (const chunk of await chain.stream({ question: line, chatHistory: history })) {
          if (chunk.sources) passages = chunk.sources;
          if (chunk.answer) {
            answer += chunk.answer;
            output.write(chunk.answer);
          }
        }
        output.write("\n");
        lastSources = citedPassages(answer, passages);
        history = [
          ...history,
          { role: "user" as const, content: line },
          { role: "assistant" as const, content: answer },
        ].slice(-maxHistory);
        answered++;
      } catch (error) {
        // One failed turn (e.g. the model server went away) should not end the session.
        if (!isGeneraError(error)) throw error;
        output.write(`\ngenera: ${error.message} [${error.code}]\n`);
      }
    }
    if (showPrompt) output.write("you> ");
  }
  rl.close();
  return answered;
}

export function register(program: Command): void {
  addLlmOptions(
    program
      .command("chat")
      .description("talk with the indexed documents (keeps the conversation; /sources, /reset, /exit)")
      .option("--store <dir>", "index folder (default <dataDir>/index)")
      .option("-k, --k <n>", "passages per answer", kFlag)
      .option("--mode <mode>", "hybrid | keyword | dense", modeFlag),
  ).action(async (opts, command: Command) => {
    const config = loadCliConfig(command, { retrieval: { k: opts.k, mode: opts.mode }, ...llmOverrides(opts) });
    const kb = await openKnowledgeBase(config, { store: opts.store });
    try {
      const llm = await openAnswerModel(config, kb.embeddings);
      await runChat({ retriever: kb.asRetriever({ k: config.retrieval.k, mode: config.retrieval.mode }), llm });
    } finally {
      await kb.close();
    }
  });
}

import type { Writable } from "node:stream";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { BaseLanguageModel } from "@langchain/core/language_models/base";
import type { Command } from "commander";
import type { GeneraConfig } from "../../config.js";
import { GeneraError } from "../../errors.js";
import { type CitedSource, formatSourceLabel } from "../../llms/citedSource.js";
import { checkProvider, createChatModel, providerUrl, resolveLlmConfig } from "../../llms/createChatModel.js";
import { isExtractiveChatModel } from "../../llms/ExtractiveChatModel.js";
import { providerFlag, temperatureFlag } from "../flags.js";

/** Exit code when a command needs a generator and only the extractive answerer is configured. */
export const EXIT_NO_GENERATOR = 2;

/** The model flags shared by ask, chat, summarize, translate and eval. */
export function addLlmOptions(command: Command): Command {
  return command
    .option("--provider <name>", "extractive | transformer | transformersjs | openai | ollama", providerFlag)
    .option("--model <name>", "model name, or checkpoint / model folder")
    .option("--base-url <url>", "server URL (openai: …/v1; ollama: http://127.0.0.1:11434)")
    .option("--temperature <t>", "sampling temperature", temperatureFlag);
}

export function llmOverrides(opts: { provider?: string; model?: string; baseUrl?: string; temperature?: number }): {
  llm: Record<string, unknown>;
} {
  return { llm: { provider: opts.provider, model: opts.model, baseUrl: opts.baseUrl, temperature: opts.temperature } };
}

/**
 * The configured answer model; HTTP providers are probed first so a dead server fails in
 * seconds with PROVIDER_UNAVAILABLE instead of at the first token.
 */
export async function openAnswerModel(
  config: GeneraConfig,
  embeddings?: EmbeddingsInterface,
): Promise<BaseLanguageModel> {
  const model = await createChatModel(config.llm, { embeddings });
  if (providerUrl(resolveLlmConfig(config.llm)) !== undefined) await checkProvider(config.llm);
  return model;
}

/** Prints the NO_GENERATOR explanation and sets exit code 2; returns true when that happened. */
export function refuseWithoutGenerator(
  model: BaseLanguageModel,
  what: string,
  err: Writable = process.stderr,
): boolean {
  if (!isExtractiveChatModel(model)) return false;
  const error = new GeneraError(
    "NO_GENERATOR",
    `${what} needs a generative model, but llm.provider is "extractive" (it only quotes documents). ` +
      "Use --provider ollama --model llama3.2, --provider openai --base-url http://127.0.0.1:8000/v1 --model NAME, " +
      "or --provider transformer --model ./checkpoint.",
  );
  err.write(`genera: ${error.message} [${error.code}]\n`);
  process.exitCode = EXIT_NO_GENERATOR;
  return true;
}

/** "[1] docs/a.md (p. 3 · Setup › Install)" lines. */
export function printSources(out: Writable, sources: CitedSource[]): void {
  if (sources.length === 0) return;
  out.write("\nSources:\n");
  for (const s of sources) out.write(`[${s.index}] ${formatSourceLabel(s)}\n`);
}

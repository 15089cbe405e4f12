import type { BaseLanguageModelInput, BaseLanguageModelInterface } from "@langchain/core/language_models/base";
import type { BaseMessage } from "@langchain/core/messages";
import type { RunnableInterface } from "@langchain/core/runnables";
import { GeneraError } from "../src/errors.js";
import { ExtractiveAnswerer, isExtractiveAnswerer } from "../src/llms/ExtractiveAnswerer.js";
import { isExtractiveChatModel } from "../src/llms/ExtractiveChatModel.js";

/**
 * A text generator: any LangChain chat model or LLM, or any runnable from a prompt value to
 * text or a message (e.g. `prompt.pipe(model)`-style compositions, or a RunnableLambda in tests).
 */
export type GeneratorModel = BaseLanguageModelInterface | RunnableInterface<BaseLanguageModelInput, unknown>;

/**
 * What chains accept as `llm`: the extractive answerer, or any model (what `createChatModel`
 * returns, the ExtractiveChatModel included).
 */
export type AnswerModel = ExtractiveAnswerer | GeneratorModel;

export type ResolvedModel =
  | { kind: "extractive"; answerer: ExtractiveAnswerer }
  | { kind: "generator"; model: GeneratorModel };

/**
 * The extractive chat model is run as its answerer: the chain hands it the retrieved documents
 * themselves (with their metadata) rather than a prompt, and gets the quoted sources back.
 */
export function resolveAnswerModel(llm: AnswerModel | undefined, fallback: () => ExtractiveAnswerer): ResolvedModel {
  if (llm === undefined) return { kind: "extractive", answerer: fallback() };
  if (isExtractiveAnswerer(llm)) return { kind: "extractive", answerer: llm };
  if (isExtractiveChatModel(llm)) return { kind: "extractive", answerer: llm.answerer };
  if (typeof (llm as GeneratorModel).invoke === "function" && typeof (llm as GeneratorModel).stream === "function") {
    return { kind: "generator", model: llm as GeneratorModel };
  }
  throw new GeneraError("INVALID_INPUT", "`llm` must be an ExtractiveAnswerer or a LangChain chat model / LLM");
}

/** The generator, or NO_GENERATOR for operations that must write new text. */
export function requireGenerator(llm: AnswerModel | undefined, operation: string): GeneratorModel {
  const resolved = llm === undefined ? undefined : resolveAnswerModel(llm, () => new ExtractiveAnswerer());
  if (resolved?.kind === "generator") return resolved.model;
  throw new GeneraError(
    "NO_GENERATOR",
    `${operation} needs a generative model, but the extractive answerer (which only quotes documents) is configured. ` +
      'Set llm.provider to "openai", "ollama", "transformersjs" or "transformer" (e.g. GENERA_LLM_PROVIDER=ollama GENERA_LLM_MODEL=llama3.2).',
  );
}

/** Text of a model output: a string (LLMs) or a message / message chunk (chat models). */
export function outputText(output: unknown): string {
  if (typeof output === "string") return output;
  const content = (output as BaseMessage | undefined)?.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        typeof part === "string" ? part : part?.type === "text" ? String((part as { text?: unknown }).text ?? "") : "",
      )
      .join("");
  }
  return "";
}

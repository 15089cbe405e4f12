import type { BasePromptTemplate } from "@langchain/core/prompts";
import type { RunnableConfig } from "@langchain/core/runnables";
import { GeneraError } from "../src/errors.js";
import { type AnswerModel, type GeneratorModel, outputText, requireGenerator } from "./answerModel.js";
import { TRANSLATE_PROMPT } from "./prompts.js";
import { SingleInputChain } from "./SingleInputChain.js";

export interface TranslateInput {
  text: string;
  /** Target language, by name ("German") or code ("de"). */
  to: string;
  /** Source language; omitted = let the model tell. */
  from?: string;
}

export interface TranslateChainOptions {
  /** A generator; the extractive answerer cannot translate (NO_GENERATOR). */
  llm: AnswerModel | undefined;
  prompt?: BasePromptTemplate;
  /** Texts longer than this many characters are translated paragraph group by group (default 3000). */
  chunkSize?: number;
}

/** Paragraph groups of at most `limit` characters (a longer single paragraph stays whole). */
export function splitParagraphs(text: string, limit: number): string[] {
  const paragraphs = text.split(/\n{2,}/);
  const parts: string[] = [];
  let current = "";
  for (const p of paragraphs) {
    if (current !== "" && current.length + p.length + 2 > limit) {
      parts.push(current);
      current = p;
    } else {
      current = current === "" ? p : `${current}\n\n${p}`;
    }
  }
  if (current !== "") parts.push(current);
  return parts;
}

/**
 * Translation as a Runnable: `invoke({ text, to, from? })` → the translated text;
 * `.stream()` yields text pieces. Long texts are cut at paragraph boundaries so each call
 * fits a small model's context, and the translations are joined with blank lines.
 */
export class TranslateChain extends SingleInputChain<TranslateInput, string> {
  static override lc_name(): string {
    return "TranslateChain";
  }

  lc_namespace = ["genera", "chains"];

  readonly model: GeneratorModel;
  readonly prompt: BasePromptTemplate;
  readonly chunkSize: number;

  constructor(options: TranslateChainOptions) {
    super();
    this.model = requireGenerator(options?.llm, "Translation");
    this.prompt = options.prompt ?? TRANSLATE_PROMPT;
    this.chunkSize = options.chunkSize ?? 3000;
  }

  private parts(input: TranslateInput): Array<Record<string, string>> {
    if (typeof input?.text !== "string" || input.text.trim() === "") {
      throw new GeneraError("INVALID_INPUT", "Translation needs a non-empty `text`");
    }
    if (typeof input.to !== "string" || input.to.trim() === "") {
      throw new GeneraError("INVALID_INPUT", 'Translation needs a target language `to` (e.g. "German" or "de")');
    }
    const source_language = input.from?.trim() ? input.from.trim() : "the source language";
    return splitParagraphs(input.text.trim(), this.chunkSize).map((text) => ({
      text,
      source_language,
      target_language: input.to.trim(),
    }));
  }

  protected async run(input: TranslateInput, config: RunnableConfig): Promise<string> {
    const out: string[] = [];
    for (const values of this.parts(input)) {
      const promptValue = await this.prompt.invoke(values, config);
      out.push(outputText(await this.model.invoke(promptValue, config)).trim());
    }
    return out.join("\n\n");
  }

  protected async *streamOutput(input: TranslateInput, config: RunnableConfig): AsyncGenerator<string> {
    for (const [i, values] of this.parts(input).entries()) {
      if (i > 0) yield "\n\n";
      const promptValue = await this.prompt.invoke(values, config);
      for await (const chunk of await this.model.stream(promptValue, config)) {
        const text = outputText(chunk);
        if (text !== "") yield text;
      }
    }
  }
}

export function createTranslateChain(options: TranslateChainOptions): TranslateChain {
  return new TranslateChain(options);
}

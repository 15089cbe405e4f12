import type { CallbackManagerForChainRun } from "@langchain/core/callbacks/manager";
import type { BasePromptTemplate } from "@langchain/core/prompts";
import { Runnable, type RunnableConfig } from "@langchain/core/runnables";
import { GeneraError } from "../src/errors.js";
import { type AnswerModel, type GeneratorModel, outputText, requireGenerator } from "./answerModel.js";
import { childConfig } from "./createRagChain.js";
import { TRANSLATE_PROMPT } from "./prompts.js";

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
export class TranslateChain extends Runnable<TranslateInput, string> {
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

  override async invoke(input: TranslateInput, options?: Partial<RunnableConfig>): Promise<string> {
    return this._callWithConfig(
      async (i: TranslateInput, config?: Partial<RunnableConfig>, runManager?: CallbackManagerForChainRun) => {
        const child = childConfig(config, runManager);
        const out: string[] = [];
        for (const values of this.parts(i)) {
          const promptValue = await this.prompt.invoke(values, child);
          out.push(outputText(await this.model.invoke(promptValue, child)).trim());
        }
        return out.join("\n\n");
      },
      input,
      options,
    );
  }

  override async *_streamIterator(input: TranslateInput, options?: Partial<RunnableConfig>): AsyncGenerator<string> {
    async function* once() {
      yield input;
    }
    const self = this;
    yield* this._transformStreamWithConfig(
      once(),
      async function* (inputs, runManager, config) {
        let value: TranslateInput | undefined;
        for await (const v of inputs) value = v;
        const child = childConfig(config, runManager);
        const parts = self.parts(value as TranslateInput);
        for (const [i, values] of parts.entries()) {
          if (i > 0) yield "\n\n";
          const promptValue = await self.prompt.invoke(values, child);
          for await (const chunk of await self.model.stream(promptValue, child)) {
            const text = outputText(chunk);
            if (text !== "") yield text;
          }
        }
      },
      options,
    );
  }
}

export function createTranslateChain(options: TranslateChainOptions): TranslateChain {
  return new TranslateChain(options);
}

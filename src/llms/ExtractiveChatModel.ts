import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { Document } from "@langchain/core/documents";
import {
  BaseChatModel,
  type BaseChatModelParams,
  type LangSmithParams,
} from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage, type UsageMetadata } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { throwIfAborted } from "./abortError.js";
import { ExtractiveAnswerer, type ExtractiveAnswererOptions, NO_ANSWER_TEXT } from "./ExtractiveAnswerer.js";
import { type NumberedPassage, parseNumberedPassages } from "./numberedPassages.js";
import { wordTokens } from "./textUnits.js";

export interface ExtractiveChatModelFields extends BaseChatModelParams, ExtractiveAnswererOptions {
  /** The answerer to quote with (default: one built from the other fields). */
  answerer?: ExtractiveAnswerer;
}

/** One quoted sentence and the prompt passage it came from. */
export interface ExtractiveChatCitation {
  /** The passage's own number in the prompt, as in the answer's `[n]`. */
  passage: number;
  sentence: string;
  score: number;
}

interface Reply {
  text: string;
  citations: ExtractiveChatCitation[];
  usage: UsageMetadata;
}

/**
 * The extractive answerer as a LangChain chat model, for anything that expects a model
 * (`prompt.pipe(model)`, agents' and chains' `llm` options, LangServe): it answers the last
 * user message by quoting sentences of the numbered passages in its prompt — RAG_PROMPT's
 * "[n] (label — file)\ntext" blocks, or hand-written "[1] …" lines — followed by `[n]` with the
 * passage's own number. Without numbered passages, the other messages are the passages, in
 * order. Sentences are chosen by ExtractiveAnswerer, unchanged; the chosen ones are in
 * `response_metadata.citations`. It never writes new text, so it cannot summarise, translate
 * or call tools.
 */
export class ExtractiveChatModel extends BaseChatModel {
  static override lc_name(): string {
    return "ExtractiveChatModel";
  }

  override lc_namespace = ["genera", "llms", "extractive"];

  readonly answerer: ExtractiveAnswerer;

  constructor(fields: ExtractiveChatModelFields = {}) {
    const { answerer, ...rest } = fields;
    super(rest);
    this.answerer = answerer ?? new ExtractiveAnswerer(rest);
  }

  _llmType(): string {
    return "genera-extractive";
  }

  /** Deterministic (temperature 0), and as long as the quoted sentences (no token limit). */
  override getLsParams(options: this["ParsedCallOptions"]): LangSmithParams {
    return {
      ls_provider: "genera",
      ls_model_name: "extractive",
      ls_model_type: "chat",
      ls_temperature: 0,
      ls_max_tokens: undefined,
      ls_stop: options?.stop,
    };
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    const reply = await this.reply(messages, options);
    const message = new AIMessage({
      content: reply.text,
      usage_metadata: reply.usage,
      response_metadata: { model_provider: "genera", citations: reply.citations },
    });
    return { generations: [{ text: reply.text, message }] };
  }

  /** The answer a word at a time (as the chains stream it); the last chunk carries usage and citations. */
  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const reply = await this.reply(messages, options);
    for (const piece of reply.text.match(/\S+\s*/g) ?? []) {
      throwIfAborted(options.signal);
      yield new ChatGenerationChunk({ text: piece, message: new AIMessageChunk(piece) });
      await runManager?.handleLLMNewToken(piece);
    }
    throwIfAborted(options.signal);
    yield new ChatGenerationChunk({
      text: "",
      message: new AIMessageChunk({
        content: "",
        usage_metadata: reply.usage,
        response_metadata: { model_provider: "genera", citations: reply.citations },
      }),
    });
  }

  private async reply(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<Reply> {
    throwIfAborted(options.signal);
    const { question, passages } = readPrompt(messages);
    const documents = passages.map(
      (p) =>
        new Document({
          id: String(p.index),
          pageContent: p.text,
          metadata: { source: p.source ?? `passage ${p.index}`, headings: p.headings, page: p.page },
        }),
    );
    const result = await this.answerer.answer({ question, documents });
    throwIfAborted(options.signal);
    // The answerer numbers its sources 1.. by first use; cite the prompt's own numbers instead.
    const passageOf = new Map(result.sources.map((s) => [s.index, Number(s.id)]));
    const citations = result.citations.map((c) => ({
      passage: passageOf.get(c.index) as number,
      sentence: c.sentence,
      score: c.score,
    }));
    let text = citations.length ? citations.map((c) => `${c.sentence} [${c.passage}]`).join(" ") : NO_ANSWER_TEXT;
    text = cutAtStop(text, options.stop ?? []);
    // Counted in words (textUnits' wordTokens): this model has no subword vocabulary, and the
    // word is the unit it reads and quotes. The prompt counts every message's text.
    const input_tokens = messages.reduce((n, m) => n + wordTokens(m.text).length, 0);
    const output_tokens = wordTokens(text).length;
    return { text, citations, usage: { input_tokens, output_tokens, total_tokens: input_tokens + output_tokens } };
  }
}

/** True for the extractive chat model (also across module copies, by its LangChain name). */
export function isExtractiveChatModel(value: unknown): value is ExtractiveChatModel {
  if (value instanceof ExtractiveChatModel) return true;
  const ctor = (value as { constructor?: { lc_name?: () => string } } | null)?.constructor;
  return typeof ctor?.lc_name === "function" && ctor.lc_name() === "ExtractiveChatModel";
}

/**
 * The question is the last user message (after its "Question:" label when it also holds the
 * passages). The passages are the numbered ones of the system and user messages — a later
 * message's passage replaces an earlier one with the same number — or, when there are none,
 * the text of every other message, numbered in order.
 */
function readPrompt(messages: BaseMessage[]): { question: string; passages: NumberedPassage[] } {
  const lastHuman = messages.findLastIndex((m) => m.getType() === "human");
  const numbered = new Map<number, NumberedPassage>();
  let question = "";
  messages.forEach((m, i) => {
    if (m.getType() !== "human" && m.getType() !== "system") return;
    const parsed = parseNumberedPassages(m.text);
    for (const p of parsed.passages) numbered.set(p.index, p);
    if (i === lastHuman) {
      const asked = parsed.passages.length ? parsed.after || parsed.before : m.text;
      question = asked.replace(/^\s*(?:question|query|q)\s*:\s*/i, "").trim();
    }
  });
  if (numbered.size > 0) return { question, passages: [...numbered.values()].sort((a, b) => a.index - b.index) };
  const others = messages.filter((_, i) => i !== lastHuman && messages[i]?.text.trim() !== "");
  return { question, passages: others.map((m, i) => ({ index: i + 1, text: m.text, headings: [] })) };
}

function cutAtStop(text: string, stops: string[]): string {
  let cut = text.length;
  for (const stop of stops) {
    const at = stop === "" ? -1 : text.indexOf(stop);
    if (at >= 0 && at < cut) cut = at;
  }
  return text.slice(0, cut);
}

import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import {
  BaseChatModel,
  type BaseChatModelParams,
  type LangSmithParams,
} from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage, type UsageMetadata } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { GeneraError } from "../errors.js";
import { throwIfAborted } from "./abortError.js";

/** The slice of a transformers.js tokenizer this model uses. */
export interface ChatTokenizerLike {
  chat_template?: unknown;
  apply_chat_template(
    conversation: Array<{ role: string; content: string }>,
    options: { tokenize: false; add_generation_prompt: boolean },
  ): unknown;
  /** Token ids of a text; counts the tokens reported in `usage_metadata`. */
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
}

/** The slice of transformers.js's `InterruptableStoppingCriteria` this model uses. */
export interface InterruptibleStopLike {
  interrupt(): void;
}

/** The slice of a transformers.js `TextGenerationPipeline` this model uses. */
export interface TextGenerationPipelineLike {
  (text: string, options: Record<string, unknown>): Promise<unknown>;
  tokenizer: ChatTokenizerLike;
  dispose?: () => Promise<unknown>;
}

/** Builds a streamer for `pipeline(…, { streamer })`; swapped in tests. */
export type StreamerFactory = (tokenizer: ChatTokenizerLike, onText: (text: string) => void) => Promise<unknown>;

export interface TransformersJsChatModelFields extends BaseChatModelParams {
  /** A local model folder (absolute or ./relative) or a Hub id found in the transformers.js cache. */
  model: string;
  /** Allow downloading from the Hugging Face Hub (default false: offline). */
  allowRemoteModels?: boolean;
  /** transformers.js cache folder for Hub ids (default: its own `env.cacheDir`). */
  cacheDir?: string;
  /** ONNX weight variant, e.g. "q4", "q8", "fp32" (default: the model's own default). */
  dtype?: string;
  temperature?: number;
  maxTokens?: number;
  topK?: number;
  topP?: number;
  /** Inject an already loaded pipeline (tests, or sharing one model between instances). */
  pipelineFactory?: () => Promise<TextGenerationPipelineLike>;
  streamerFactory?: StreamerFactory;
}

/** True when `model` names a folder on disk rather than a Hub id. */
export function looksLikePath(model: string): boolean {
  return isAbsolute(model) || model.startsWith("./") || model.startsWith("../") || model.startsWith("~");
}

/**
 * A LangChain chat model over a transformers.js `text-generation` pipeline (ONNX, CPU),
 * running a model from a local folder or the transformers.js cache; nothing is downloaded
 * unless `allowRemoteModels` is set. The model's chat template is applied when it has one,
 * otherwise a plain "Role: text" transcript is used; tokens stream through `TextStreamer`.
 */
export class TransformersJsChatModel extends BaseChatModel {
  static override lc_name(): string {
    return "TransformersJsChatModel";
  }

  readonly model: string;
  readonly allowRemoteModels: boolean;
  readonly cacheDir?: string;
  readonly dtype?: string;
  temperature: number;
  maxTokens: number;
  topK?: number;
  topP?: number;
  private readonly pipelineFactory?: () => Promise<TextGenerationPipelineLike>;
  private readonly streamerFactory: StreamerFactory;
  private loading?: Promise<TextGenerationPipelineLike>;

  constructor(fields: TransformersJsChatModelFields) {
    super(fields);
    if (typeof fields?.model !== "string" || fields.model.trim() === "") {
      throw new GeneraError("INVALID_INPUT", "TransformersJsChatModel needs `model`: a model folder or a Hub id");
    }
    this.allowRemoteModels = fields.allowRemoteModels ?? false;
    this.cacheDir = fields.cacheDir;
    this.dtype = fields.dtype;
    this.temperature = fields.temperature ?? 0.2;
    this.maxTokens = fields.maxTokens ?? 256;
    this.topK = fields.topK;
    this.topP = fields.topP;
    this.pipelineFactory = fields.pipelineFactory;
    this.streamerFactory = fields.streamerFactory ?? defaultStreamer;
    if (looksLikePath(fields.model) && !fields.pipelineFactory) {
      const folder = resolve(fields.model.replace(/^~(?=\/|$)/, process.env.HOME ?? "~"));
      if (!existsSync(folder) || !statSync(folder).isDirectory()) {
        throw new GeneraError(
          "MODEL_NOT_FOUND",
          `transformers.js model folder ${folder} does not exist (it should hold config.json, tokenizer.json and onnx/*.onnx)`,
          { details: { model: folder } },
        );
      }
      this.model = folder;
    } else {
      this.model = fields.model;
    }
  }

  _llmType(): string {
    return "transformersjs";
  }

  /** Loads the pipeline once; later calls share it. */
  async load(): Promise<TextGenerationPipelineLike> {
    this.loading ??= (this.pipelineFactory ?? (() => this.loadPipeline()))();
    try {
      return await this.loading;
    } catch (error) {
      this.loading = undefined;
      throw error;
    }
  }

  private async loadPipeline(): Promise<TextGenerationPipelineLike> {
    const { pipeline, env } = await import("@huggingface/transformers");
    const options: Record<string, unknown> = { local_files_only: !this.allowRemoteModels };
    if (this.cacheDir) options.cache_dir = this.cacheDir;
    if (this.dtype) options.dtype = this.dtype;
    try {
      return (await pipeline("text-generation", this.model, options)) as unknown as TextGenerationPipelineLike;
    } catch (error) {
      const where = looksLikePath(this.model) ? this.model : `${this.cacheDir ?? env.cacheDir} (Hub id ${this.model})`;
      throw new GeneraError(
        "MODEL_NOT_FOUND",
        `Could not load the text-generation model from ${where}: ${(error as Error).message}${this.allowRemoteModels ? "" : " (downloads are off; pass a local folder or pre-fill the cache)"}`,
        { cause: error, details: { model: this.model } },
      );
    }
  }

  /** The model's chat template when it has one, else a plain transcript ending in "Assistant:". */
  formatPrompt(messages: BaseMessage[], tokenizer: ChatTokenizerLike): string {
    const conversation = messages.map((m) => ({ role: roleOf(m), content: textOf(m) }));
    if (tokenizer.chat_template) {
      const rendered = tokenizer.apply_chat_template(conversation, { tokenize: false, add_generation_prompt: true });
      if (typeof rendered === "string") return rendered;
    }
    const lines = conversation.map((m) => `${m.role[0]?.toUpperCase()}${m.role.slice(1)}: ${m.content}`);
    return `${lines.join("\n")}\nAssistant:`;
  }

  private generationOptions(): Record<string, unknown> {
    const options: Record<string, unknown> = {
      max_new_tokens: this.maxTokens,
      do_sample: this.temperature > 0,
      return_full_text: false,
    };
    if (this.temperature > 0) options.temperature = this.temperature;
    if (this.topK !== undefined) options.top_k = this.topK;
    if (this.topP !== undefined) options.top_p = this.topP;
    return options;
  }

  override getLsParams(options: this["ParsedCallOptions"]): LangSmithParams {
    return {
      ls_provider: "transformersjs",
      ls_model_name: this.model,
      ls_model_type: "chat",
      ls_temperature: this.temperature,
      ls_max_tokens: this.maxTokens,
      ls_stop: options?.stop,
    };
  }

  async _generate(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<ChatResult> {
    let text = "";
    let usage: UsageMetadata | undefined;
    for await (const chunk of this._streamResponseChunks(messages, options, runManager)) {
      text += chunk.text;
      usage = (chunk.message as AIMessageChunk).usage_metadata ?? usage;
    }
    return { generations: [{ text, message: new AIMessage({ content: text, usage_metadata: usage }) }] };
  }

  /**
   * Streams the decoded text. Stop sequences are applied to it, and then generation is
   * interrupted (transformers.js's InterruptableStoppingCriteria, checked after each token);
   * an abort interrupts it the same way and rejects with the abort error. The last chunk
   * carries `usage_metadata` with no text.
   */
  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const signal = options?.signal;
    throwIfAborted(signal);
    const generator = await this.load();
    throwIfAborted(signal);
    const prompt = this.formatPrompt(messages, generator.tokenizer);
    const queue: string[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    let failure: unknown;
    const streamer = await this.streamerFactory(generator.tokenizer, (text) => {
      queue.push(text);
      wake?.();
    });
    const { InterruptableStoppingCriteria } = await import("@huggingface/transformers");
    const interrupt: InterruptibleStopLike = new InterruptableStoppingCriteria();
    const onAbort = () => {
      interrupt.interrupt();
      wake?.();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const run = generator(prompt, { ...this.generationOptions(), streamer, stopping_criteria: interrupt })
      .catch((error: unknown) => {
        failure = error;
      })
      .finally(() => {
        done = true;
        wake?.();
      });
    const stops = options?.stop ?? [];
    let emitted = "";
    let stopped = false;
    try {
      while (!stopped && !signal?.aborted) {
        if (queue.length === 0) {
          if (done) break;
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
          continue;
        }
        let piece = queue.shift() as string;
        const combined = emitted + piece;
        let cut = -1;
        for (const stop of stops) {
          const at = stop === "" ? -1 : combined.indexOf(stop);
          if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0) {
          piece = combined.slice(emitted.length, Math.max(emitted.length, cut));
          stopped = true;
          // Nothing after a stop sequence is shown: don't spend the CPU on it.
          interrupt.interrupt();
        }
        if (piece === "") continue;
        emitted += piece;
        yield new ChatGenerationChunk({ text: piece, message: new AIMessageChunk(piece) });
        await runManager?.handleLLMNewToken(piece);
      }
    } finally {
      // Also reached when the consumer stops reading: the model must not run on unread.
      if (!done) interrupt.interrupt();
      await run;
      signal?.removeEventListener("abort", onAbort);
    }
    throwIfAborted(signal);
    if (failure) throw failure;
    yield new ChatGenerationChunk({
      text: "",
      message: new AIMessageChunk({ content: "", usage_metadata: this.usage(generator.tokenizer, prompt, emitted) }),
    });
  }

  /**
   * Tokens by the model's own tokenizer: the rendered prompt (chat-template markers included,
   * as the model reads them) and the text returned (re-encoded after any stop-sequence cut, so
   * it counts what the caller got rather than what was generated and dropped).
   */
  private usage(tokenizer: ChatTokenizerLike, prompt: string, output: string): UsageMetadata {
    const input_tokens = tokenizer.encode(prompt, { add_special_tokens: false }).length;
    const output_tokens = output === "" ? 0 : tokenizer.encode(output, { add_special_tokens: false }).length;
    return { input_tokens, output_tokens, total_tokens: input_tokens + output_tokens };
  }
}

async function defaultStreamer(tokenizer: ChatTokenizerLike, onText: (text: string) => void): Promise<unknown> {
  const { TextStreamer } = await import("@huggingface/transformers");
  return new TextStreamer(tokenizer as never, {
    skip_prompt: true,
    skip_special_tokens: true,
    callback_function: onText,
  });
}

function roleOf(message: BaseMessage): string {
  const type = message.getType();
  if (type === "human") return "user";
  if (type === "ai") return "assistant";
  if (type === "system") return "system";
  return type;
}

function textOf(message: BaseMessage): string {
  if (typeof message.content === "string") return message.content;
  return message.content
    .map((part) => (typeof part === "string" ? part : part.type === "text" ? String(part.text) : ""))
    .join("");
}

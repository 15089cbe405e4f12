import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { type BaseLLMCallOptions, type BaseLLMParams, LLM } from "@langchain/core/language_models/llms";
import { type Generation, GenerationChunk, type LLMResult } from "@langchain/core/outputs";
import { type LoadedCheckpoint, loadCheckpoint } from "../engine/checkpoints/checkpoint.js";
import type { EncoderDecoder } from "../engine/models/encoderDecoder.js";
import { generateTokens, StopSequenceFilter } from "../engine/models/generateStream.js";
import type { GPT } from "../engine/models/gpt.js";
import { type Tokenizer, TokenStreamDecoder } from "../engine/tokenizers/index.js";
import { GeneraError } from "../errors.js";
import { throwIfAborted } from "./abortError.js";

export interface TransformerSamplingOptions {
  /** Softmax temperature; 0 = greedy. Default 0.8. */
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Most new tokens per call (default 256). */
  maxTokens?: number;
  /** Fixes the sampling generator, for repeatable output; unset = a fresh draw per call. */
  seed?: number;
}

export interface TransformerLLMInput extends BaseLLMParams, TransformerSamplingOptions {
  /** A checkpoint folder written by `genera train` / trainGPT (config.json, tokenizer.json, model.safetensors). */
  modelPath: string;
  /** Stop sequences applied to every call (merged with per-call `stop`). */
  stop?: string[];
}

export interface TransformerLLMCallOptions extends BaseLLMCallOptions, TransformerSamplingOptions {}

/** Tokens read and written by one generation (for `llmOutput.tokenUsage`). */
interface TokenCount {
  prompt: number;
  completion: number;
}

/** Special tokens that mean "end of text" when a model emits them. */
const END_TOKENS = ["<|endoftext|>", "<eos>"];

/**
 * A LangChain LLM over a genera transformer checkpoint. The checkpoint is loaded
 * on first use and kept; `.stream()` emits text token by token (whole characters
 * only, even when a byte-level BPE token ends mid-character), and stop sequences
 * cut the output without ever streaming the start of one.
 *
 * GPT checkpoints continue the prompt. Encoder-decoder checkpoints (e.g. the
 * dates translator) treat the prompt as the source sentence and decode greedily.
 */
export class TransformerLLM extends LLM<TransformerLLMCallOptions> {
  static override lc_name(): string {
    return "TransformerLLM";
  }

  modelPath: string;
  temperature: number;
  topK?: number;
  topP?: number;
  maxTokens: number;
  seed?: number;
  stop: string[];
  private loading?: Promise<LoadedCheckpoint>;

  constructor(fields: TransformerLLMInput) {
    super(fields);
    if (!fields?.modelPath)
      throw new GeneraError("INVALID_INPUT", "TransformerLLM needs modelPath (a checkpoint folder)");
    this.modelPath = fields.modelPath;
    this.temperature = fields.temperature ?? 0.8;
    this.topK = fields.topK;
    this.topP = fields.topP;
    this.maxTokens = fields.maxTokens ?? 256;
    this.seed = fields.seed;
    this.stop = fields.stop ?? [];
  }

  _llmType(): string {
    return "genera-transformer";
  }

  override _identifyingParams(): Record<string, unknown> {
    return {
      modelPath: this.modelPath,
      temperature: this.temperature,
      topK: this.topK,
      topP: this.topP,
      maxTokens: this.maxTokens,
    };
  }

  /** Loads the checkpoint once; concurrent first calls share the same load. */
  load(): Promise<LoadedCheckpoint> {
    if (!this.loading) {
      this.loading = Promise.resolve().then(() => loadCheckpoint(this.modelPath));
      // A failed load (missing folder) should be retried on the next call, not cached forever.
      this.loading.catch(() => {
        this.loading = undefined;
      });
    }
    return this.loading;
  }

  private settings(options: TransformerLLMCallOptions) {
    return {
      temperature: options.temperature ?? this.temperature,
      topK: options.topK ?? this.topK,
      topP: options.topP ?? this.topP,
      maxNewTokens: options.maxTokens ?? this.maxTokens,
      seed: options.seed ?? this.seed ?? Math.floor(Math.random() * 2 ** 32),
      stop: [...this.stop, ...(options.stop ?? [])],
    };
  }

  /** Token ids of new text, one at a time (synchronous; the async wrappers interleave them with the event loop). */
  private *tokenIds(
    ck: LoadedCheckpoint,
    prompt: string,
    s: ReturnType<TransformerLLM["settings"]>,
    count: TokenCount,
  ): Generator<number> {
    const tok = ck.tokenizer;
    const endIds = END_TOKENS.map((t) => tok.specialTokens.get(t)).filter((id): id is number => id !== undefined);
    if (ck.config.model_type === "encoder-decoder") {
      const bos = tok.specialTokens.get("<bos>");
      const eos = tok.specialTokens.get("<eos>");
      if (bos === undefined || eos === undefined) {
        throw new GeneraError("INDEX_CORRUPT", `${this.modelPath}: an encoder-decoder tokenizer needs <bos> and <eos>`);
      }
      const src = tok.encode(prompt);
      count.prompt = src.length;
      if (src.length === 0) return;
      yield* (ck.model as EncoderDecoder).greedyDecode(src, bos, eos, s.maxNewTokens);
      return;
    }
    const gpt = ck.model as GPT;
    let ids = tok.encode(prompt);
    count.prompt = ids.length;
    // An empty prompt still needs one token to condition on: the end-of-text token or a newline.
    if (ids.length === 0) ids = endIds.length ? [endIds[0]] : tok.encode("\n").slice(0, 1);
    if (ids.length === 0) ids = [0];
    yield* generateTokens(gpt, ids.slice(-gpt.config.blockSize), {
      maxNewTokens: s.maxNewTokens,
      temperature: s.temperature,
      topK: s.topK,
      topP: s.topP,
      seed: s.seed,
      stopTokens: endIds,
    });
  }

  async _call(
    prompt: string,
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<string> {
    let text = "";
    for await (const chunk of this._streamResponseChunks(prompt, options, runManager)) text += chunk.text;
    return text;
  }

  /**
   * One generation per prompt, with LangChain's `llmOutput.tokenUsage`: prompt tokens as the
   * checkpoint's tokenizer encodes the prompt, completion tokens as the ids the model produced
   * (up to a stop sequence).
   */
  override async _generate(
    prompts: string[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): Promise<LLMResult> {
    const generations: Generation[][] = [];
    const total = { prompt: 0, completion: 0 };
    for (const prompt of prompts) {
      const count: TokenCount = { prompt: 0, completion: 0 };
      let text = "";
      for await (const chunk of this.generateChunks(prompt, options, runManager, count)) text += chunk.text;
      generations.push([{ text }]);
      total.prompt += count.prompt;
      total.completion += count.completion;
    }
    const tokenUsage = {
      promptTokens: total.prompt,
      completionTokens: total.completion,
      totalTokens: total.prompt + total.completion,
    };
    return { generations, llmOutput: { tokenUsage } };
  }

  override _streamResponseChunks(
    prompt: string,
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<GenerationChunk> {
    return this.generateChunks(prompt, options, runManager, { prompt: 0, completion: 0 });
  }

  private async *generateChunks(
    prompt: string,
    options: this["ParsedCallOptions"],
    runManager: CallbackManagerForLLMRun | undefined,
    count: TokenCount,
  ): AsyncGenerator<GenerationChunk> {
    throwIfAborted(options.signal);
    const ck = await this.load();
    throwIfAborted(options.signal);
    const s = this.settings(options);
    const decoder = new TokenStreamDecoder(ck.tokenizer as Tokenizer, { skipSpecialTokens: true });
    const filter = new StopSequenceFilter(s.stop);
    const emit = async function* (text: string): AsyncGenerator<GenerationChunk> {
      if (!text) return;
      yield new GenerationChunk({ text });
      await runManager?.handleLLMNewToken(text);
    };
    for (const id of this.tokenIds(ck, prompt, s, count)) {
      // An abort rejects (LangChain's contract) rather than ending early: a truncated text
      // would look like a complete answer to the caller.
      throwIfAborted(options.signal);
      count.completion++;
      yield* emit(filter.push(decoder.push(id)));
      if (filter.stopped) break;
      // Generation is CPU-bound; give the event loop (HTTP streams, timers, aborts) a turn per token.
      await new Promise((resolve) => setImmediate(resolve));
    }
    throwIfAborted(options.signal);
    if (!filter.stopped) {
      yield* emit(filter.push(decoder.flush()));
      yield* emit(filter.flush());
    }
  }
}

import { existsSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { GeneraError } from "../src/errors.js";

/** Scores (query, passage) pairs; higher is more relevant. The hybrid retriever reorders its best hits by it. */
export interface Reranker {
  rerank(query: string, passages: string[]): Promise<number[]>;
}

export interface CrossEncoderRerankerOptions {
  /** A local model folder (config.json, tokenizer.json, onnx/model.onnx) or a hub id in the local model path / cache. */
  model: string;
  /** ONNX weights variant (default "fp32"; "q8" for model_quantized.onnx). */
  dtype?: "fp32" | "fp16" | "q8" | "int8" | "uint8" | "q4";
  /** Pairs per model call (default 16). */
  batchSize?: number;
  /** Allow downloads from the Hugging Face hub (default false: never touch the network). */
  allowRemote?: boolean;
}

// transformers.js is heavy: loaded on first use, not when this module is imported.
type TransformersJs = typeof import("@huggingface/transformers");
type Loaded = {
  tokenizer: Awaited<ReturnType<TransformersJs["AutoTokenizer"]["from_pretrained"]>>;
  model: Awaited<ReturnType<TransformersJs["AutoModelForSequenceClassification"]["from_pretrained"]>>;
};

/**
 * A cross-encoder (a sequence-classification model that reads query and passage together,
 * e.g. an ms-marco MiniLM reranker exported to ONNX) run by transformers.js. It reads every
 * pair in full, so it is slower than the bi-encoder and meant for the top few dozen hits only.
 * Offline by default: the model must be on disk. The score of a pair is its logit (the
 * positive class's logit for a two-class head).
 */
export class CrossEncoderReranker implements Reranker {
  readonly model: string;
  readonly dtype: NonNullable<CrossEncoderRerankerOptions["dtype"]>;
  readonly batchSize: number;
  readonly allowRemote: boolean;
  private loading?: Promise<Loaded>;

  constructor(options: CrossEncoderRerankerOptions) {
    if (!options || typeof options.model !== "string" || options.model.trim() === "") {
      throw new GeneraError("INVALID_INPUT", "CrossEncoderReranker needs a `model` (a local folder or hub id)");
    }
    const batchSize = options.batchSize ?? 16;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new GeneraError(
        "INVALID_INPUT",
        `CrossEncoderReranker batchSize must be a positive integer, got ${batchSize}`,
      );
    }
    const spelledAsPath = isAbsolute(options.model) || /^\.{1,2}[\\/]/.test(options.model);
    this.model = spelledAsPath || existsSync(resolve(options.model)) ? resolve(options.model) : options.model;
    this.dtype = options.dtype ?? "fp32";
    this.batchSize = batchSize;
    this.allowRemote = options.allowRemote ?? false;
  }

  async rerank(query: string, passages: string[]): Promise<number[]> {
    if (typeof query !== "string" || !Array.isArray(passages) || passages.some((p) => typeof p !== "string")) {
      throw new GeneraError("INVALID_INPUT", "rerank expects a query string and an array of passage strings");
    }
    if (passages.length === 0) return [];
    const { tokenizer, model } = await this.load();
    const scores: number[] = [];
    for (let i = 0; i < passages.length; i += this.batchSize) {
      const batch = passages.slice(i, i + this.batchSize);
      const inputs = tokenizer(new Array(batch.length).fill(query), {
        text_pair: batch,
        padding: true,
        truncation: true,
      });
      const { logits } = (await model(inputs)) as { logits: { dims: number[]; tolist(): number[][] } };
      const rows = logits.tolist();
      for (const row of rows) scores.push(row.length > 1 ? (row[row.length - 1] as number) : (row[0] as number));
    }
    return scores;
  }

  /** Releases the ONNX session. */
  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    const loaded = await loading?.catch(() => undefined);
    await loaded?.model.dispose();
  }

  private load(): Promise<Loaded> {
    if (!this.loading) {
      this.loading = this.create();
      this.loading.catch(() => {
        this.loading = undefined;
      });
    }
    return this.loading;
  }

  private async create(): Promise<Loaded> {
    const { AutoModelForSequenceClassification, AutoTokenizer, env } = await import("@huggingface/transformers");
    env.allowRemoteModels = this.allowRemote;
    env.allowLocalModels = true;
    if (!this.allowRemote && isAbsolute(this.model) && !existsSync(join(this.model, "config.json"))) {
      throw new GeneraError(
        "MODEL_NOT_FOUND",
        `Reranker model folder ${this.model} has no config.json and downloads are off: put the model there`,
        { details: { model: this.model } },
      );
    }
    try {
      const options = { local_files_only: !this.allowRemote };
      const [tokenizer, model] = await Promise.all([
        AutoTokenizer.from_pretrained(this.model, options),
        AutoModelForSequenceClassification.from_pretrained(this.model, { ...options, dtype: this.dtype }),
      ]);
      return { tokenizer, model };
    } catch (error) {
      throw new GeneraError(
        "MODEL_NOT_FOUND",
        `Reranker model "${this.model}" could not be loaded: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error, details: { model: this.model } },
      );
    }
  }
}

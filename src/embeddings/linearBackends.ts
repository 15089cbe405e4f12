import type { InferenceSession } from "onnxruntime-node";
import { GeneraError } from "../errors.js";
import { PackedGemm } from "../transformer/PackedGemm.js";
import { encodeOnnxModel } from "../util/onnxModel.js";

/** y = x·W + b, then ReLU where asked, for a fixed W (K×N): what the USE-lite forward pass delegates. */
export interface Linear {
  /** x holds `rows` rows of K floats; returns rows × N. */
  apply(x: Float32Array, rows: number): Promise<Float32Array>;
}

/** Makes Linears over one matrix-multiply implementation. */
export interface LinearBackend {
  readonly name: string;
  linear(w: Float32Array, K: number, N: number, bias: Float32Array, relu?: boolean): Promise<Linear>;
  dispose(): Promise<void>;
}

/** genera's own SIMD WebAssembly kernel, weights packed once (PackedGemm): no native code. */
export function engineLinearBackend(): LinearBackend {
  const kernel = new PackedGemm();
  return {
    name: "engine",
    async linear(w, K, N, bias, relu = false) {
      const packed = kernel.pack(w, K, N);
      return {
        apply: async (x, rows) => {
          const y = kernel.matmul(x, rows, packed, bias);
          if (relu) for (let i = 0; i < y.length; i++) if ((y[i] as number) < 0) y[i] = 0;
          return y;
        },
      };
    },
    async dispose() {},
  };
}

/**
 * onnxruntime's CPU kernels (MLAS, using AVX2/AVX-512 where the CPU has them: ~3–4× the
 * 128-bit wasm kernel), one session per layer holding its weights as initializers, each
 * product split over `threads` threads of onnxruntime's own pool. The pool's threads do
 * not spin between calls: a server's other work needs those cores.
 */
export async function onnxRuntimeLinearBackend(threads = 1): Promise<LinearBackend> {
  let ort: typeof import("onnxruntime-node");
  try {
    ort = await import("onnxruntime-node");
  } catch (error) {
    throw new GeneraError(
      "PROVIDER_UNAVAILABLE",
      'onnxruntime-node could not be loaded on this platform; set embeddings.runtime to "engine"',
      { cause: error },
    );
  }
  const sessions: InferenceSession[] = [];
  return {
    name: "onnxruntime",
    async linear(w, K, N, bias, relu = false) {
      const nodes = [
        { op: "MatMul", inputs: ["x", "W"], outputs: ["xW"] },
        { op: "Add", inputs: ["xW", "b"], outputs: [relu ? "z" : "y"] },
      ];
      if (relu) nodes.push({ op: "Relu", inputs: ["z"], outputs: ["y"] });
      const model = encodeOnnxModel({
        name: "linear",
        nodes,
        inputs: [{ name: "x", dims: ["rows", K] }],
        outputs: [{ name: "y", dims: ["rows", N] }],
        initializers: [
          { name: "W", dims: [K, N], data: w },
          { name: "b", dims: [N], data: bias },
        ],
      });
      const session = await ort.InferenceSession.create(model, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        extra: { session: { intra_op: { allow_spinning: "0" } } },
      });
      sessions.push(session);
      return {
        apply: async (x, rows) => {
          const input = new ort.Tensor("float32", x.subarray(0, rows * K), [rows, K]);
          const { y } = await session.run({ x: input });
          return (y as { data: Float32Array }).data;
        },
      };
    },
    async dispose() {
      await Promise.all(sessions.splice(0).map((s) => s.release()));
    },
  };
}

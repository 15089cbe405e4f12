import type { InferenceSession } from "onnxruntime-node";
import { GeneraError } from "../errors.js";
import { encodeOnnxModel, type OnnxAttribute, type OnnxNode } from "../util/onnxModel.js";
import type { SentencePieceTokenizer } from "./SentencePieceTokenizer.js";
import { defaultUseModelDir, encodeBatch, loadUseTokenizer, USE_DIMENSION, USE_MAX_TOKENS } from "./useLiteAssets.js";
import {
  type Dense,
  type LayerNormWeights,
  readUseLiteWeights,
  timingSignal,
  USE_HEADS,
  type UseLiteWeights,
  writeUnitTanh,
} from "./useLiteWeights.js";

/**
 * USE-lite on onnxruntime, the default runtime: the model's computation (see
 * useLiteWeights.ts) rebuilt at load time as one ONNX graph over its weights and
 * run by onnxruntime's CPU kernels (AVX2/AVX-512 where the CPU has them): 8× the
 * model's own graph on tfjs for documents, ~10× for a question (bench:embeddings). Texts of a batch are padded to the longest and padding
 * is masked out of attention and pooling, as the original graph does.
 */
export class UseLiteOnnxModel {
  private constructor(
    readonly tokenizer: SentencePieceTokenizer,
    readonly maxTokens: number,
    private readonly ort: typeof import("onnxruntime-node"),
    private readonly session: InferenceSession,
  ) {}

  /** `threads`: onnxruntime threads per call (they wait, not spin, between calls). */
  static async load(
    options: { modelDir?: string; maxTokens?: number; threads?: number } = {},
  ): Promise<UseLiteOnnxModel> {
    const dir = options.modelDir ?? defaultUseModelDir();
    const tokenizer = loadUseTokenizer(dir);
    const maxTokens = Math.min(options.maxTokens ?? USE_MAX_TOKENS, USE_MAX_TOKENS);
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
    const model = buildUseLiteGraph(readUseLiteWeights(dir), maxTokens);
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      executionMode: "sequential",
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    });
    return new UseLiteOnnxModel(tokenizer, maxTokens, ort, session);
  }

  /** Embeds one batch; unit vectors row after row, a zero row for a text with no tokens. */
  async embedBatch(texts: string[]): Promise<Float32Array> {
    const out = new Float32Array(texts.length * USE_DIMENSION);
    const { rows, ids: encoded } = encodeBatch(this.tokenizer, texts, this.maxTokens);
    if (rows.length === 0) return out;
    const B = rows.length;
    const L = Math.max(...encoded.map((e) => e.length));
    const ids = new BigInt64Array(B * L);
    const mask = new Float32Array(B * L);
    encoded.forEach((tokenIds, b) => {
      tokenIds.forEach((id, pos) => {
        ids[b * L + pos] = BigInt(id);
        mask[b * L + pos] = 1;
      });
    });
    const positions = BigInt64Array.from({ length: L }, (_, i) => BigInt(i));
    const { Tensor } = this.ort;
    const result = await this.session.run({
      ids: new Tensor("int64", ids, [B, L]),
      mask: new Tensor("float32", mask, [B, L]),
      positions: new Tensor("int64", positions, [L]),
    });
    const hidden = (result.hidden as { data: Float32Array }).data;
    for (const [s, row] of rows.entries()) writeUnitTanh(hidden, s, out, row);
    return out;
  }

  dispose(): void {
    void this.session.release();
  }
}

/**
 * The ONNX graph: inputs ids and mask [B, L] and positions [L]; output hidden [B, 512],
 * the tanh layer's input (tanh and L2 normalisation follow in writeUnitTanh).
 */
export function buildUseLiteGraph(w: UseLiteWeights, maxTokens: number): Uint8Array {
  const nodes: OnnxNode[] = [];
  const initializers: Array<{ name: string; dims: number[]; data: Float32Array | BigInt64Array }> = [];
  let count = 0;
  const op = (type: string, inputs: string[], attributes?: Record<string, OnnxAttribute>, output?: string) => {
    const name = output ?? `${type}_${count++}`;
    nodes.push({ op: type, inputs, outputs: [name], attributes });
    return name;
  };
  const floats = (dims: number[], data: Float32Array) => {
    const name = `w_${count++}`;
    initializers.push({ name, dims, data });
    return name;
  };
  const scalar = (v: number) => floats([], Float32Array.of(v));
  const ints = (values: number[]) => {
    const name = `i_${count++}`;
    initializers.push({ name, dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });
    return name;
  };
  const dense = (x: string, d: Dense, output?: string) =>
    op("Add", [op("MatMul", [x, floats([d.K, d.N], d.w)]), floats([d.N], d.bias)], undefined, output);
  const layerNorm = (x: string, n: LayerNormWeights) =>
    op("LayerNormalization", [x, floats([n.scale.length], n.scale), floats([n.bias.length], n.bias)], {
      axis: -1,
      epsilon: { float: w.epsilon },
    });

  const one = scalar(1);
  const width0 = w.embeddingWidth;
  const embedding = floats([w.embedding.length / width0, width0], w.embedding);
  const timing = floats([maxTokens, width0], timingSignal(w, maxTokens));
  let x = op("Add", [op("Mul", [op("Gather", [embedding, "ids"]), scalar(2)]), op("Gather", [timing, "positions"])]);
  // −1e9 on padded keys, [B, 1, 1, L]: softmax gives them no weight.
  const keyBias = op("Unsqueeze", [op("Mul", [op("Sub", [one, "mask"]), scalar(-1e9)]), ints([1, 2])]);

  for (const layer of w.layers) {
    const W = layer.width;
    const d = W / USE_HEADS;
    const qkv = layerNorm(x, layer.attentionNorm);
    const [q, k, v] = ["q", "k", "v"].map((part) => `${part}_${count}`) as [string, string, string];
    nodes.push({
      op: "Split",
      inputs: [dense(qkv, layer.qkv), ints([W, W, W])],
      outputs: [q, k, v],
      attributes: { axis: -1 },
    });
    const heads = ints([0, 0, USE_HEADS, d]);
    const split = (t: string, perm: number[]) => op("Transpose", [op("Reshape", [t, heads])], { perm });
    const scores = op("MatMul", [
      op("Mul", [split(q, [0, 2, 1, 3]), scalar(1 / Math.sqrt(d))]),
      split(k, [0, 2, 3, 1]),
    ]);
    const weights = op("Softmax", [op("Add", [scores, keyBias])], { axis: -1 });
    const context = op("Reshape", [
      op("Transpose", [op("MatMul", [weights, split(v, [0, 2, 1, 3])])], { perm: [0, 2, 1, 3] }),
      ints([0, 0, W]),
    ]);
    const h = op("Add", [dense(context, layer.output), layer.residual ? dense(x, layer.residual) : x]);
    const ffn = dense(op("Relu", [dense(layerNorm(h, layer.ffnNorm), layer.ffnIn)]), layer.ffnOut);
    x = op("Add", [h, ffn]);
  }

  const masked = op("Mul", [x, op("Unsqueeze", ["mask", ints([2])])]);
  const sum = op("ReduceSum", [masked, ints([1])], { keepdims: 0 });
  const tokens = op("Max", [op("ReduceSum", ["mask", ints([1])], { keepdims: 1 }), one]);
  dense(op("Div", [sum, tokens]), w.hidden, "hidden");

  return encodeOnnxModel({
    name: "use-lite",
    nodes,
    inputs: [
      { name: "ids", dims: ["batch", "tokens"], int64: true },
      { name: "mask", dims: ["batch", "tokens"] },
      { name: "positions", dims: ["tokens"], int64: true },
    ],
    outputs: [{ name: "hidden", dims: ["batch", w.hidden.N] }],
    initializers,
  });
}

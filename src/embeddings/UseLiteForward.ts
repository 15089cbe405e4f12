import { GeneraError } from "../errors.js";
import { gemm } from "../transformer/matmul.js";
import type { Linear, LinearBackend } from "./linearBackends.js";
import type { SentencePieceTokenizer } from "./SentencePieceTokenizer.js";
import {
  defaultUseModelDir,
  loadUseTokenizer,
  readUseWeights,
  USE_DIMENSION,
  USE_MAX_TOKENS,
} from "./useLiteAssets.js";

/**
 * USE-lite's forward pass written out in TypeScript: the computation of the tfjs
 * graph in model.json (a two-layer Kona Transformer, mean pooling, a tanh layer,
 * L2 normalisation) with its weights, its matrix products delegated to a
 * LinearBackend (onnxruntime or genera's own kernel). Tests hold its vectors to
 * the graph's. It is several times faster than executing the graph with tfjs:
 * the weights stay packed in the backend instead of streaming through a generic
 * kernel per call, and a batch's tokens are processed packed — no padding every
 * text to the longest, none of the graph's ~250 shape and bookkeeping ops.
 */

const ENCODE = "module_apply_default/Encoder_en/KonaTransformer/Encode/";
const KERNELS = "module/Encoder_en/KonaTransformer/Encode/";
const STACK = `${ENCODE}TransformerStack/`;
const HEADS = 4;
/** Width of the residual stream after layer 0 and of the FFNs. */
const WIDTH = 512;
const FFN_WIDTH = 1536;

interface Norm {
  scale: Float32Array;
  bias: Float32Array;
}

interface Layer {
  /** Width of the layer's input: 256 for layer 0 (the token embeddings), 512 after. */
  width: number;
  queryScale: number;
  attentionNorm: Norm;
  qkv: Linear;
  output: Linear;
  /** Layer 0 widens the residual stream from 256 to 512 with a dense layer ("AdjustResidualInput"). */
  residual?: Linear;
  ffnNorm: Norm;
  /** FFN first half, ReLU included. */
  ffnIn: Linear;
  ffnOut: Linear;
}

/** A text's tokens within the packed rows of a batch. */
interface Span {
  start: number;
  length: number;
}

export class UseLiteForward {
  private constructor(
    readonly tokenizer: SentencePieceTokenizer,
    readonly maxTokens: number,
    private readonly backend: LinearBackend,
    private readonly embedding: Float32Array,
    private readonly embeddingWidth: number,
    private readonly inverseTimescales: Float32Array,
    private readonly epsilon: number,
    private readonly layers: Layer[],
    private readonly hidden: Linear,
  ) {}

  static async load(
    backend: LinearBackend,
    options: { modelDir?: string; maxTokens?: number } = {},
  ): Promise<UseLiteForward> {
    const dir = options.modelDir ?? defaultUseModelDir();
    const tokenizer = loadUseTokenizer(dir);
    const weights = readUseWeights(dir);
    const get = (name: string, size?: number): Float32Array => {
      const w = weights.get(name);
      if (!w || (size !== undefined && w.data.length !== size)) {
        throw new GeneraError("INDEX_CORRUPT", `USE-lite model in ${dir} lacks weight ${name} of the expected size`);
      }
      return w.data;
    };
    const linear = (kernel: string, bias: string, K: number, N: number, relu = false) =>
      backend.linear(get(kernel, K * N), K, N, get(bias, N), relu);
    const norm = (prefix: string, width: number): Norm => ({
      scale: get(`${prefix}layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`, width),
      bias: get(`${prefix}layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`, width),
    });
    const embeddingWidth = 256;
    const layers: Layer[] = [];
    for (const i of [0, 1]) {
      const width = i === 0 ? embeddingWidth : WIDTH;
      const own = `${ENCODE}Layer_${i}/TransformerLayer/`;
      const attention = `${KERNELS}Layer_${i}/TransformerLayer/MultiheadAttention/`;
      const ffn = `${STACK}Layer_${i}/TransformerLayer/FFN/`;
      const bias = (path: string) => `${own}${path}/bias/ConcatPartitions/concat`;
      const scale = weights.get(`${STACK}Layer_${i}/TransformerLayer/MultiheadAttention/mul/y`)?.data[0];
      layers.push({
        width,
        queryScale: scale ?? 1 / Math.sqrt(width / HEADS),
        attentionNorm: norm(own, width),
        qkv: await linear(
          `${attention}qkv_transform_single/kernel/part_0`,
          bias("MultiheadAttention/qkv_transform_single"),
          width,
          3 * width,
        ),
        output: await linear(
          `${attention}output_transform_single/kernel/part_0`,
          bias("MultiheadAttention/output_transform_single"),
          width,
          WIDTH,
        ),
        residual:
          width === WIDTH
            ? undefined
            : await linear(`${own}dense/kernel/ConcatPartitions/concat`, bias("dense"), width, WIDTH),
        ffnNorm: norm(`${own}FFN/`, WIDTH),
        ffnIn: await linear(`${ffn}conv1/Tensordot/Reshape_1`, bias("FFN/conv1"), WIDTH, FFN_WIDTH, true),
        ffnOut: await linear(`${ffn}conv2/Tensordot/Reshape_1`, bias("FFN/conv2"), FFN_WIDTH, WIDTH),
      });
    }
    const hidden = await linear(
      "module/Encoder_en/hidden_layers/tanh_layer_0/weights",
      "module/Encoder_en/hidden_layers/tanh_layer_0/bias",
      WIDTH,
      USE_DIMENSION,
    );
    const epsilon = weights.get(`${STACK}Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`)?.data[0];
    return new UseLiteForward(
      tokenizer,
      Math.min(options.maxTokens ?? USE_MAX_TOKENS, USE_MAX_TOKENS),
      backend,
      get("module/Embeddings_en"),
      embeddingWidth,
      get(`${STACK}Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`, embeddingWidth / 2),
      epsilon ?? 1e-6,
      layers,
      hidden,
    );
  }

  /** Embeds one batch; unit vectors row after row, a zero row for a text with no tokens. */
  async embedBatch(texts: string[]): Promise<Float32Array> {
    const out = new Float32Array(texts.length * USE_DIMENSION);
    const encoded = texts.map((t) => this.tokenizer.encode(t, this.maxTokens));
    const rows: number[] = [];
    const spans: Span[] = [];
    let tokens = 0;
    encoded.forEach((ids, row) => {
      if (ids.length === 0) return;
      rows.push(row);
      spans.push({ start: tokens, length: ids.length });
      tokens += ids.length;
    });
    if (tokens === 0) return out;

    let x = this.embed(encoded, rows, tokens);
    for (const layer of this.layers) x = await this.transformerLayer(x, tokens, layer, spans);

    // Mean over each text's tokens, then the tanh layer and L2 normalisation.
    const pooled = new Float32Array(spans.length * WIDTH);
    spans.forEach(({ start, length }, s) => {
      const o = s * WIDTH;
      for (let t = start; t < start + length; t++) {
        for (let j = 0; j < WIDTH; j++) pooled[o + j] = (pooled[o + j] as number) + (x[t * WIDTH + j] as number);
      }
      for (let j = 0; j < WIDTH; j++) pooled[o + j] = (pooled[o + j] as number) / length;
    });
    const hidden = await this.hidden.apply(pooled, spans.length);
    rows.forEach((row, s) => {
      const o = s * USE_DIMENSION;
      let sum = 0;
      for (let j = 0; j < USE_DIMENSION; j++) {
        const v = Math.tanh(hidden[o + j] as number);
        hidden[o + j] = v;
        sum += v * v;
      }
      const scale = 1 / Math.sqrt(Math.max(sum, 1e-12));
      for (let j = 0; j < USE_DIMENSION; j++) out[row * USE_DIMENSION + j] = (hidden[o + j] as number) * scale;
    });
    return out;
  }

  dispose(): void {
    void this.backend.dispose();
  }

  /** Token embeddings plus the sinusoidal timing signal of each position, packed text after text. */
  private embed(encoded: number[][], rows: number[], tokens: number): Float32Array {
    const width = this.embeddingWidth;
    const half = width / 2;
    const x = new Float32Array(tokens * width);
    let t = 0;
    for (const row of rows) {
      const ids = encoded[row] as number[];
      for (let pos = 0; pos < ids.length; pos++, t++) {
        const e = (ids[pos] as number) * width;
        const o = t * width;
        // The graph adds the embedding twice: once scattered into the dense input and
        // once more inside AddTimingSignal (embedding + signal), then sums the two.
        for (let j = 0; j < width; j++) x[o + j] = 2 * (this.embedding[e + j] as number);
        for (let j = 0; j < half; j++) {
          const angle = Math.fround(pos * (this.inverseTimescales[j] as number));
          x[o + j] = (x[o + j] as number) + Math.sin(angle);
          x[o + half + j] = (x[o + half + j] as number) + Math.cos(angle);
        }
      }
    }
    return x;
  }

  private async transformerLayer(x: Float32Array, tokens: number, layer: Layer, spans: Span[]): Promise<Float32Array> {
    const qkv = await layer.qkv.apply(this.layerNorm(x, tokens, layer.width, layer.attentionNorm), tokens);
    const context = attention(qkv, layer.width, layer.queryScale, spans);
    const h = await layer.output.apply(context, tokens);
    const residual = layer.residual ? await layer.residual.apply(x, tokens) : x;
    for (let i = 0; i < h.length; i++) h[i] = (h[i] as number) + (residual[i] as number);
    const inner = await layer.ffnIn.apply(this.layerNorm(h, tokens, WIDTH, layer.ffnNorm), tokens);
    const ffn = await layer.ffnOut.apply(inner, tokens);
    for (let i = 0; i < h.length; i++) h[i] = (h[i] as number) + (ffn[i] as number);
    return h;
  }

  private layerNorm(x: Float32Array, tokens: number, width: number, { scale, bias }: Norm): Float32Array {
    const out = new Float32Array(tokens * width);
    for (let t = 0; t < tokens; t++) {
      const o = t * width;
      let mean = 0;
      for (let j = 0; j < width; j++) mean += x[o + j] as number;
      mean /= width;
      let variance = 0;
      for (let j = 0; j < width; j++) variance += ((x[o + j] as number) - mean) ** 2;
      const r = 1 / Math.sqrt(variance / width + this.epsilon);
      for (let j = 0; j < width; j++) {
        out[o + j] = ((x[o + j] as number) - mean) * r * (scale[j] as number) + (bias[j] as number);
      }
    }
    return out;
  }
}

/**
 * Multi-head self-attention within each text (no text sees another's tokens, so
 * there is nothing to mask). qkv holds each token's query, key and value side by
 * side (3·width floats); returns the heads' outputs side by side (width floats).
 * Products go through the engine's gemm, which picks its JS or wasm kernel by size.
 */
function attention(qkv: Float32Array, width: number, queryScale: number, spans: Span[]): Float32Array {
  const d = width / HEADS;
  const context = new Float32Array((qkv.length / 3) | 0);
  for (const { start, length: n } of spans) {
    // Each head's q, k and v as contiguous n×d matrices, heads one after another.
    const q = new Float32Array(HEADS * n * d);
    const k = new Float32Array(HEADS * n * d);
    const v = new Float32Array(HEADS * n * d);
    for (let i = 0; i < n; i++) {
      const row = (start + i) * 3 * width;
      for (let h = 0; h < HEADS; h++) {
        const dst = (h * n + i) * d;
        for (let j = 0; j < d; j++) {
          q[dst + j] = (qkv[row + h * d + j] as number) * queryScale;
          k[dst + j] = qkv[row + width + h * d + j] as number;
          v[dst + j] = qkv[row + 2 * width + h * d + j] as number;
        }
      }
    }
    const scores = new Float32Array(HEADS * n * n);
    const shared = { batch: HEADS, transA: false, overwrite: true, strideB: n * d };
    gemm(
      { ...shared, a: q, b: k, c: scores, M: n, N: n, K: d, transB: true, strideA: n * d, strideC: n * n },
      { threads: 1 },
    );
    for (let r = 0; r < HEADS * n; r++) {
      const o = r * n;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < n; j++) max = Math.max(max, scores[o + j] as number);
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const e = Math.exp((scores[o + j] as number) - max);
        scores[o + j] = e;
        sum += e;
      }
      for (let j = 0; j < n; j++) scores[o + j] = (scores[o + j] as number) / sum;
    }
    const heads = new Float32Array(HEADS * n * d);
    gemm(
      { ...shared, a: scores, b: v, c: heads, M: n, N: d, K: n, transB: false, strideA: n * n, strideC: n * d },
      { threads: 1 },
    );
    for (let h = 0; h < HEADS; h++) {
      for (let i = 0; i < n; i++) {
        context.set(heads.subarray((h * n + i) * d, (h * n + i + 1) * d), (start + i) * width + h * d);
      }
    }
  }
  return context;
}

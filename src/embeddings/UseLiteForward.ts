import { gemm } from "../transformer/matmul.js";
import { PackedGemm, type PackedMatrix } from "../transformer/PackedGemm.js";
import type { SentencePieceTokenizer } from "./SentencePieceTokenizer.js";
import { defaultUseModelDir, loadUseTokenizer, USE_DIMENSION, USE_MAX_TOKENS } from "./useLiteAssets.js";
import {
  type Dense,
  type LayerNormWeights,
  readUseLiteWeights,
  timingSignal,
  USE_HEADS,
  USE_WIDTH,
  type UseLiteWeights,
  writeUnitTanh,
} from "./useLiteWeights.js";

/** A dense layer packed into the kernel's memory. */
interface Packed {
  w: PackedMatrix;
  bias: Float32Array;
}

/** A text's tokens within the packed rows of a batch. */
interface Span {
  start: number;
  length: number;
}

/**
 * USE-lite's forward pass (see useLiteWeights.ts) written out on genera's own
 * WebAssembly SIMD matmul, the "engine" runtime: no native code, ~1.7× the
 * model's graph on tfjs. The weights are packed once (PackedGemm) instead of
 * streaming through a generic kernel per call, and a batch's tokens are processed
 * packed — no padding to the longest text, none of the graph's shape bookkeeping.
 */
export class UseLiteForward {
  private constructor(
    readonly tokenizer: SentencePieceTokenizer,
    readonly maxTokens: number,
    private readonly weights: UseLiteWeights,
    private readonly kernel: PackedGemm,
    private readonly packed: Map<Dense, Packed>,
    private readonly timing: Float32Array,
  ) {}

  static async load(options: { modelDir?: string; maxTokens?: number } = {}): Promise<UseLiteForward> {
    const dir = options.modelDir ?? defaultUseModelDir();
    const tokenizer = loadUseTokenizer(dir);
    const weights = readUseLiteWeights(dir);
    const kernel = new PackedGemm();
    const packed = new Map<Dense, Packed>();
    const dense = [weights.hidden, ...weights.layers.flatMap((l) => [l.qkv, l.output, l.ffnIn, l.ffnOut])];
    for (const d of [...dense, ...weights.layers.flatMap((l) => (l.residual ? [l.residual] : []))]) {
      packed.set(d, { w: kernel.pack(d.w, d.K, d.N), bias: d.bias });
    }
    const maxTokens = Math.min(options.maxTokens ?? USE_MAX_TOKENS, USE_MAX_TOKENS);
    return new UseLiteForward(tokenizer, maxTokens, weights, kernel, packed, timingSignal(weights, maxTokens));
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
    for (const layer of this.weights.layers) {
      const normed = this.layerNorm(x, tokens, layer.width, layer.attentionNorm);
      const context = attention(this.dense(layer.qkv, normed, tokens), layer.width, layer.queryScale, spans);
      const h = this.dense(layer.output, context, tokens);
      const residual = layer.residual ? this.dense(layer.residual, x, tokens) : x;
      for (let i = 0; i < h.length; i++) h[i] = (h[i] as number) + (residual[i] as number);
      const inner = this.dense(layer.ffnIn, this.layerNorm(h, tokens, USE_WIDTH, layer.ffnNorm), tokens);
      for (let i = 0; i < inner.length; i++) if ((inner[i] as number) < 0) inner[i] = 0;
      const ffn = this.dense(layer.ffnOut, inner, tokens);
      for (let i = 0; i < h.length; i++) h[i] = (h[i] as number) + (ffn[i] as number);
      x = h;
    }

    const pooled = new Float32Array(spans.length * USE_WIDTH);
    spans.forEach(({ start, length }, s) => {
      const o = s * USE_WIDTH;
      for (let t = start; t < start + length; t++) {
        for (let j = 0; j < USE_WIDTH; j++)
          pooled[o + j] = (pooled[o + j] as number) + (x[t * USE_WIDTH + j] as number);
      }
      for (let j = 0; j < USE_WIDTH; j++) pooled[o + j] = (pooled[o + j] as number) / length;
    });
    const hidden = this.dense(this.weights.hidden, pooled, spans.length);
    for (const [s, row] of rows.entries()) writeUnitTanh(hidden, s, out, row);
    return out;
  }

  dispose(): void {
    // The kernel's memory goes with this object.
  }

  private dense(d: Dense, x: Float32Array, rows: number): Float32Array {
    const p = this.packed.get(d) as Packed;
    return this.kernel.matmul(x, rows, p.w, p.bias);
  }

  /** Token embeddings (twice, as the graph adds them) plus each position's timing signal, text after text. */
  private embed(encoded: number[][], rows: number[], tokens: number): Float32Array {
    const { embedding, embeddingWidth: width } = this.weights;
    const x = new Float32Array(tokens * width);
    let t = 0;
    for (const row of rows) {
      const ids = encoded[row] as number[];
      for (let pos = 0; pos < ids.length; pos++, t++) {
        const e = (ids[pos] as number) * width;
        const o = t * width;
        for (let j = 0; j < width; j++) {
          x[o + j] = 2 * (embedding[e + j] as number) + (this.timing[pos * width + j] as number);
        }
      }
    }
    return x;
  }

  private layerNorm(x: Float32Array, tokens: number, width: number, { scale, bias }: LayerNormWeights): Float32Array {
    const out = new Float32Array(tokens * width);
    const epsilon = this.weights.epsilon;
    for (let t = 0; t < tokens; t++) {
      const o = t * width;
      let mean = 0;
      for (let j = 0; j < width; j++) mean += x[o + j] as number;
      mean /= width;
      let variance = 0;
      for (let j = 0; j < width; j++) variance += ((x[o + j] as number) - mean) ** 2;
      const r = 1 / Math.sqrt(variance / width + epsilon);
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
  const d = width / USE_HEADS;
  const context = new Float32Array((qkv.length / 3) | 0);
  for (const { start, length: n } of spans) {
    // Each head's q, k and v as contiguous n×d matrices, heads one after another.
    const q = new Float32Array(USE_HEADS * n * d);
    const k = new Float32Array(USE_HEADS * n * d);
    const v = new Float32Array(USE_HEADS * n * d);
    for (let i = 0; i < n; i++) {
      const row = (start + i) * 3 * width;
      for (let h = 0; h < USE_HEADS; h++) {
        const dst = (h * n + i) * d;
        for (let j = 0; j < d; j++) {
          q[dst + j] = (qkv[row + h * d + j] as number) * queryScale;
          k[dst + j] = qkv[row + width + h * d + j] as number;
          v[dst + j] = qkv[row + 2 * width + h * d + j] as number;
        }
      }
    }
    const scores = new Float32Array(USE_HEADS * n * n);
    const shared = { batch: USE_HEADS, transA: false, overwrite: true, strideB: n * d };
    gemm(
      { ...shared, a: q, b: k, c: scores, M: n, N: n, K: d, transB: true, strideA: n * d, strideC: n * n },
      { threads: 1 },
    );
    for (let r = 0; r < USE_HEADS * n; r++) {
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
    const heads = new Float32Array(USE_HEADS * n * d);
    gemm(
      { ...shared, a: scores, b: v, c: heads, M: n, N: d, K: n, transB: false, strideA: n * n, strideC: n * d },
      { threads: 1 },
    );
    for (let h = 0; h < USE_HEADS; h++) {
      for (let i = 0; i < n; i++) {
        context.set(heads.subarray((h * n + i) * d, (h * n + i + 1) * d), (start + i) * width + h * d);
      }
    }
  }
  return context;
}

import { PackedGemm, type PackedMatrix } from "../engine/kernels/PackedGemm.js";
import { scaledDotProductAttention } from "../engine/layers/index.js";
import { layerNorm, noGrad, permute, reshape, slice, Tensor } from "../engine/ops/index.js";
import type { SentencePieceTokenizer } from "./SentencePieceTokenizer.js";
import { defaultUseModelDir, encodeBatch, loadUseTokenizer, USE_DIMENSION, USE_MAX_TOKENS } from "./useLiteAssets.js";
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
    const layerDense = weights.layers.flatMap((l) => [
      l.qkv,
      l.output,
      l.ffnIn,
      l.ffnOut,
      ...(l.residual ? [l.residual] : []),
    ]);
    for (const d of [weights.hidden, ...layerDense]) packed.set(d, { w: kernel.pack(d.w, d.K, d.N), bias: d.bias });
    const maxTokens = Math.min(options.maxTokens ?? USE_MAX_TOKENS, USE_MAX_TOKENS);
    return new UseLiteForward(tokenizer, maxTokens, weights, kernel, packed, timingSignal(weights, maxTokens));
  }

  /** Embeds one batch; unit vectors row after row, a zero row for a text with no tokens. */
  async embedBatch(texts: string[]): Promise<Float32Array> {
    const out = new Float32Array(texts.length * USE_DIMENSION);
    const { rows, ids: encoded } = encodeBatch(this.tokenizer, texts, this.maxTokens);
    const spans: Span[] = [];
    let tokens = 0;
    for (const ids of encoded) {
      spans.push({ start: tokens, length: ids.length });
      tokens += ids.length;
    }
    if (tokens === 0) return out;

    let x = this.embed(encoded, tokens);
    for (const layer of this.weights.layers) {
      const normed = this.layerNorm(x, tokens, layer.attentionNorm);
      const context = attention(this.dense(layer.qkv, normed, tokens), layer.width, spans);
      const h = this.dense(layer.output, context, tokens);
      const residual = layer.residual ? this.dense(layer.residual, x, tokens) : x;
      for (let i = 0; i < h.length; i++) h[i] = (h[i] as number) + (residual[i] as number);
      const inner = this.dense(layer.ffnIn, this.layerNorm(h, tokens, layer.ffnNorm), tokens);
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
  private embed(encoded: number[][], tokens: number): Float32Array {
    const { embedding, embeddingWidth: width } = this.weights;
    const x = new Float32Array(tokens * width);
    let t = 0;
    for (const ids of encoded) {
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

  private layerNorm(x: Float32Array, tokens: number, norm: LayerNormWeights): Float32Array {
    const width = norm.scale.length;
    const gamma = new Tensor(norm.scale, [width]);
    const beta = new Tensor(norm.bias, [width]);
    return noGrad(() => layerNorm(new Tensor(x, [tokens, width]), gamma, beta, this.weights.epsilon)).data;
  }
}

/**
 * Multi-head self-attention within each text (no text sees another's tokens, so
 * there is nothing to mask), with the engine's own scaledDotProductAttention. qkv holds
 * each token's query, key and value side by side (3·width floats); returns the heads'
 * outputs side by side (width floats).
 */
function attention(qkv: Float32Array, width: number, spans: Span[]): Float32Array {
  const d = width / USE_HEADS;
  const all = new Tensor(qkv, [qkv.length / (3 * width), 3 * width]);
  const context = new Float32Array(qkv.length / 3);
  noGrad(() => {
    for (const { start, length: n } of spans) {
      const rows = slice(all, 0, start, start + n);
      // [n, width] → [heads, n, d]
      const heads = (part: number) =>
        permute(reshape(slice(rows, 1, part * width, (part + 1) * width), [n, USE_HEADS, d]), [1, 0, 2]);
      const out = scaledDotProductAttention(heads(0), heads(1), heads(2));
      context.set(permute(out, [1, 0, 2]).data, start * width);
    }
  });
  return context;
}

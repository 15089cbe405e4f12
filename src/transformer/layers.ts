import { GeneraError } from "../errors.js";
import { Module } from "./module.js";
import { dropout, embedding, layerNorm, matmul, Tensor } from "./tensor.js";

/**
 * The building blocks of "Attention Is All You Need" (Vaswani et al., 2017),
 * one small class per layer. Shapes in comments: B batch, T query length,
 * S key length, D model width, H heads, dk = D/H.
 */

export type Rng = () => number;

/** y = x·Wᵀ + b with W stored [out, in] as in PyTorch, so a tied embedding [V, D] is a valid head. */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, opts: { bias?: boolean; std?: number; rng: Rng }) {
    super();
    // GPT-2 style N(0, 0.02²) unless told otherwise; small weights keep early logits near uniform.
    this.weight = Tensor.randn([outFeatures, inFeatures], opts.std ?? 0.02, opts.rng, true);
    this.bias = opts.bias === false ? null : Tensor.zeros([outFeatures], true);
  }

  forward(x: Tensor): Tensor {
    const y = matmul(x, this.weight, { transB: true });
    return this.bias ? y.add(this.bias) : y;
  }
}

export class Embedding extends Module {
  weight: Tensor;

  constructor(numEmbeddings: number, dim: number, opts: { std?: number; rng: Rng }) {
    super();
    this.weight = Tensor.randn([numEmbeddings, dim], opts.std ?? 0.02, opts.rng, true);
  }

  /** ids laid out as `shape` → [...shape, dim]. */
  forward(ids: Int32Array | number[], shape?: number[]): Tensor {
    return embedding(this.weight, ids, shape);
  }
}

export class LayerNorm extends Module {
  weight: Tensor;
  bias: Tensor;

  constructor(
    dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = Tensor.ones([dim], true);
    this.bias = Tensor.zeros([dim], true);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/**
 * The paper's fixed positional encoding (§3.5):
 *   PE(pos, 2i) = sin(pos / 10000^(2i/d)),  PE(pos, 2i+1) = cos(pos / 10000^(2i/d)).
 * Returns a [maxLen, d] table. Computed in float64 then rounded once.
 */
export function sinusoidalPositionalEncoding(maxLen: number, d: number): Float32Array {
  const pe = new Float32Array(maxLen * d);
  for (let pos = 0; pos < maxLen; pos++) {
    for (let i = 0; 2 * i < d; i++) {
      const angle = pos / 10000 ** ((2 * i) / d);
      pe[pos * d + 2 * i] = Math.sin(angle);
      if (2 * i + 1 < d) pe[pos * d + 2 * i + 1] = Math.cos(angle);
    }
  }
  return pe;
}

/** Adds position information: a learned [maxLen, D] table or the fixed sinusoids (not trained). */
export class PositionalEncoding extends Module {
  weight: Tensor;

  constructor(
    readonly kind: "learned" | "sinusoidal",
    readonly maxLen: number,
    dim: number,
    rng: Rng,
  ) {
    super();
    this.weight =
      kind === "learned"
        ? Tensor.randn([maxLen, dim], 0.02, rng, true)
        : new Tensor(sinusoidalPositionalEncoding(maxLen, dim), [maxLen, dim], false);
  }

  /** [T, D] encodings for positions start … start+T−1 (broadcast over the batch by add). */
  forward(start: number, T: number): Tensor {
    if (start + T > this.maxLen) {
      throw new GeneraError(
        "INVALID_INPUT",
        `sequence of ${start + T} positions exceeds the model's maximum of ${this.maxLen}`,
        {
          details: { length: start + T, maxLen: this.maxLen },
        },
      );
    }
    const ids = new Int32Array(T);
    for (let t = 0; t < T; t++) ids[t] = start + t;
    return embedding(this.weight, ids, [T]);
  }
}

/**
 * A causal mask for queries at positions past … past+T−1 over keys 0 … past+T−1:
 * 1 where the key lies in the query's future. Shape [T, past+T], broadcast over batch and heads.
 */
export function causalMask(T: number, past = 0): Tensor {
  const S = past + T;
  const m = new Float32Array(T * S);
  for (let i = 0; i < T; i++) for (let j = past + i + 1; j < S; j++) m[i * S + j] = 1;
  return new Tensor(m, [T, S]);
}

/** [B, 1, 1, S] mask, 1 where the key token is padding. */
export function paddingMask(ids: Int32Array, B: number, S: number, padId: number): Tensor {
  const m = new Float32Array(B * S);
  for (let k = 0; k < B * S; k++) m[k] = ids[k] === padId ? 1 : 0;
  return new Tensor(m, [B, 1, 1, S]);
}

/**
 * Attention(Q, K, V) = softmax(Q·Kᵀ / √dk) · V   (§3.2.1)
 * q [B, H, T, dk], k and v [B, H, S, dk]; mask broadcasts to [B, H, T, S], nonzero = blocked.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask?: Tensor | null,
  drop?: { p: number; training: boolean; rng: Rng },
): Tensor {
  const dk = q.shape[q.ndim - 1];
  let scores = matmul(q, k, { transB: true }).mul(1 / Math.sqrt(dk));
  if (mask) scores = scores.maskedFill(mask, Number.NEGATIVE_INFINITY);
  let weights = scores.softmax(-1);
  if (drop) weights = dropout(weights, drop.p, drop.training, drop.rng);
  return matmul(weights, v);
}

/**
 * Keys and values of the positions decoded so far, so each new token costs
 * one row of attention instead of recomputing the whole prefix. Stored
 * [B, H, capacity, dk] and grown by doubling.
 */
export class KVCache {
  length = 0;
  private capacity = 0;
  private kBuf = new Float32Array(0);
  private vBuf = new Float32Array(0);

  constructor(
    readonly B: number,
    readonly H: number,
    readonly dk: number,
  ) {}

  /** Appends k, v [B, H, Tnew, dk] and returns all keys and values [B, H, length, dk]. */
  append(k: Tensor, v: Tensor): [Tensor, Tensor] {
    const { B, H, dk } = this;
    const Tn = k.shape[2];
    const need = this.length + Tn;
    if (need > this.capacity) {
      const cap = Math.max(need, this.capacity * 2, 16);
      const grow = (old: Float32Array) => {
        const buf = new Float32Array(B * H * cap * dk);
        for (let bh = 0; bh < B * H; bh++) {
          buf.set(old.subarray(bh * this.capacity * dk, (bh * this.capacity + this.length) * dk), bh * cap * dk);
        }
        return buf;
      };
      this.kBuf = grow(this.kBuf);
      this.vBuf = grow(this.vBuf);
      this.capacity = cap;
    }
    const cap = this.capacity;
    for (let bh = 0; bh < B * H; bh++) {
      const dst = (bh * cap + this.length) * dk;
      this.kBuf.set(k.data.subarray(bh * Tn * dk, (bh + 1) * Tn * dk), dst);
      this.vBuf.set(v.data.subarray(bh * Tn * dk, (bh + 1) * Tn * dk), dst);
    }
    this.length = need;
    const view = (buf: Float32Array) => {
      const out = new Float32Array(B * H * need * dk);
      for (let bh = 0; bh < B * H; bh++) out.set(buf.subarray(bh * cap * dk, (bh * cap + need) * dk), bh * need * dk);
      return new Tensor(out, [B, H, need, dk]);
    };
    return [view(this.kBuf), view(this.vBuf)];
  }
}

/** Cached keys/values of a fixed memory (the encoder output) for cross-attention. */
export interface MemoryCache {
  k?: Tensor;
  v?: Tensor;
}

/**
 * MultiHead(Q, K, V) = Concat(head₁ … head_H)·Wᴼ, headᵢ = Attention(Q·Wᵢᵠ, K·Wᵢᴷ, V·Wᵢⱽ)  (§3.2.2)
 * Self-attention when `kv` is omitted, cross-attention (queries from the
 * decoder, keys/values from the encoder) when it is given.
 */
export class MultiHeadAttention extends Module {
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  readonly dk: number;

  constructor(
    readonly dModel: number,
    readonly nHeads: number,
    readonly dropoutP: number,
    private readonly rng: Rng,
    outStd = 0.02,
  ) {
    super();
    if (dModel % nHeads !== 0) {
      throw new GeneraError("CONFIG_INVALID", `dModel ${dModel} must be divisible by nHeads ${nHeads}`, {
        details: { dModel, nHeads },
      });
    }
    this.dk = dModel / nHeads;
    this.q = new Linear(dModel, dModel, { rng });
    this.k = new Linear(dModel, dModel, { rng });
    this.v = new Linear(dModel, dModel, { rng });
    this.o = new Linear(dModel, dModel, { rng, std: outStd });
  }

  /** [B, T, D] → [B, H, T, dk] */
  private splitHeads(x: Tensor): Tensor {
    const [B, T] = x.shape;
    return x.reshape([B, T, this.nHeads, this.dk]).permute([0, 2, 1, 3]);
  }

  forward(
    x: Tensor,
    opts: { kv?: Tensor; mask?: Tensor | null; cache?: KVCache; memoryCache?: MemoryCache } = {},
  ): Tensor {
    const [B, T, D] = x.shape;
    const q = this.splitHeads(this.q.forward(x));
    let k: Tensor;
    let v: Tensor;
    if (opts.memoryCache?.k && opts.memoryCache.v) {
      k = opts.memoryCache.k;
      v = opts.memoryCache.v;
    } else {
      const src = opts.kv ?? x;
      k = this.splitHeads(this.k.forward(src));
      v = this.splitHeads(this.v.forward(src));
      if (opts.memoryCache) {
        opts.memoryCache.k = k;
        opts.memoryCache.v = v;
      }
    }
    if (opts.cache) [k, v] = opts.cache.append(k, v);
    const drop = this.dropoutP > 0 ? { p: this.dropoutP, training: this.training, rng: this.rng } : undefined;
    const heads = scaledDotProductAttention(q, k, v, opts.mask, drop);
    return this.o.forward(heads.permute([0, 2, 1, 3]).reshape([B, T, D]));
  }
}

/** FFN(x) = act(x·W₁ + b₁)·W₂ + b₂  (§3.3): ReLU in the paper, GELU in GPT. */
export class FeedForward extends Module {
  fc1: Linear;
  fc2: Linear;

  constructor(
    dModel: number,
    dFF: number,
    readonly activation: "relu" | "gelu",
    rng: Rng,
    outStd = 0.02,
  ) {
    super();
    this.fc1 = new Linear(dModel, dFF, { rng });
    this.fc2 = new Linear(dFF, dModel, { rng, std: outStd });
  }

  forward(x: Tensor): Tensor {
    const h = this.fc1.forward(x);
    return this.fc2.forward(this.activation === "gelu" ? h.gelu() : h.relu());
  }
}

/**
 * One GPT block, pre-LN (GPT-2): x + Attn(LN(x)), then + FFN(LN(x)).
 * Normalising before each sub-layer keeps the residual stream an identity
 * path, which trains stably without the paper's learning-rate warm-up.
 */
export class DecoderOnlyBlock extends Module {
  ln1: LayerNorm;
  attn: MultiHeadAttention;
  ln2: LayerNorm;
  mlp: FeedForward;

  constructor(
    dModel: number,
    nHeads: number,
    dFF: number,
    readonly dropoutP: number,
    private readonly rng: Rng,
    nLayers: number,
  ) {
    super();
    // GPT-2: residual projections scaled by 1/√(2·nLayers) so the stream's variance does not grow with depth.
    const outStd = 0.02 / Math.sqrt(2 * nLayers);
    this.ln1 = new LayerNorm(dModel);
    this.attn = new MultiHeadAttention(dModel, nHeads, dropoutP, rng, outStd);
    this.ln2 = new LayerNorm(dModel);
    this.mlp = new FeedForward(dModel, dFF, "gelu", rng, outStd);
  }

  forward(x: Tensor, mask: Tensor | null, cache?: KVCache): Tensor {
    const a = this.attn.forward(this.ln1.forward(x), { mask, cache });
    const h = x.add(dropout(a, this.dropoutP, this.training, this.rng));
    const m = this.mlp.forward(this.ln2.forward(h));
    return h.add(dropout(m, this.dropoutP, this.training, this.rng));
  }
}

/** Encoder layer as in the paper, post-LN: LN(x + Dropout(SelfAttn(x))), then LN(x + Dropout(FFN(x))). */
export class EncoderLayer extends Module {
  selfAttn: MultiHeadAttention;
  ln1: LayerNorm;
  ffn: FeedForward;
  ln2: LayerNorm;

  constructor(
    dModel: number,
    nHeads: number,
    dFF: number,
    readonly dropoutP: number,
    private readonly rng: Rng,
  ) {
    super();
    this.selfAttn = new MultiHeadAttention(dModel, nHeads, dropoutP, rng);
    this.ln1 = new LayerNorm(dModel);
    this.ffn = new FeedForward(dModel, dFF, "relu", rng);
    this.ln2 = new LayerNorm(dModel);
  }

  forward(x: Tensor, srcMask: Tensor | null): Tensor {
    const h = this.ln1.forward(
      x.add(dropout(this.selfAttn.forward(x, { mask: srcMask }), this.dropoutP, this.training, this.rng)),
    );
    return this.ln2.forward(h.add(dropout(this.ffn.forward(h), this.dropoutP, this.training, this.rng)));
  }
}

/** Decoder layer as in the paper, post-LN: masked self-attention, cross-attention over the encoder output, FFN. */
export class DecoderLayer extends Module {
  selfAttn: MultiHeadAttention;
  ln1: LayerNorm;
  crossAttn: MultiHeadAttention;
  ln2: LayerNorm;
  ffn: FeedForward;
  ln3: LayerNorm;

  constructor(
    dModel: number,
    nHeads: number,
    dFF: number,
    readonly dropoutP: number,
    private readonly rng: Rng,
  ) {
    super();
    this.selfAttn = new MultiHeadAttention(dModel, nHeads, dropoutP, rng);
    this.ln1 = new LayerNorm(dModel);
    this.crossAttn = new MultiHeadAttention(dModel, nHeads, dropoutP, rng);
    this.ln2 = new LayerNorm(dModel);
    this.ffn = new FeedForward(dModel, dFF, "relu", rng);
    this.ln3 = new LayerNorm(dModel);
  }

  forward(
    x: Tensor,
    memory: Tensor | null,
    tgtMask: Tensor | null,
    srcMask: Tensor | null,
    cache?: { self: KVCache; memory: MemoryCache },
  ): Tensor {
    const drop = (t: Tensor) => dropout(t, this.dropoutP, this.training, this.rng);
    const h1 = this.ln1.forward(x.add(drop(this.selfAttn.forward(x, { mask: tgtMask, cache: cache?.self }))));
    const c = this.crossAttn.forward(h1, { kv: memory ?? undefined, mask: srcMask, memoryCache: cache?.memory });
    const h2 = this.ln2.forward(h1.add(drop(c)));
    return this.ln3.forward(h2.add(drop(this.ffn.forward(h2))));
  }
}

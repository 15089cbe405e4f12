import { GeneraError } from "../../errors.js";
import { dropout, matmul, Tensor } from "../ops/index.js";
import type { Rng } from "../random.js";
import { Linear } from "./core.js";
import { Module } from "./Module.js";

/**
 * The building blocks of "Attention Is All You Need" (Vaswani et al., 2017),
 * one small class per layer. Shapes in comments: B batch, T query length,
 * S key length, D model width, H heads, dk = D/H.
 */

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

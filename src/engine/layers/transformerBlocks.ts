import { dropout, type Tensor } from "../ops/index.js";
import type { Rng } from "../random.js";
import { type KVCache, type MemoryCache, MultiHeadAttention } from "./attention.js";
import { LayerNorm, Linear } from "./core.js";
import { Module } from "./Module.js";

/**
 * The building blocks of "Attention Is All You Need" (Vaswani et al., 2017),
 * one small class per layer. Shapes in comments: B batch, T query length,
 * S key length, D model width, H heads, dk = D/H.
 */

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

/** What a decoder layer reads. */
export interface DecoderLayerInput {
  /** Target-side states [B, T, D]. */
  x: Tensor;
  /** The encoder's output [B, S, D]; null when every layer's memory keys and values are cached. */
  memory: Tensor | null;
  /** Causal mask over the target (null when decoding one token at a time with a cache). */
  tgtMask?: Tensor | null;
  /** Padding mask over the source. */
  srcMask?: Tensor | null;
  /** Incremental decoding: the self-attention keys/values so far and the projected memory. */
  cache?: { self: KVCache; memory: MemoryCache };
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

  forward(input: DecoderLayerInput): Tensor {
    const { x, memory, tgtMask = null, srcMask = null, cache } = input;
    const drop = (t: Tensor) => dropout(t, this.dropoutP, this.training, this.rng);
    const h1 = this.ln1.forward(x.add(drop(this.selfAttn.forward(x, { mask: tgtMask, cache: cache?.self }))));
    const c = this.crossAttn.forward(h1, { kv: memory ?? undefined, mask: srcMask, memoryCache: cache?.memory });
    const h2 = this.ln2.forward(h1.add(drop(c)));
    return this.ln3.forward(h2.add(drop(this.ffn.forward(h2))));
  }
}

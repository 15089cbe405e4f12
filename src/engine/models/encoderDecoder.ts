import { GeneraError } from "../../errors.js";
import {
  causalMask,
  DecoderLayer,
  Embedding,
  EncoderLayer,
  KVCache,
  Linear,
  type MemoryCache,
  PositionalEncoding,
  paddingMask,
} from "../layers/index.js";
import { Module } from "../layers/Module.js";
import { crossEntropy, dropout, matmul, noGrad, type Tensor } from "../ops/index.js";
import { SeededRng } from "../random.js";

export interface EncoderDecoderConfig {
  srcVocabSize: number;
  tgtVocabSize: number;
  /** Longest source or target sequence. */
  maxLen: number;
  dModel: number;
  nHeads: number;
  nEncoderLayers: number;
  nDecoderLayers: number;
  dFF: number;
  dropout: number;
  positional: "learned" | "sinusoidal";
  /**
   * Share the target embedding with the pre-softmax projection (§3.4); when the
   * two vocabularies have the same size the source embedding is shared too, as
   * in the paper's joint BPE vocabulary.
   */
  tieWeights?: boolean;
}

/** What EncoderDecoder.forward reads: B source and B target sequences, row-major. */
export interface EncoderDecoderBatch {
  /** Source ids [B, S]. */
  src: Int32Array;
  /** The source padding id that attention must skip (none when undefined). */
  srcPadId?: number;
  /** Target input [B, T]: the target shifted right, starting with BOS. */
  tgtIn: Int32Array;
  batchSize: number;
  srcLen: number;
  tgtLen: number;
  /** Target output [B, T] for the loss. */
  targets?: Int32Array;
  /** Targets left out of the loss (default: srcPadId, else −100). */
  ignoreIndex?: number;
}

/** The paper's base model (Table 3): d_model 512, 8 heads, d_ff 2048, 6+6 layers, P_drop 0.1, sinusoidal positions. */
export const PAPER_BASE: Omit<EncoderDecoderConfig, "srcVocabSize" | "tgtVocabSize"> = {
  maxLen: 512,
  dModel: 512,
  nHeads: 8,
  nEncoderLayers: 6,
  nDecoderLayers: 6,
  dFF: 2048,
  dropout: 0.1,
  positional: "sinusoidal",
  tieWeights: true,
};

/** A small configuration that trains in seconds (copy/reverse tasks, tests). */
export const ENCODER_DECODER_TINY: Omit<EncoderDecoderConfig, "srcVocabSize" | "tgtVocabSize"> = {
  maxLen: 64,
  dModel: 64,
  nHeads: 4,
  nEncoderLayers: 2,
  nDecoderLayers: 2,
  dFF: 128,
  dropout: 0,
  positional: "sinusoidal",
  tieWeights: true,
};

function validate(c: EncoderDecoderConfig): void {
  for (const k of [
    "srcVocabSize",
    "tgtVocabSize",
    "maxLen",
    "dModel",
    "nHeads",
    "nEncoderLayers",
    "nDecoderLayers",
    "dFF",
  ] as const) {
    const v = c[k];
    if (!(Number.isInteger(v) && v > 0)) {
      throw new GeneraError(
        "CONFIG_INVALID",
        `encoder-decoder config ${k} must be a positive integer, got ${String(v)}`,
      );
    }
  }
  if (c.dModel % c.nHeads !== 0)
    throw new GeneraError("CONFIG_INVALID", `dModel ${c.dModel} must be divisible by nHeads ${c.nHeads}`);
  if (!(c.dropout >= 0 && c.dropout < 1))
    throw new GeneraError("CONFIG_INVALID", `dropout must be in [0, 1), got ${c.dropout}`);
}

/**
 * The encoder-decoder transformer of "Attention Is All You Need": an encoder
 * of self-attention layers over the source, a decoder of masked
 * self-attention + cross-attention layers, post-LN residual blocks, embeddings
 * scaled by √d_model (§3.4) plus positional encodings.
 */
export class EncoderDecoder extends Module {
  readonly config: EncoderDecoderConfig;
  srcEmb: Embedding;
  tgtEmb: Embedding;
  srcPos: PositionalEncoding;
  tgtPos: PositionalEncoding;
  encoder: EncoderLayer[];
  decoder: DecoderLayer[];
  head: Linear | null;
  /** Initialisation and dropout draw from it; checkpoints save its state so a resume is exact. */
  readonly rng: SeededRng;
  private readonly dropRng: () => number;
  private readonly embScale: number;

  constructor(config: EncoderDecoderConfig, seed = 1337) {
    super();
    validate(config);
    this.config = { ...config };
    this.rng = new SeededRng(seed);
    const rng = () => this.rng.next();
    this.dropRng = rng;
    const { dModel, nHeads, dFF, dropout: p, maxLen } = config;
    // Embeddings are multiplied by √d_model, so they start at std d^-½ to enter the residual stream at unit scale.
    const std = dModel ** -0.5;
    this.tgtEmb = new Embedding(config.tgtVocabSize, dModel, { rng, std });
    this.srcEmb =
      config.tieWeights && config.srcVocabSize === config.tgtVocabSize
        ? this.tgtEmb
        : new Embedding(config.srcVocabSize, dModel, { rng, std });
    this.srcPos = new PositionalEncoding(config.positional, maxLen, dModel, rng);
    this.tgtPos =
      config.positional === "sinusoidal" ? this.srcPos : new PositionalEncoding(config.positional, maxLen, dModel, rng);
    this.encoder = Array.from({ length: config.nEncoderLayers }, () => new EncoderLayer(dModel, nHeads, dFF, p, rng));
    this.decoder = Array.from({ length: config.nDecoderLayers }, () => new DecoderLayer(dModel, nHeads, dFF, p, rng));
    this.head = config.tieWeights ? null : new Linear(dModel, config.tgtVocabSize, { bias: false, rng, std });
    this.embScale = Math.sqrt(dModel);
  }

  private embed(emb: Embedding, pos: PositionalEncoding, ids: Int32Array, B: number, T: number, start = 0): Tensor {
    const x = emb.forward(ids, [B, T]).mul(this.embScale).add(pos.forward(start, T));
    return dropout(x, this.config.dropout, this.training, this.dropRng);
  }

  /** Encoder output [B, S, D]. `srcPadId` marks source padding that attention must skip. */
  encode(src: Int32Array, B: number, S: number, srcPadId?: number): { memory: Tensor; srcMask: Tensor | null } {
    checkIds("source", src, B, S, this.config.srcVocabSize);
    const srcMask = srcPadId === undefined ? null : paddingMask(src, B, S, srcPadId);
    let x = this.embed(this.srcEmb, this.srcPos, src, B, S);
    for (const layer of this.encoder) x = layer.forward(x, srcMask);
    return { memory: x, srcMask };
  }

  private logits(h: Tensor): Tensor {
    return this.head ? this.head.forward(h) : matmul(h, this.tgtEmb.weight, { transB: true });
  }

  /**
   * Teacher-forced forward pass: logits [B, T, V] for the target given the source,
   * and with `targets` the mean cross-entropy.
   */
  forward(batch: EncoderDecoderBatch): { logits: Tensor; loss?: Tensor } {
    const { src, srcPadId, tgtIn, batchSize: B, srcLen: S, tgtLen: T, targets } = batch;
    const { memory, srcMask } = this.encode(src, B, S, srcPadId);
    checkIds("target", tgtIn, B, T, this.config.tgtVocabSize);
    let y = this.embed(this.tgtEmb, this.tgtPos, tgtIn, B, T);
    const tgtMask = causalMask(T);
    for (const layer of this.decoder) y = layer.forward({ x: y, memory, tgtMask, srcMask });
    const logits = this.logits(y);
    if (!targets) return { logits };
    if (targets.length !== B * T)
      throw new GeneraError("INVALID_INPUT", `targets have ${targets.length} ids, expected ${B * T}`);
    return { logits, loss: crossEntropy(logits, targets, batch.ignoreIndex ?? srcPadId ?? -100) };
  }

  /**
   * Greedy decoding of one source sentence: starts from `bos`, appends the
   * most likely token until `eos` or `maxLen` new tokens. The encoder runs
   * once; the decoder reuses cached self-attention keys/values and the
   * cross-attention projections of the encoder output. Returns the new
   * tokens without bos/eos.
   */
  greedyDecode(src: number[], bos: number, eos: number, maxLen: number): number[] {
    if (src.length === 0) throw new GeneraError("INVALID_INPUT", "greedyDecode needs a non-empty source");
    const limit = Math.min(maxLen, this.config.maxLen - 1);
    const wasTraining = this.training;
    this.eval();
    try {
      return noGrad(() => {
        const { memory } = this.encode(Int32Array.from(src), 1, src.length);
        const { nHeads, dModel } = this.config;
        const caches = this.decoder.map(() => ({
          self: new KVCache(1, nHeads, dModel / nHeads),
          memory: {} as MemoryCache,
        }));
        const out: number[] = [];
        let prev = bos;
        for (let t = 0; t < limit; t++) {
          let y = this.embed(this.tgtEmb, this.tgtPos, Int32Array.of(prev), 1, 1, t);
          this.decoder.forEach((layer, i) => {
            y = layer.forward({ x: y, memory, cache: caches[i] });
          });
          const logits = this.logits(y).data;
          let best = 0;
          for (let j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
          if (best === eos) break;
          out.push(best);
          prev = best;
        }
        return out;
      });
    } finally {
      this.train(wasTraining);
    }
  }
}

function checkIds(what: string, ids: Int32Array, B: number, T: number, V: number): void {
  if (!(Number.isInteger(B) && Number.isInteger(T) && B > 0 && T > 0) || ids.length !== B * T) {
    throw new GeneraError("INVALID_INPUT", `${what} has ${ids.length} token ids, expected ${B}·${T}`, {
      details: { B, T },
    });
  }
  for (let i = 0; i < ids.length; i++) {
    if (!(ids[i] >= 0 && ids[i] < V)) {
      throw new GeneraError("INVALID_INPUT", `${what} token ${ids[i]} at ${i} is outside the vocabulary of ${V}`);
    }
  }
}

import { GeneraError } from "../../errors.js";
import {
  causalMask,
  DecoderOnlyBlock,
  Embedding,
  KVCache,
  LayerNorm,
  Linear,
  PositionalEncoding,
} from "../layers/index.js";
import { Module } from "../layers/Module.js";
import { crossEntropy, dropout, matmul, type Tensor } from "../ops/index.js";
import { SeededRng } from "../random.js";
import { generateTokens } from "./generateStream.js";
import { type SampleOptions } from "./sampling.js";

export interface GPTConfig {
  vocabSize: number;
  /** Longest context the model sees (positions 0 … blockSize−1). */
  blockSize: number;
  dModel: number;
  nHeads: number;
  nLayers: number;
  /** Width of the position-wise feed-forward layer (4·dModel in GPT-2). */
  dFF: number;
  dropout: number;
  positional: "learned" | "sinusoidal";
  /** Share the token embedding with the output projection (Press & Wolf 2017; the paper §3.4). */
  tieWeights: boolean;
}

/** What GPT.forward reads. */
export interface GPTBatch {
  /** B sequences of T token ids, row-major. */
  ids: Int32Array;
  batchSize: number;
  seqLen: number;
  /** Next-token targets in the same layout; −100 = ignore. */
  targets?: Int32Array;
  /** Per-block key/value caches: the call is an incremental step from position `past`. */
  caches?: KVCache[];
  past?: number;
}

export const GPT_PRESETS: Record<string, Omit<GPTConfig, "vocabSize">> = {
  /** Seconds to train on a laptop core; for tests and demos. */
  tiny: {
    blockSize: 64,
    dModel: 64,
    nHeads: 4,
    nLayers: 2,
    dFF: 256,
    dropout: 0,
    positional: "learned",
    tieWeights: true,
  },
  /** The default for `genera train`: a character/BPE model of a small corpus in minutes. */
  small: {
    blockSize: 128,
    dModel: 128,
    nHeads: 4,
    nLayers: 4,
    dFF: 512,
    dropout: 0.1,
    positional: "learned",
    tieWeights: true,
  },
  base: {
    blockSize: 256,
    dModel: 256,
    nHeads: 8,
    nLayers: 6,
    dFF: 1024,
    dropout: 0.1,
    positional: "learned",
    tieWeights: true,
  },
  /** The paper's base sizes (d_model 512, 8 heads, d_ff 2048, 6 layers) as a decoder-only model; slow on a CPU. */
  paper: {
    blockSize: 512,
    dModel: 512,
    nHeads: 8,
    nLayers: 6,
    dFF: 2048,
    dropout: 0.1,
    positional: "sinusoidal",
    tieWeights: true,
  },
  /** GPT-2 small's shape (124M parameters with its 50257-token vocabulary). */
  gpt2: {
    blockSize: 1024,
    dModel: 768,
    nHeads: 12,
    nLayers: 12,
    dFF: 3072,
    dropout: 0.1,
    positional: "learned",
    tieWeights: true,
  },
};

export function validateGPTConfig(c: GPTConfig): void {
  const ints: Array<keyof GPTConfig> = ["vocabSize", "blockSize", "dModel", "nHeads", "nLayers", "dFF"];
  for (const k of ints) {
    const v = c[k];
    if (!(typeof v === "number" && Number.isInteger(v) && v > 0)) {
      throw new GeneraError("CONFIG_INVALID", `GPT config ${k} must be a positive integer, got ${String(v)}`, {
        details: { [k]: v },
      });
    }
  }
  if (c.dModel % c.nHeads !== 0) {
    throw new GeneraError("CONFIG_INVALID", `GPT config dModel ${c.dModel} must be divisible by nHeads ${c.nHeads}`);
  }
  if (!(c.dropout >= 0 && c.dropout < 1))
    throw new GeneraError("CONFIG_INVALID", `GPT config dropout must be in [0, 1), got ${c.dropout}`);
  if (c.positional !== "learned" && c.positional !== "sinusoidal") {
    throw new GeneraError(
      "CONFIG_INVALID",
      `GPT config positional must be "learned" or "sinusoidal", got ${String(c.positional)}`,
    );
  }
}

/**
 * A decoder-only transformer (GPT-2 layout): token + position embeddings,
 * nLayers pre-LN blocks of causal self-attention and GELU feed-forward, a
 * final layer norm and a linear head over the vocabulary (tied to the token
 * embedding when config.tieWeights).
 */
export class GPT extends Module {
  readonly config: GPTConfig;
  tokEmb: Embedding;
  posEmb: PositionalEncoding;
  blocks: DecoderOnlyBlock[];
  lnF: LayerNorm;
  head: Linear | null;
  /** Initialisation and dropout draw from it; checkpoints save its state so a resume is exact. */
  readonly rng: SeededRng;
  private readonly dropRng: () => number;

  constructor(config: GPTConfig, seed = 1337) {
    super();
    validateGPTConfig(config);
    this.config = { ...config };
    this.rng = new SeededRng(seed);
    const rng = () => this.rng.next();
    this.dropRng = rng;
    const { vocabSize, blockSize, dModel, nHeads, nLayers, dFF, dropout: p } = config;
    this.tokEmb = new Embedding(vocabSize, dModel, { rng });
    this.posEmb = new PositionalEncoding(config.positional, blockSize, dModel, rng);
    this.blocks = Array.from({ length: nLayers }, () => new DecoderOnlyBlock(dModel, nHeads, dFF, p, rng, nLayers));
    this.lnF = new LayerNorm(dModel);
    this.head = config.tieWeights ? null : new Linear(dModel, vocabSize, { bias: false, rng });
  }

  private checkIds(idx: Int32Array, B: number, T: number): void {
    if (!(Number.isInteger(B) && Number.isInteger(T) && B > 0 && T > 0) || idx.length !== B * T) {
      throw new GeneraError("INVALID_INPUT", `GPT input has ${idx.length} token ids, expected B·T = ${B}·${T}`, {
        details: { length: idx.length, B, T },
      });
    }
  }

  /** Hidden states → logits [B, T, V]. */
  private project(h: Tensor): Tensor {
    const x = this.lnF.forward(h);
    return this.head ? this.head.forward(x) : matmul(x, this.tokEmb.weight, { transB: true });
  }

  /**
   * Logits [B, T, V] for B sequences of T token ids; with targets also the mean
   * next-token cross-entropy. With `caches` (one per block) this is an incremental
   * step starting at position `past`.
   */
  forward(batch: GPTBatch): { logits: Tensor; loss?: Tensor } {
    const { ids, batchSize: B, seqLen: T, targets, caches, past = 0 } = batch;
    this.checkIds(ids, B, T);
    const tok = this.tokEmb.forward(ids, [B, T]);
    let x = dropout(tok.add(this.posEmb.forward(past, T)), this.config.dropout, this.training, this.dropRng);
    // One new token attends to every cached key, so it needs no mask.
    const mask = T > 1 ? causalMask(T, past) : null;
    this.blocks.forEach((block, i) => {
      x = block.forward(x, mask, caches?.[i]);
    });
    const logits = this.project(x);
    if (!targets) return { logits };
    if (targets.length !== B * T) {
      throw new GeneraError("INVALID_INPUT", `GPT targets have ${targets.length} ids, expected ${B * T}`);
    }
    return { logits, loss: crossEntropy(logits, targets) };
  }

  /** A fresh set of per-layer key/value caches for batch size B. */
  newCaches(B = 1): KVCache[] {
    const { nHeads, dModel } = this.config;
    return this.blocks.map(() => new KVCache(B, nHeads, dModel / nHeads));
  }

  /**
   * Continues `prompt` and returns only the new token ids (a stop token ends
   * generation and is not returned). `onToken` sees each new id as it is
   * chosen; returning false stops after that token. With the KV cache (the
   * default) each step runs one position through the model; once the
   * sequence outgrows blockSize the model slides its window over the last
   * blockSize tokens and recomputes, exactly as without the cache.
   */
  generate(prompt: number[], options: SampleOptions & { onToken?: (id: number) => boolean | undefined }): number[] {
    const out: number[] = [];
    for (const next of generateTokens(this, prompt, options)) {
      out.push(next);
      if (options.onToken?.(next) === false) break;
    }
    return out;
  }
}

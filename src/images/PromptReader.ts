import {
  AdamW,
  concat,
  crossEntropy,
  Linear,
  Module,
  maskedFill,
  noGrad,
  type Rng,
  SeededRng,
  softmax,
  Tensor,
} from "../engine/index.js";
import { type CaptionAugmentation, captionWords } from "./captions.js";
import { PROMPT_DIMENSION, type PromptBatch, type WordVectors } from "./promptEncoder.js";

/**
 * Reads which digit a prompt asks for, from its words' USE-lite vectors (promptEncoder):
 *
 *   a_i = tanh(W_in v_i)                                   each word alone
 *   h_i = a_i + tanh(W_ctx [a_{i−1}; a_i; a_{i+1}])          with its neighbours
 *   α = softmax_i(w · h_i),  p = Σ_i α_i a_i                 attention pooling
 *   logits = W_out p                                       ten digits
 *
 * Attention pooling (as in Lin et al. 2017, "A Structured Self-Attentive Sentence
 * Embedding", with one head) lets the reader put its weight on the word that names the
 * digit wherever it stands, so words it never saw in training dilute nothing; the
 * neighbours tell "one" the digit ("a sloppy one") from "one" the article ("one sloppy
 * seven").
 */

export interface PromptReaderConfig {
  /** Width of the word features. */
  hidden: number;
}

export class PromptReader extends Module {
  readonly config: PromptReaderConfig;
  wordIn: Linear;
  context: Linear;
  score: Linear;
  out: Linear;

  constructor(config: PromptReaderConfig, rng: Rng) {
    super();
    this.config = { ...config };
    const h = config.hidden;
    // Unit-length word vectors: std 1 weights give features of order one.
    this.wordIn = new Linear(PROMPT_DIMENSION, h, { rng, std: 1 });
    this.context = new Linear(3 * h, h, { rng, std: Math.sqrt(1 / (3 * h)) });
    this.score = new Linear(h, 1, { rng, std: Math.sqrt(1 / h) });
    this.out = new Linear(h, 10, { rng, std: Math.sqrt(1 / h) });
  }

  /** Digit logits [N, 10] for N prompts (each must have at least one word). */
  forward(batch: { prompts: PromptBatch }): Tensor {
    return this.read(batch.prompts).logits;
  }

  /** The logits and the attention [N, L] over each prompt's words (padded to the longest). */
  read(prompts: PromptBatch): { logits: Tensor; attention: Tensor } {
    const { vectors, lengths } = prompts;
    const N = lengths.length;
    const L = Math.max(1, ...lengths);
    const h = this.config.hidden;
    const d = PROMPT_DIMENSION;
    // Pad to [N, L]; `pad` marks the empty slots.
    const padded = new Float32Array(N * L * d);
    const pad = new Float32Array(N * L).fill(1);
    let row = 0;
    for (let i = 0; i < N; i++) {
      if (lengths[i] < 1) throw new Error("PromptReader: every prompt needs a word");
      for (let j = 0; j < lengths[i]; j++, row++) {
        padded.set(vectors.subarray(row * d, (row + 1) * d), (i * L + j) * d);
        pad[i * L + j] = 0;
      }
    }
    const keep = new Tensor(
      pad.map((p) => 1 - p),
      [N, L, 1],
    );
    const a = this.wordIn
      .forward(new Tensor(padded, [N * L, d]))
      .tanh()
      .reshape([N, L, h])
      .mul(keep);
    const zero = Tensor.zeros([N, 1, h]);
    const left = L > 1 ? concat([zero, a.slice(1, 0, L - 1)], 1) : zero;
    const right = L > 1 ? concat([a.slice(1, 1, L), zero], 1) : zero;
    const mixed = this.context.forward(concat([left, a, right], 2).reshape([N * L, 3 * h])).tanh();
    const features = a.add(mixed.reshape([N, L, h]));
    const scores = maskedFill(
      this.score.forward(features.reshape([N * L, h])).reshape([N, L]),
      new Tensor(pad, [N, L]),
      -1e9,
    );
    const alpha = softmax(scores, -1).reshape([N, L, 1]);
    // The value is the word alone: to read a digit the reader must look at the word that names it.
    const pooled = a.mul(alpha).sum(1);
    return { logits: this.out.forward(pooled), attention: alpha.reshape([N, L]) };
  }

  /** P(digit) [N, 10] without gradients. */
  probabilities(prompts: PromptBatch): Float32Array {
    return noGrad(() => softmax(this.forward({ prompts }), -1)).data;
  }
}

export interface ReaderTrainingOptions {
  templates: readonly string[];
  /** Vectors of every word the templates and the augmentation can produce. */
  words: WordVectors;
  augmentation: CaptionAugmentation;
  steps: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Called every 100 steps with the mean training loss since the last call. */
  onProgress?: (step: number, loss: number) => void;
}

/**
 * Fits a reader on captions drawn fresh every step (a random template, digit and
 * augmentation each), with AdamW and a cosine-decayed learning rate.
 */
export function trainPromptReader(reader: PromptReader, options: ReaderTrainingOptions): void {
  const rng = new SeededRng(options.seed ?? 1);
  const next = () => rng.next();
  const batchSize = options.batchSize ?? 128;
  const lr = options.lr ?? 3e-3;
  const optimizer = new AdamW(reader.namedParameters(), { lr, weightDecay: 0.01 });
  let total = 0;
  for (let step = 1; step <= options.steps; step++) {
    const digits = Int32Array.from({ length: batchSize }, () => rng.int(10));
    const prompts = Array.from(digits, (digit) =>
      captionWords(options.templates[rng.int(options.templates.length)], digit, next, options.augmentation),
    );
    const loss = crossEntropy(reader.forward({ prompts: options.words.batch(prompts) }), digits);
    optimizer.lr = 0.5 * lr * (1 + Math.cos((Math.PI * (step - 1)) / options.steps));
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    total += loss.item();
    if (step % 100 === 0) {
      options.onProgress?.(step, total / 100);
      total = 0;
    }
  }
  reader.eval();
}

import { GeneraError } from "../../errors.js";
import { SeededRng } from "../random.js";

/**
 * Training data for a language model: one long token stream, cut into a training
 * part and a validation tail, from which (input, next-token target) windows are drawn.
 */

export interface TrainValSplit {
  train: Int32Array;
  val: Int32Array;
}

/**
 * The validation set is the last `valFraction` of the stream, not a random sample:
 * random windows would overlap the training windows and flatter the model.
 */
export function splitTokens(tokens: ArrayLike<number>, valFraction: number, blockSize: number): TrainValSplit {
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new GeneraError("INVALID_INPUT", `validation fraction must be between 0 and 1, got ${valFraction}`);
  }
  const all = Int32Array.from(tokens);
  const nVal = Math.floor(all.length * valFraction);
  const nTrain = all.length - nVal;
  // Each side needs at least one full window plus its shifted target.
  if (nVal < blockSize + 1 || nTrain < blockSize + 1) {
    throw new GeneraError(
      "INVALID_INPUT",
      `corpus too small: ${all.length} tokens cannot give train and validation windows of ${blockSize + 1} tokens ` +
        `(validation fraction ${valFraction}); use more text or a smaller block size`,
      { details: { tokens: all.length, blockSize, valFraction } },
    );
  }
  return { train: all.subarray(0, nTrain), val: all.subarray(nTrain) };
}

export interface Batch {
  /** Inputs, B×T row-major. */
  x: Int32Array;
  /** Targets: x shifted by one token. */
  y: Int32Array;
  batchSize: number;
  blockSize: number;
}

function windowsAt(tokens: Int32Array, starts: number[], blockSize: number): Batch {
  const B = starts.length;
  const x = new Int32Array(B * blockSize);
  const y = new Int32Array(B * blockSize);
  starts.forEach((s, b) => {
    x.set(tokens.subarray(s, s + blockSize), b * blockSize);
    y.set(tokens.subarray(s + 1, s + blockSize + 1), b * blockSize);
  });
  return { x, y, batchSize: B, blockSize };
}

/** Random windows from a token stream, reproducible from its seed / exported state. */
export class BatchSampler {
  readonly rng: SeededRng;

  constructor(
    readonly tokens: Int32Array,
    readonly blockSize: number,
    readonly batchSize: number,
    seed = 1337,
  ) {
    if (tokens.length < blockSize + 1) {
      throw new GeneraError("INVALID_INPUT", `${tokens.length} tokens are too few for windows of ${blockSize + 1}`);
    }
    this.rng = new SeededRng(seed);
  }

  next(): Batch {
    const span = this.tokens.length - this.blockSize;
    const starts: number[] = [];
    for (let b = 0; b < this.batchSize; b++) starts.push(this.rng.int(span));
    return windowsAt(this.tokens, starts, this.blockSize);
  }
}

/**
 * Fixed, evenly spaced validation windows: every evaluation sees the same text, so
 * successive validation losses are comparable and the curve is not sampling noise.
 */
export function evaluationBatches(
  tokens: Int32Array,
  blockSize: number,
  batchSize: number,
  numBatches: number,
): Batch[] {
  const span = tokens.length - blockSize;
  const total = Math.max(1, Math.min(batchSize * numBatches, span));
  const starts = Array.from({ length: total }, (_, i) => Math.floor((i * span) / total));
  const out: Batch[] = [];
  for (let i = 0; i < starts.length; i += batchSize)
    out.push(windowsAt(tokens, starts.slice(i, i + batchSize), blockSize));
  return out;
}

/**
 * Cross-entropy (nats/token) of the best context-free model: predicting each token
 * with its frequency. Counts come from the training split (the model cannot know
 * the validation counts) and the loss is measured on the validation split, with
 * add-one smoothing so unseen tokens do not give an infinite loss. A model below
 * this number has learnt something from context.
 */
export function unigramBaseline(train: ArrayLike<number>, val: ArrayLike<number>, vocabSize: number): number {
  const counts = new Float64Array(vocabSize).fill(1);
  for (let i = 0; i < train.length; i++) counts[train[i]]++;
  const total = train.length + vocabSize;
  let nll = 0;
  for (let i = 0; i < val.length; i++) nll -= Math.log(counts[val[i]] / total);
  return nll / Math.max(1, val.length);
}

/**
 * Entropy (nats) of the token distribution of a split: the loss of a context-free
 * predictor that knew that split's exact frequencies, so no unigram model can beat it.
 */
export function unigramEntropy(tokens: ArrayLike<number>, vocabSize: number): number {
  const counts = new Float64Array(vocabSize);
  for (let i = 0; i < tokens.length; i++) counts[tokens[i]]++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / tokens.length) * Math.log(c / tokens.length);
  return h;
}

import { SeededRng, Tensor } from "../engine/index.js";
import type { MnistSet } from "./mnist.js";

/** A batch of digits as the image models read it. */
export interface DigitBatch {
  /** [N, 1, 28, 28], pixels in 0..1. */
  images: Tensor;
  labels: Int32Array;
}

/** The digits at `indices` of a set, as a batch. */
export function digitBatch(set: MnistSet, indices: ArrayLike<number>): DigitBatch {
  const size = set.rows * set.cols;
  const n = indices.length;
  const data = new Float32Array(n * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = indices[i];
    data.set(set.images.subarray(k * size, (k + 1) * size), i * size);
    labels[i] = set.labels[k];
  }
  return { images: new Tensor(data, [n, 1, set.rows, set.cols]), labels };
}

/**
 * Shuffled mini-batches, epoch after epoch (a fresh Fisher–Yates permutation each
 * epoch). Its generator is a SeededRng, so a checkpoint can save where it stands.
 */
export class MnistBatches {
  readonly rng: SeededRng;
  private order: Int32Array;
  private pos: number;

  constructor(
    readonly set: MnistSet,
    readonly batchSize: number,
    seed = 1,
  ) {
    this.rng = new SeededRng(seed);
    this.order = new Int32Array(set.count);
    this.pos = set.count; // shuffle on first use
  }

  next(): DigitBatch {
    if (this.pos + this.batchSize > this.set.count) this.shuffle();
    const indices = this.order.subarray(this.pos, this.pos + this.batchSize);
    this.pos += this.batchSize;
    return digitBatch(this.set, indices);
  }

  /** Batches per pass over the set. */
  get batchesPerEpoch(): number {
    return Math.floor(this.set.count / this.batchSize);
  }

  private shuffle(): void {
    for (let i = 0; i < this.order.length; i++) this.order[i] = i;
    for (let i = this.order.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
    }
    this.pos = 0;
  }
}

/** The whole set in fixed batches (evaluation). */
export function* evaluationBatches(set: MnistSet, batchSize: number, limit = set.count): Generator<DigitBatch> {
  for (let start = 0; start < limit; start += batchSize) {
    const end = Math.min(limit, start + batchSize);
    yield digitBatch(
      set,
      Array.from({ length: end - start }, (_, i) => start + i),
    );
  }
}

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
  /** The generator's state when the current order was drawn (null before the first shuffle). */
  private shuffledFrom: number | null = null;

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

  /**
   * Where the batch order stands, for a checkpoint: the order itself is not saved, only
   * the generator state it was drawn from, so restoring redraws the same permutation.
   */
  get position(): { shuffled_from: number | null; pos: number } {
    return { shuffled_from: this.shuffledFrom, pos: this.pos };
  }

  set position(position: { shuffled_from: number | null; pos: number }) {
    if (position.shuffled_from === null) {
      this.pos = this.set.count;
      return;
    }
    // Redrawing the order advances the generator exactly as the first draw did.
    this.rng.state = position.shuffled_from;
    this.shuffle();
    this.pos = position.pos;
  }

  private shuffle(): void {
    this.shuffledFrom = this.rng.state;
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

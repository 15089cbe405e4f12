import { GeneraError } from "../../errors.js";
import { embedding, Tensor } from "../ops/index.js";
import type { Rng } from "../random.js";
import { Module } from "./Module.js";

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

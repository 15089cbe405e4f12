import { embedding, layerNorm, matmul, Tensor } from "../ops/index.js";
import type { Rng } from "../random.js";
import { Module } from "./Module.js";

/** The layers every model uses: linear maps, embedding tables, layer normalisation. */

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

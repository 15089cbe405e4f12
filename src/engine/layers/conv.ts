import { type Conv2dOptions, conv2d, convTranspose2d, groupNorm, Tensor } from "../ops/index.js";
import type { Rng } from "../random.js";
import { Module } from "./Module.js";

/** Layers for images (NCHW): convolutions and group normalisation. */

interface ConvInit extends Conv2dOptions {
  rng: Rng;
  bias?: boolean;
  /** Weight std (default He et al. 2015: √(2 / fan-in), right for ReLU-family activations). */
  std?: number;
}

/** y = x ⋆ W + b with W [out, in, k, k], as torch.nn.Conv2d. */
export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: ConvInit) {
    super();
    const fanIn = inChannels * kernelSize * kernelSize;
    const std = opts.std ?? Math.sqrt(2 / fanIn);
    this.weight = Tensor.randn([outChannels, inChannels, kernelSize, kernelSize], std, opts.rng, true);
    this.bias = opts.bias === false ? null : Tensor.zeros([outChannels], true);
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

/** The transposed convolution with W [in, out, k, k], as torch.nn.ConvTranspose2d: stride s upsamples by s. */
export class ConvTranspose2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: ConvInit) {
    super();
    // Each output pixel sums about inChannels·(k/s)² products.
    const stride = opts.stride ?? 1;
    const fanIn = (inChannels * kernelSize * kernelSize) / (stride * stride);
    const std = opts.std ?? Math.sqrt(2 / fanIn);
    this.weight = Tensor.randn([inChannels, outChannels, kernelSize, kernelSize], std, opts.rng, true);
    this.bias = opts.bias === false ? null : Tensor.zeros([outChannels], true);
    this.stride = stride;
    this.padding = opts.padding ?? 0;
  }

  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

export class GroupNorm extends Module {
  weight: Tensor;
  bias: Tensor;

  constructor(
    readonly groups: number,
    channels: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = Tensor.ones([channels], true);
    this.bias = Tensor.zeros([channels], true);
  }

  forward(x: Tensor): Tensor {
    return groupNorm(x, this.groups, this.weight, this.bias, this.eps);
  }
}

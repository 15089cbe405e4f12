import {
  Conv2d,
  ConvTranspose2d,
  concat,
  Embedding,
  GroupNorm,
  Linear,
  Module,
  matmul,
  type Rng,
  Tensor,
} from "../engine/index.js";

/**
 * The noise-prediction network ε_θ(x_t, t, c) of a diffusion model: a small U-Net
 * (Ronneberger et al. 2015) in the form DDPM uses (Ho et al. 2020, Appendix B) —
 * residual blocks with group normalisation and SiLU, the timestep as a sinusoidal
 * embedding (as the Transformer's positions) added inside every block, and a skip
 * connection that carries the high-resolution features across to the decoder.
 *
 * Sized for a CPU: each 2×2 patch of the 28×28 image is folded into 4 channels first
 * ("space to depth", lossless), so the network works at 14×14 and 7×7 only and never
 * pays for convolutions over 784 positions; the output is unfolded the same way.
 *
 *   x_t 28×28 → fold 14×14×4 → conv 3×3 (c) → block ─────────────── concat → block → conv 3×3 (4) → unfold → ε̂
 *                                      ↓ conv 3×3 s2 (2c) 7×7 → block → block → convᵀ 4×4 s2 (c) ↑
 *
 * The condition is the digit's embedding (or, for text to image, a mixture of the digits'
 * embeddings weighted by what the prompt reader read), set beside the timestep's; the
 * "null" class 10 is what classifier-free guidance needs.
 */

/** What the U-Net is conditioned on: a digit's (or a mixture of digits') embedding. */
export type DiffusionConditioning = "class";

export interface UNetConfig {
  /** Channels at 14×14; 7×7 has twice as many. */
  channels: number;
  /** Width of the timestep / condition embedding. */
  embedDim: number;
  /** GroupNorm groups (must divide every channel count). */
  groups: number;
  conditioning: DiffusionConditioning;
}

/** The null class of classifier-free guidance: "no digit given". */
export const NULL_CLASS = 10;

/** The DDPM / Transformer sinusoidal embedding of integer timesteps: [N] → [N, dim]. */
export function timestepEmbedding(t: ArrayLike<number>, dim: number): Tensor {
  const half = dim / 2;
  const out = new Float32Array(t.length * dim);
  for (let i = 0; i < t.length; i++) {
    for (let j = 0; j < half; j++) {
      const angle = t[i] * Math.exp((-Math.log(10_000) * j) / half);
      out[i * dim + j] = Math.sin(angle);
      out[i * dim + half + j] = Math.cos(angle);
    }
  }
  return new Tensor(out, [t.length, dim]);
}

/**
 * GroupNorm → SiLU → conv 3×3 → GroupNorm, scaled and shifted by the embedding → SiLU →
 * conv 3×3, plus the input (through a 1×1 conv when the channel count changes). The
 * scale-shift after the norm (Dhariwal & Nichol 2021's "AdaGN") lets the timestep and
 * condition steer every block; DDPM's plain added bias before the norm is largely
 * normalised away when a group holds few channels, and a small model then learns to
 * ignore the condition.
 */
export class ResBlock extends Module {
  norm1: GroupNorm;
  conv1: Conv2d;
  embed: Linear;
  norm2: GroupNorm;
  conv2: Conv2d;
  shortcut: Conv2d | null;

  constructor(inChannels: number, outChannels: number, embedDim: number, groups: number, rng: Rng) {
    super();
    this.norm1 = new GroupNorm(groups, inChannels);
    this.conv1 = new Conv2d(inChannels, outChannels, 3, { rng, padding: 1 });
    this.embed = new Linear(embedDim, 2 * outChannels, { rng, std: Math.sqrt(1 / embedDim) });
    this.norm2 = new GroupNorm(groups, outChannels);
    // The residual branch starts near zero, so each block starts close to the identity.
    this.conv2 = new Conv2d(outChannels, outChannels, 3, { rng, padding: 1, std: 1e-2 });
    this.shortcut = inChannels === outChannels ? null : new Conv2d(inChannels, outChannels, 1, { rng });
  }

  forward(x: Tensor, emb: Tensor): Tensor {
    const [N, C] = [x.shape[0], this.embed.weight.shape[0] / 2];
    const h = this.conv1.forward(this.norm1.forward(x).silu());
    const film = this.embed.forward(emb);
    const scale = film.slice(1, 0, C).add(1).reshape([N, C, 1, 1]);
    const shift = film.slice(1, C, 2 * C).reshape([N, C, 1, 1]);
    const out = this.conv2.forward(this.norm2.forward(h).mul(scale).add(shift).silu());
    return out.add(this.shortcut ? this.shortcut.forward(x) : x);
  }
}

/** What the U-Net reads: noisy images, their timesteps, and the condition. */
export interface UNetInput {
  /** x_t [N, 1, 28, 28]. */
  images: Tensor;
  /** The timestep of each image, 0 ≤ t < T. */
  timesteps: ArrayLike<number>;
  /** Class conditioning: the digit of each image, or NULL_CLASS. */
  classes?: ArrayLike<number>;
  /** Class conditioning by weights over the 11 classes [N, 11] (a mixture of their embeddings). */
  classWeights?: Tensor;
}

/** [N, 1, 2H, 2W] → [N, 4, H, W]: each 2×2 patch becomes 4 channels. */
export function spaceToDepth(x: Tensor): Tensor {
  const [N, , H2, W2] = x.shape;
  const [H, W] = [H2 / 2, W2 / 2];
  return x.reshape([N, H, 2, W, 2]).permute([0, 2, 4, 1, 3]).reshape([N, 4, H, W]);
}

/** The inverse of spaceToDepth: [N, 4, H, W] → [N, 1, 2H, 2W]. */
export function depthToSpace(x: Tensor): Tensor {
  const [N, , H, W] = x.shape;
  return x
    .reshape([N, 2, 2, H, W])
    .permute([0, 3, 1, 4, 2])
    .reshape([N, 1, 2 * H, 2 * W]);
}

export class UNet extends Module {
  readonly config: UNetConfig;
  timeIn: Linear;
  timeOut: Linear;
  classEmbedding: Embedding;
  stem: Conv2d;
  block1: ResBlock;
  down: Conv2d;
  block2: ResBlock;
  middle: ResBlock;
  up: ConvTranspose2d;
  upBlock: ResBlock;
  outNorm: GroupNorm;
  out: Conv2d;

  constructor(config: UNetConfig, rng: Rng) {
    super();
    this.config = { ...config };
    const { channels: c, embedDim: e, groups: g } = config;
    this.timeIn = new Linear(e, e, { rng, std: Math.sqrt(1 / e) });
    this.timeOut = new Linear(e, e, { rng, std: Math.sqrt(1 / e) });
    this.classEmbedding = new Embedding(NULL_CLASS + 1, e, { rng, std: 1 });
    this.stem = new Conv2d(4, c, 3, { rng, padding: 1 });
    this.block1 = new ResBlock(c, c, 2 * e, g, rng);
    this.down = new Conv2d(c, 2 * c, 3, { rng, stride: 2, padding: 1 });
    this.block2 = new ResBlock(2 * c, 2 * c, 2 * e, g, rng);
    this.middle = new ResBlock(2 * c, 2 * c, 2 * e, g, rng);
    this.up = new ConvTranspose2d(2 * c, c, 4, { rng, stride: 2, padding: 1 });
    this.upBlock = new ResBlock(2 * c, c, 2 * e, g, rng);
    this.outNorm = new GroupNorm(g, c);
    this.out = new Conv2d(c, 4, 3, { rng, padding: 1, std: 1e-2 });
  }

  /** The timestep embedding beside the condition's, [N, 2·embedDim]. */
  embed(input: UNetInput): Tensor {
    const { embedDim } = this.config;
    const emb = this.timeOut.forward(this.timeIn.forward(timestepEmbedding(input.timesteps, embedDim)).silu());
    let condition: Tensor;
    if (input.classWeights) condition = matmul(input.classWeights, this.classEmbedding.weight);
    else if (input.classes) condition = this.classEmbedding.forward(Array.from(input.classes));
    else throw new Error("the U-Net needs classes or class weights");
    // Side by side rather than summed, so the timestep's features cannot drown the condition's.
    return concat([emb, condition], 1).silu();
  }

  /** ε̂ [N, 1, 28, 28]. */
  forward(input: UNetInput): Tensor {
    const emb = this.embed(input);
    const h1 = this.block1.forward(this.stem.forward(spaceToDepth(input.images)), emb); // 14×14, c
    let h = this.block2.forward(this.down.forward(h1), emb); // 7×7, 2c
    h = this.middle.forward(h, emb);
    h = this.upBlock.forward(concat([this.up.forward(h), h1], 1), emb); // 14×14, c
    return depthToSpace(this.out.forward(this.outNorm.forward(h).silu()));
  }
}

import {
  AdamW,
  binaryCrossEntropyWithLogits,
  Conv2d,
  ConvTranspose2d,
  concat,
  crossEntropy,
  GroupNorm,
  Linear,
  type Metrics,
  Module,
  noGrad,
  type Optimizer,
  SeededRng,
  Tensor,
  type TrainerContext,
} from "../engine/index.js";
import type { ImageRecipe } from "./ImageRecipe.js";
import type { DigitBatch } from "./MnistBatches.js";
import { coverage, frechetDistance, judgeFeatures } from "./measures.js";

/**
 * A class-conditional DCGAN: the deep convolutional GAN of Radford, Metz & Chintala
 * (2016, "Unsupervised Representation Learning with Deep Convolutional Generative
 * Adversarial Networks"); G reads the digit beside its noise as in Mirza & Osindero
 * (2014, "Conditional Generative Adversarial Nets"), and D names the digit with an
 * auxiliary classifier as in AC-GAN (Odena, Olah & Shlens 2017, "Conditional Image
 * Synthesis with Auxiliary Classifier GANs").
 *
 *   generator G(z, y):  [z ; onehot(y)] → linear → c2×7×7 → norm → ReLU
 *                       → convᵀ 4×4 s2 (c1) → norm → ReLU → 14×14 → convᵀ 4×4 s2 → tanh → 28×28
 *   discriminator D(x): x → conv 4×4 s2 (c1) → LeakyReLU(0.2) → 14×14 → conv 4×4 s2 (c2) → LeakyReLU(0.2)
 *                       → 7×7 → [; batch std] → linear → 1 logit "real"  and  → linear → 10 digit logits
 *
 * DCGAN's guidelines (§3) kept: strided convolutions instead of pooling, no hidden fully
 * connected layers, ReLU in G with tanh on its output (pixels scaled to [−1, 1]),
 * LeakyReLU(0.2) in D, weights from N(0, 0.02²), Adam with β₁ = 0.5 (lr 4e-4, twice theirs).
 * Changed: G normalises with group norm (Wu & He 2018) instead of batch norm, so a
 * sample does not depend on the rest of its batch and sampling needs no running
 * statistics; D has no normalisation (with it, D won from step 50 on and G never
 * recovered in a 30-minute run: judged accuracy 13% at step 468). D's real/generated head
 * also reads the batch's spread (`minibatchStd`): without it G drew nearly one image per
 * digit (within-class spread 0.24 of real digits').
 *
 * Training (Goodfellow et al. 2014, Alg. 1, with the non-saturating generator loss of
 * §3): each step updates D once on a real and a generated batch, then G once,
 *   L_D = BCE(D_src(x), 0.9) + BCE(D_src(G(z, y')), 0) + CE(D_digit(x), y)
 *   L_G = BCE(D_src(G(z, y')), 1) + CE(D_digit(G(z, y')), y')
 * with one-sided label smoothing (0.9, Salimans et al. 2016, §3.4) and y' drawn
 * uniformly, so every digit is asked for equally often. The learning rates stay constant
 * for the first half of the run and decay linearly to zero over the second, and samples
 * come from a running average of G's weights (see `average`). D's digit head learns from real
 * digits only (AC-GAN also trains it on generated ones): G then satisfies it only with
 * images that look like the digit, not with patterns D learnt from G's own mistakes.
 */

export interface GANConfig {
  /** Size of the noise vector z. */
  latent: number;
  /** Channels of the 14×14 and 7×7 feature maps (G and D alike). */
  channels1: number;
  channels2: number;
  /** D's real/generated head also reads the batch's feature spread (see `minibatchStd`). */
  minibatchStd?: boolean;
  /**
   * Standard deviation of z when sampling (training always draws N(0, I)); default 1.
   * Below 1 is the "truncation trick" of BigGAN (Brock et al. 2019, §3.1) in its simplest
   * form, a lower sampling temperature as in Glow (Kingma & Dhariwal 2018): G's typical
   * images come out more often, its odd ones less, trading variety for fidelity.
   */
  sampleTemperature?: number;
}

// Narrow on purpose: it trains in 30 minutes on two shared CPU cores and ships in ~350 KB.
export const GAN_DEFAULT: GANConfig = { latent: 32, channels1: 16, channels2: 32, minibatchStd: true };

const DIGITS = 10;
/** DCGAN's initialisation (§4): all weights from N(0, 0.02²). */
const INIT_STD = 0.02;
/** Decay of the running average of G's weights. */
const AVERAGE_DECAY = 0.995;
/** One-sided label smoothing: D's target for real digits. */
const REAL_TARGET = 0.9;

function oneHot(digits: Int32Array): Tensor {
  const out = new Float32Array(digits.length * DIGITS);
  digits.forEach((d, i) => {
    out[i * DIGITS + d] = 1;
  });
  return new Tensor(out, [digits.length, DIGITS]);
}

export class Generator extends Module {
  fc: Linear;
  norm0: GroupNorm;
  up1: ConvTranspose2d;
  norm1: GroupNorm;
  up2: ConvTranspose2d;

  constructor(
    readonly config: GANConfig,
    rng: () => number,
  ) {
    super();
    const { latent, channels1: c1, channels2: c2 } = config;
    this.fc = new Linear(latent + DIGITS, c2 * 49, { rng, std: INIT_STD });
    this.norm0 = new GroupNorm(8, c2);
    this.up1 = new ConvTranspose2d(c2, c1, 4, { rng, stride: 2, padding: 1, std: INIT_STD });
    this.norm1 = new GroupNorm(8, c1);
    this.up2 = new ConvTranspose2d(c1, 1, 4, { rng, stride: 2, padding: 1, std: INIT_STD });
  }

  /** z [N, latent] and the digits to draw → images [N, 1, 28, 28] in [−1, 1]. */
  forward(input: { z: Tensor; digits: Int32Array }): Tensor {
    const N = input.z.shape[0];
    const h0 = this.fc.forward(concat([input.z, oneHot(input.digits)], 1)).reshape([N, this.config.channels2, 7, 7]);
    const h1 = this.up1.forward(this.norm0.forward(h0).relu());
    return this.up2.forward(this.norm1.forward(h1).relu()).tanh();
  }
}

export class Discriminator extends Module {
  conv1: Conv2d;
  conv2: Conv2d;
  /** Real or generated (one logit), and which digit (ten logits). */
  source: Linear;
  digit: Linear;

  constructor(
    readonly config: GANConfig,
    rng: () => number,
  ) {
    super();
    const { channels1: c1, channels2: c2 } = config;
    this.conv1 = new Conv2d(1, c1, 4, { rng, stride: 2, padding: 1, std: INIT_STD });
    this.conv2 = new Conv2d(c1, c2, 4, { rng, stride: 2, padding: 1, std: INIT_STD });
    this.source = new Linear(c2 * 49 + (config.minibatchStd ? 1 : 0), 1, { rng, std: INIT_STD });
    this.digit = new Linear(c2 * 49, DIGITS, { rng, std: INIT_STD });
  }

  /** Images [N, 1, 28, 28] in [−1, 1] → logits of "real" [N, 1] and of each digit [N, 10]. */
  forward(input: { images: Tensor }): { source: Tensor; digit: Tensor } {
    const N = input.images.shape[0];
    const h1 = this.conv1.forward(input.images).leakyRelu(0.2);
    const h = this.conv2.forward(h1).leakyRelu(0.2).reshape([N, -1]);
    const forSource = this.config.minibatchStd ? concat([h, minibatchStd(h)], 1) : h;
    return { source: this.source.forward(forSource), digit: this.digit.forward(h) };
  }
}

/**
 * The minibatch standard deviation of Karras et al. (2018, "Progressive Growing of GANs",
 * §3): each feature's standard deviation over the batch, averaged into one number and
 * handed to D beside every image's features, [N, F] → [N, 1]. A G that draws one image
 * per digit gives batches with a visibly smaller spread than real ones, so D can tell
 * them apart by it and G is pushed to vary. The whole batch is one group, so D must see
 * real and generated digits in separate batches (trainStep does).
 */
export function minibatchStd(h: Tensor): Tensor {
  const centred = h.sub(h.mean(0, true));
  // √ as exp(½·log): the engine has no square root op, and ε keeps log finite for N = 1.
  const std = centred.mul(centred).mean(0, true).add(1e-8).log().mul(0.5).exp();
  return Tensor.zeros([h.shape[0], 1]).add(std.mean());
}

export class ConditionalGAN extends Module {
  readonly config: GANConfig;
  generator: Generator;
  discriminator: Discriminator;
  /**
   * A running average of G's weights (Yazıcı et al. 2019, "The Unusual Effectiveness of
   * Averaging in GAN Training"): the one that draws. G's own weights keep chasing a
   * moving D; their average is steadier and draws better digits.
   */
  average: Generator;
  /** Draws the noise z and the digits asked of G while training; saved with checkpoints. */
  readonly rng: SeededRng;

  constructor(config: GANConfig = GAN_DEFAULT, seed = 1) {
    super();
    const t = config.sampleTemperature;
    if (t !== undefined && !(Number.isFinite(t) && t > 0)) {
      throw new RangeError(`sampleTemperature must be a positive number, got ${t}`);
    }
    this.config = { ...config };
    this.rng = new SeededRng(seed);
    const rng = () => this.rng.next();
    this.generator = new Generator(this.config, rng);
    this.discriminator = new Discriminator(this.config, rng);
    this.average = new Generator(this.config, rng);
    copyWeights(this.generator, this.average);
  }

  noise(n: number, rng: () => number): Tensor {
    return Tensor.randn([n, this.config.latent], 1, rng);
  }

  /** One image of each asked digit, as pixels in 0..1: [n, 1, 28, 28], drawn by the averaged G. */
  sample(digits: Int32Array, rng: () => number): Tensor {
    const z = Tensor.randn([digits.length, this.config.latent], this.config.sampleTemperature ?? 1, rng);
    return noGrad(() => this.average.forward({ z, digits }).add(1).mul(0.5));
  }

  /**
   * average ← β·average + (1 − β)·G after G's t-th update, with β = min(0.995, (1 + t)/(10 + t)):
   * a horizon of ~200 steps, shorter at the start so the average does not keep the random init.
   */
  updateAverage(t: number): void {
    const beta = Math.min(AVERAGE_DECAY, (1 + t) / (10 + t));
    const from = this.generator.parameters();
    this.average.parameters().forEach((p, i) => {
      const w = from[i].data;
      for (let j = 0; j < p.size; j++) p.data[j] = beta * p.data[j] + (1 - beta) * w[j];
    });
  }

  /**
   * One adversarial step on a batch of real digits: D's update, then G's. `optimizers`
   * is [G's, D's]; each player's update only moves its own weights.
   */
  trainStep(batch: DigitBatch, optimizers: [Optimizer, Optimizer]): Metrics {
    const [optG, optD] = optimizers;
    const N = batch.labels.length;
    const real = batch.images.mul(2).sub(1);
    const asked = Int32Array.from({ length: N }, () => this.rng.int(DIGITS));
    const fake = this.generator.forward({ z: this.noise(N, () => this.rng.next()), digits: asked });

    // D: tell real from generated (G's output detached: this update must not reach G), and
    // name the digit of real ones.
    optD.zeroGrad();
    const onReal = this.discriminator.forward({ images: real });
    const onFake = this.discriminator.forward({ images: fake.detach() });
    const dLoss = binaryCrossEntropyWithLogits(onReal.source, REAL_TARGET)
      .add(binaryCrossEntropyWithLogits(onFake.source, 0))
      .add(crossEntropy(onReal.digit, batch.labels));
    dLoss.backward();
    optD.step();

    // G: make D call its images real and the digit asked (the gradient passes through D,
    // whose grads are then dropped).
    optG.zeroGrad();
    const judged = this.discriminator.forward({ images: fake });
    const gLoss = binaryCrossEntropyWithLogits(judged.source, 1).add(crossEntropy(judged.digit, asked));
    gLoss.backward();
    optG.step();
    optD.zeroGrad();
    optG.zeroGrad();
    this.updateAverage(optG.stepCount);

    const d = dLoss.item();
    const g = gLoss.item();
    return {
      loss: d + g,
      d_loss: d,
      g_loss: g,
      d_real: meanSigmoid(onReal.source),
      d_fake: meanSigmoid(onFake.source),
    };
  }
}

/** dst ← src, parameter by parameter (two modules of one architecture). */
function copyWeights(src: Module, dst: Module): void {
  const from = src.parameters();
  dst.parameters().forEach((p, i) => {
    p.data.set(from[i].data);
  });
}

function meanSigmoid(logits: Tensor): number {
  let s = 0;
  for (const v of logits.data) s += 1 / (1 + Math.exp(-v));
  return s / logits.size;
}

/** Each optimizer's learning rate before the decay. */
const peakLr = new WeakMap<Optimizer, number>();

/** Adam as in DCGAN (§4: lr 2e-4, β₁ = 0.5 "to stabilise training"), one per player, no weight decay. */
function ganOptimizers(model: ConditionalGAN, lr: number): [Optimizer, Optimizer] {
  const adam = (m: Module, prefix: string) => {
    const optimizer = new AdamW(m.namedParameters(prefix), { lr, beta1: 0.5, beta2: 0.999, weightDecay: 0 });
    peakLr.set(optimizer, lr);
    return optimizer;
  };
  return [adam(model.generator, "generator"), adam(model.discriminator, "discriminator")];
}

/**
 * Constant learning rates for the first half of the run, then a linear decay to zero
 * over the second (as pix2pix and CycleGAN train their GANs): the players settle
 * instead of circling each other to the end.
 */
function setLearningRates(optimizers: Optimizer[], ctx: TrainerContext): void {
  const half = ctx.plannedSteps / 2;
  const scale = Math.min(1, Math.max(0, (ctx.plannedSteps - ctx.step) / half));
  for (const o of optimizers) o.lr = (peakLr.get(o) ?? o.lr) * scale;
}

/** Digits 0..9 in turn, n of them. */
export function digitsInTurn(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i % DIGITS);
}

export const ganRecipe: ImageRecipe<ConditionalGAN> = {
  kind: "gan",
  title: "Conditional DCGAN (losses; judged accuracy of samples)",
  // lr 4e-4, twice DCGAN's: on a loaded machine the 30-minute budget allows ~1,000 steps, and at 2e-4
  // G reached 88% judged in them against 93% at 4e-4 (bench/README, runs 6 and 7).
  defaults: { batchSize: 64, lr: 4e-4, epochs: 5 },
  create: (seed) => new ConditionalGAN(GAN_DEFAULT, seed),
  config: (model) => model.config,
  restore: (config) => new ConditionalGAN(config as unknown as GANConfig),
  optimizers: (model, lr) => ganOptimizers(model, lr),
  step: (model, next, ctx, optimizers) => {
    setLearningRates(optimizers, ctx);
    return { ...model.trainStep(next(), optimizers as [Optimizer, Optimizer]), lr: optimizers[0].lr };
  },
  evaluate: (model, test, tools) => {
    const judge = tools.judge();
    // 50 samples of each digit, judged; the Fréchet distance against as many test digits.
    const n = 500;
    const rng = new SeededRng(12345);
    const asked = digitsInTurn(n);
    const images = model.sample(asked, () => rng.next());
    const predicted = judge.predict(images);
    let correct = 0;
    for (let i = 0; i < n; i++) if (predicted[i] === asked[i]) correct++;
    const realCount = Math.min(n, test.count);
    const fd = frechetDistance(
      judgeFeatures(judge, images.data, n),
      judgeFeatures(judge, test.images.subarray(0, realCount * 784), realCount),
    );
    return {
      judged_accuracy: correct / n,
      effective_classes: coverage(predicted).effectiveClasses,
      frechet: fd,
    };
  },
  plot: {
    yLabel: "BCE (nats) · judged accuracy of samples",
    trainKeys: ["d_loss", "g_loss"],
    evalKeys: ["judged_accuracy"],
  },
};

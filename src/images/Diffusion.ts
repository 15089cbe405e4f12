import { Module, mseLoss, noGrad, SeededRng, Tensor } from "../engine/index.js";
import { GeneraError } from "../errors.js";
import { PromptReader, type PromptReaderConfig } from "./PromptReader.js";
import { blankPrompts, type PromptBatch, removePrompts } from "./promptEncoder.js";
import { NULL_CLASS, UNet, type UNetConfig } from "./UNet.js";

/**
 * Denoising diffusion (Ho et al. 2020, "Denoising Diffusion Probabilistic Models").
 *
 * The forward process adds Gaussian noise over T steps with variances β_t; with
 * α_t = 1 − β_t and ᾱ_t = Π_{s≤t} α_s it has the closed form (eq. 4)
 *   q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I),  i.e.  x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε.
 * The U-Net learns ε_θ(x_t, t, c) ≈ ε with the "simple" loss ‖ε − ε_θ‖² at a uniform t
 * (Algorithm 1). Sampling runs the process backwards:
 * - DDPM (Algorithm 2): T ancestral steps
 *     x_{t−1} = (x_t − β_t/√(1 − ᾱ_t) ε̂) / √α_t + σ_t z,  σ_t² = β_t;
 * - DDIM (Song et al. 2021, eq. 12): any sub-sequence of timesteps,
 *     x̂_0 = (x_t − √(1 − ᾱ_t) ε̂) / √ᾱ_t,
 *     x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε̂ + σ z,
 *     σ = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s),
 *   deterministic for η = 0, and 20 steps instead of 1,000.
 *
 * Classifier-free guidance (Ho & Salimans 2022): the condition is dropped (replaced by
 * the null condition) for a share of training examples, so one network gives both the
 * conditional and the unconditional ε̂, and sampling extrapolates from one to the other:
 *   ε̃ = ε̂(x_t, ∅) + w · (ε̂(x_t, c) − ε̂(x_t, ∅)),   w = 1: no guidance.
 *
 * What the network predicts: ε as in DDPM, or v = √ᾱ_t ε − √(1 − ᾱ_t) x_0 (Salimans &
 * Ho 2022, "Progressive Distillation", §4), the default here. Both give x̂_0 and ε̂; v
 * stays well-posed at high noise, where recovering x̂_0 from ε̂ divides by √ᾱ_t ≈ 0
 * and a briefly trained ε-model's small errors become garbage under few-step DDIM.
 *
 * Pixels are scaled from 0..1 to −1..1 in and back out.
 */

export interface DiffusionConfig {
  unet: UNetConfig;
  /** Diffusion steps T and the linear β schedule of DDPM (β_1 = 1e-4 … β_T = 0.02). */
  timesteps: number;
  betaStart: number;
  betaEnd: number;
  /** Share of training examples whose condition is dropped (classifier-free guidance). */
  conditionDropout: number;
  /** The network's target: "epsilon" (DDPM) or "v". */
  prediction: "epsilon" | "v";
  /**
   * Text to image through the digit embeddings: a prompt reader (PromptReader) maps the
   * prompt's word vectors to weights over the ten digits, and the class-conditional U-Net
   * reads the weighted mixture of its digit embeddings. The reader is fitted on generated
   * captions before the U-Net trains, and frozen.
   */
  promptReader?: PromptReaderConfig;
  /** Sampling defaults: guidance scale w and DDIM steps. */
  guidance: number;
  samplingSteps: number;
}

/** The condition of a batch: digits (class-conditional) or prompts (text to image; length 0 = no prompt). */
export type DiffusionCondition = { classes: Int32Array } | { prompts: PromptBatch };

/** β_t, α_t, ᾱ_t for t = 0..T−1 (the paper's t = 1..T). */
export class NoiseSchedule {
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  readonly alphaBars: Float64Array;

  constructor(
    readonly steps: number,
    betaStart: number,
    betaEnd: number,
  ) {
    this.betas = new Float64Array(steps);
    this.alphas = new Float64Array(steps);
    this.alphaBars = new Float64Array(steps);
    let bar = 1;
    for (let t = 0; t < steps; t++) {
      this.betas[t] = steps === 1 ? betaStart : betaStart + ((betaEnd - betaStart) * t) / (steps - 1);
      this.alphas[t] = 1 - this.betas[t];
      bar *= this.alphas[t];
      this.alphaBars[t] = bar;
    }
  }

  /** x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, per image (t has one entry per image). */
  qSample(x0: Float32Array, t: ArrayLike<number>, noise: Float32Array): Float32Array {
    const size = x0.length / t.length;
    const out = new Float32Array(x0.length);
    for (let i = 0; i < t.length; i++) {
      const a = Math.sqrt(this.alphaBars[t[i]]);
      const s = Math.sqrt(1 - this.alphaBars[t[i]]);
      for (let k = i * size; k < (i + 1) * size; k++) out[k] = a * x0[k] + s * noise[k];
    }
    return out;
  }

  /** `count` timesteps evenly spaced from T−1 down to 0 (DDIM's sub-sequence τ). */
  stride(count: number): number[] {
    const n = Math.max(1, Math.min(count, this.steps));
    const out: number[] = [];
    for (let i = n - 1; i >= 0; i--) out.push(Math.round((i * (this.steps - 1)) / Math.max(1, n - 1)));
    return [...new Set(out)];
  }
}

export interface SampleOptions {
  /** Guidance scale w (1 = plain conditional sampling); default the config's. */
  guidance?: number;
  /** DDIM steps; default the config's. */
  steps?: number;
  /** DDIM η: 0 deterministic, 1 ≈ DDPM's noise. */
  eta?: number;
  rng: () => number;
}

function gaussianArray(n: number, rng: () => number): Float32Array {
  return Tensor.randn([n], 1, rng).data;
}

export class DiffusionModel extends Module {
  readonly config: DiffusionConfig;
  unet: UNet;
  promptReader: PromptReader | null;
  readonly schedule: NoiseSchedule;
  /** Draws timesteps, noise and condition dropout in training; saved with checkpoints. */
  readonly rng: SeededRng;

  constructor(config: DiffusionConfig, seed = 1) {
    super();
    if ("promptHead" in config) {
      throw new GeneraError(
        "MODEL_MISMATCH",
        "this text-to-image model reads prompts through a sentence-vector head that genera no longer has; train it again (genera images train --kind text2image)",
      );
    }
    this.config = structuredClone(config);
    this.rng = new SeededRng(seed);
    this.unet = new UNet(config.unet, () => this.rng.next());
    const reader = config.promptReader;
    this.promptReader = reader ? new PromptReader(reader, () => this.rng.next()) : null;
    this.schedule = new NoiseSchedule(config.timesteps, config.betaStart, config.betaEnd);
  }

  /** What a caller conditions on: digits, or text (prompts). */
  get conditioning(): "class" | "text" {
    return this.promptReader ? "text" : "class";
  }

  /**
   * The prompt reader's weights over the 11 classes [N, 11]: its softmax over the digits,
   * or all on the null class for an empty prompt (no prompt). No gradient flows into the
   * reader: it is fitted before the U-Net and frozen.
   */
  promptClassWeights(prompts: PromptBatch): Tensor {
    const reader = this.promptReader;
    if (!reader) throw new Error("this model has no prompt reader");
    const N = prompts.lengths.length;
    const empty = Array.from(prompts.lengths, (length) => length === 0);
    const probs = empty.every(Boolean) ? new Float32Array(0) : reader.probabilities(removePrompts(prompts, empty));
    const out = new Float32Array(N * (NULL_CLASS + 1));
    for (let i = 0, k = 0; i < N; i++) {
      if (empty[i]) out[i * (NULL_CLASS + 1) + NULL_CLASS] = 1;
      else out.set(probs.subarray(k * 10, ++k * 10), i * (NULL_CLASS + 1));
    }
    return new Tensor(out, [N, NULL_CLASS + 1]);
  }

  /**
   * The simple loss of Algorithm 1 on a batch of images [N, 1, 28, 28] in 0..1; timesteps,
   * noise and condition dropout (training only) come from `rng` (default the model's).
   */
  forward(batch: { images: Tensor; condition: DiffusionCondition; rng?: SeededRng }): { loss: Tensor } {
    const { images } = batch;
    const rng = batch.rng ?? this.rng;
    const N = images.shape[0];
    const x0 = images.data.map((v) => 2 * v - 1);
    const t = Int32Array.from({ length: N }, () => rng.int(this.schedule.steps));
    const noise = gaussianArray(x0.length, () => rng.next());
    const xt = new Tensor(this.schedule.qSample(x0, t, noise), images.shape);
    const drop = Array.from({ length: N }, () => this.training && rng.next() < this.config.conditionDropout);
    const predicted = this.predict(xt, t, this.dropConditions(batch.condition, drop));
    return { loss: mseLoss(predicted, this.target(x0, t, noise)) };
  }

  /** What the network learns to output: ε, or v = √ᾱ_t ε − √(1 − ᾱ_t) x_0. */
  target(x0: Float32Array, t: ArrayLike<number>, noise: Float32Array): Float32Array {
    if (this.config.prediction === "epsilon") return noise;
    const size = x0.length / t.length;
    const v = new Float32Array(x0.length);
    for (let i = 0; i < t.length; i++) {
      const a = Math.sqrt(this.schedule.alphaBars[t[i]]);
      const s = Math.sqrt(1 - this.schedule.alphaBars[t[i]]);
      for (let k = i * size; k < (i + 1) * size; k++) v[k] = a * noise[k] - s * x0[k];
    }
    return v;
  }

  /**
   * x̂_0 (clipped to the data range, as DDPM's sampler does) and the ε̂ consistent with
   * it, from the network's output at x_t, timestep t.
   */
  estimate(xt: Float32Array, output: Float32Array, t: number): { x0: Float32Array; eps: Float32Array } {
    const ab = this.schedule.alphaBars[t];
    const [a, s] = [Math.sqrt(ab), Math.sqrt(1 - ab)];
    const x0 = new Float32Array(xt.length);
    const eps = new Float32Array(xt.length);
    for (let k = 0; k < xt.length; k++) {
      const raw = this.config.prediction === "v" ? a * xt[k] - s * output[k] : (xt[k] - s * output[k]) / a;
      x0[k] = Math.max(-1, Math.min(1, raw));
      eps[k] = (xt[k] - a * x0[k]) / s;
    }
    return { x0, eps };
  }

  /** The network's output (ε̂ or v̂) for noisy images x_t at timesteps t. */
  predict(xt: Tensor, t: ArrayLike<number>, condition: DiffusionCondition): Tensor {
    if ("classes" in condition) return this.unet.forward({ images: xt, timesteps: t, classes: condition.classes });
    return this.unet.forward({ images: xt, timesteps: t, classWeights: this.promptClassWeights(condition.prompts) });
  }

  /** The condition with the marked examples replaced by the null one (class 10, or the empty prompt). */
  dropConditions(condition: DiffusionCondition, drop: boolean[]): DiffusionCondition {
    if (!drop.some(Boolean)) return condition;
    if ("classes" in condition) return { classes: condition.classes.map((c, i) => (drop[i] ? NULL_CLASS : c)) };
    return { prompts: blankPrompts(condition.prompts, drop) };
  }

  /**
   * The output with classifier-free guidance, one U-Net call on [conditional;
   * unconditional] (the guidance mix is linear, so it applies to ε̂ and v̂ alike).
   */
  guidedOutput(xt: Float32Array, n: number, t: number, condition: DiffusionCondition, guidance: number): Float32Array {
    const size = xt.length / n;
    if (guidance === 1) return this.predict(new Tensor(xt, [n, 1, 28, 28]), new Int32Array(n).fill(t), condition).data;
    const both = new Float32Array(2 * xt.length);
    both.set(xt);
    both.set(xt, xt.length);
    const doubled = this.doubleWithNull(condition, n);
    const eps = this.predict(new Tensor(both, [2 * n, 1, 28, 28]), new Int32Array(2 * n).fill(t), doubled).data;
    const out = new Float32Array(n * size);
    for (let k = 0; k < out.length; k++) {
      const uncond = eps[out.length + k];
      out[k] = uncond + guidance * (eps[k] - uncond);
    }
    return out;
  }

  private doubleWithNull(condition: DiffusionCondition, n: number): DiffusionCondition {
    if ("classes" in condition) {
      const classes = new Int32Array(2 * n).fill(NULL_CLASS);
      classes.set(condition.classes);
      return { classes };
    }
    // n empty prompts after the n given ones.
    const lengths = new Int32Array(2 * n);
    lengths.set(condition.prompts.lengths);
    return { prompts: { vectors: condition.prompts.vectors, lengths } };
  }

  /** DDIM sampling (η = 0: deterministic given the starting noise): n images [n, 1, 28, 28] in 0..1. */
  sampleDdim(n: number, condition: DiffusionCondition, options: SampleOptions): Tensor {
    const guidance = options.guidance ?? this.config.guidance;
    const eta = options.eta ?? 0;
    const { alphaBars } = this.schedule;
    let x = gaussianArray(n * 784, options.rng);
    const taus = this.schedule.stride(options.steps ?? this.config.samplingSteps);
    noGrad(() => {
      for (let i = 0; i < taus.length; i++) {
        const t = taus[i];
        const abT = alphaBars[t];
        const abS = i + 1 < taus.length ? alphaBars[taus[i + 1]] : 1;
        const { x0, eps } = this.estimate(x, this.guidedOutput(x, n, t, condition, guidance), t);
        const sigma = eta * Math.sqrt((1 - abS) / (1 - abT)) * Math.sqrt(1 - abT / abS);
        const dirScale = Math.sqrt(Math.max(0, 1 - abS - sigma * sigma));
        const z = sigma > 0 ? gaussianArray(x.length, options.rng) : null;
        const next = new Float32Array(x.length);
        for (let k = 0; k < x.length; k++)
          next[k] = Math.sqrt(abS) * x0[k] + dirScale * eps[k] + (z ? sigma * z[k] : 0);
        x = next;
      }
    });
    return toPixels(x, n);
  }

  /** Ancestral DDPM sampling (Algorithm 2): all T steps. */
  sampleDdpm(n: number, condition: DiffusionCondition, options: Omit<SampleOptions, "steps" | "eta">): Tensor {
    const guidance = options.guidance ?? this.config.guidance;
    const { alphas, alphaBars, betas } = this.schedule;
    let x = gaussianArray(n * 784, options.rng);
    noGrad(() => {
      for (let t = this.schedule.steps - 1; t >= 0; t--) {
        const { eps } = this.estimate(x, this.guidedOutput(x, n, t, condition, guidance), t);
        const z = t > 0 ? gaussianArray(x.length, options.rng) : null;
        const c = betas[t] / Math.sqrt(1 - alphaBars[t]);
        const sigma = Math.sqrt(betas[t]);
        const next = new Float32Array(x.length);
        for (let k = 0; k < x.length; k++)
          next[k] = (x[k] - c * eps[k]) / Math.sqrt(alphas[t]) + (z ? sigma * z[k] : 0);
        x = next;
      }
    });
    return toPixels(x, n);
  }
}

/** −1..1 → 0..1 pixels, clipped. */
function toPixels(x: Float32Array, n: number): Tensor {
  return new Tensor(
    x.map((v) => Math.max(0, Math.min(1, (v + 1) / 2))),
    [n, 1, 28, 28],
  );
}

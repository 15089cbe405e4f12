import { GeneraError } from "../../errors.js";
import type { NamedTensorData } from "../checkpoints/safetensors.js";
import type { Tensor } from "../ops/index.js";

/**
 * Optimisers over named parameters (Module.namedParameters()), so their state can be
 * saved by name next to the weights and restored into a freshly built model.
 * Updates follow PyTorch's definitions, so hyper-parameters carry over.
 */

export type NamedParams = Array<[string, Tensor]>;

/** Which parameters get weight decay. nanoGPT's rule: matrices yes, biases / LayerNorm gains no. */
export type DecayFilter = (name: string, param: Tensor) => boolean;
export const decayMatricesOnly: DecayFilter = (_name, p) => p.shape.length >= 2;

export interface OptimizerState {
  type: "sgd" | "adamw";
  step: number;
  /** Per-parameter buffers under "<buffer>.<param name>", ready for safetensors. */
  buffers: Map<string, NamedTensorData>;
  hyper: Record<string, number>;
}

export interface Optimizer {
  readonly params: NamedParams;
  lr: number;
  /** Number of updates applied so far. */
  stepCount: number;
  step(): void;
  zeroGrad(): void;
  exportState(): OptimizerState;
  importState(state: OptimizerState): void;
}

function checkParams(params: NamedParams): void {
  const names = new Set<string>();
  for (const [name] of params) {
    if (names.has(name)) throw new GeneraError("INVALID_INPUT", `parameter name "${name}" appears twice`);
    names.add(name);
  }
}

function checkLr(lr: number, what: string): void {
  if (!Number.isFinite(lr) || lr < 0)
    throw new GeneraError("INVALID_INPUT", `${what}: learning rate must be ≥ 0, got ${lr}`);
}

function importBuffers(
  params: NamedParams,
  state: OptimizerState,
  kinds: string[],
  into: Array<Map<string, Float32Array>>,
): void {
  // Validate everything before touching the live buffers: a bad file must not leave half-loaded state.
  const loaded: Array<Map<string, Float32Array>> = kinds.map(() => new Map());
  for (const [name, p] of params) {
    kinds.forEach((kind, k) => {
      const buf = state.buffers.get(`${kind}.${name}`);
      if (!buf) return; // a parameter that never had a gradient has no state yet
      if (buf.data.length !== p.size) {
        throw new GeneraError(
          "MODEL_MISMATCH",
          `optimizer state "${kind}.${name}" has ${buf.data.length} values, the parameter has ${p.size}`,
        );
      }
      loaded[k].set(name, buf.data.slice());
    });
  }
  kinds.forEach((_, k) => {
    into[k].clear();
    for (const [name, v] of loaded[k]) into[k].set(name, v);
  });
}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  /** Nesterov momentum (PyTorch's nesterov=True). */
  nesterov?: boolean;
  decayFilter?: DecayFilter;
}

/** SGD with optional momentum and L2 weight decay (added to the gradient, as torch.optim.SGD does). */
export class SGD implements Optimizer {
  lr: number;
  stepCount = 0;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  private readonly decay: DecayFilter;
  private readonly velocity = new Map<string, Float32Array>();

  constructor(
    readonly params: NamedParams,
    options: SGDOptions,
  ) {
    checkParams(params);
    checkLr(options.lr, "SGD");
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.decay = options.decayFilter ?? decayMatricesOnly;
  }

  step(): void {
    this.stepCount++;
    for (const [name, p] of this.params) {
      const g = p.grad;
      if (!g) continue;
      const w = p.data;
      const wd = this.decay(name, p) ? this.weightDecay : 0;
      let v = this.velocity.get(name);
      if (this.momentum !== 0 && !v) {
        v = new Float32Array(w.length);
        this.velocity.set(name, v);
        // PyTorch seeds the buffer with the first gradient rather than decaying from zero.
        for (let i = 0; i < w.length; i++) v[i] = g[i] + wd * w[i];
        for (let i = 0; i < w.length; i++) {
          const d = this.nesterov ? g[i] + wd * w[i] + this.momentum * v[i] : v[i];
          w[i] -= this.lr * d;
        }
        continue;
      }
      for (let i = 0; i < w.length; i++) {
        let d = g[i] + wd * w[i];
        if (v) {
          v[i] = this.momentum * v[i] + d;
          d = this.nesterov ? d + this.momentum * v[i] : v[i];
        }
        w[i] -= this.lr * d;
      }
    }
  }

  zeroGrad(): void {
    for (const [, p] of this.params) p.zeroGrad();
  }

  exportState(): OptimizerState {
    const buffers = new Map<string, NamedTensorData>();
    for (const [name, v] of this.velocity) buffers.set(`momentum.${name}`, { data: v.slice(), shape: [v.length] });
    return {
      type: "sgd",
      step: this.stepCount,
      buffers,
      hyper: { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay },
    };
  }

  importState(state: OptimizerState): void {
    if (state.type !== "sgd") throw new GeneraError("MODEL_MISMATCH", `optimizer state is for ${state.type}, not sgd`);
    importBuffers(this.params, state, ["momentum"], [this.velocity]);
    this.stepCount = state.step;
  }
}

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  decayFilter?: DecayFilter;
}

/**
 * AdamW (Loshchilov & Hutter): Adam with weight decay applied to the weights
 * directly, not through the gradient, so it is not rescaled by the adaptive step.
 *   w ← w − lr·λ·w;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   w ← w − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
 */
export class AdamW implements Optimizer {
  lr: number;
  stepCount = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private readonly decay: DecayFilter;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();

  constructor(
    readonly params: NamedParams,
    options: AdamWOptions,
  ) {
    checkParams(params);
    checkLr(options.lr, "AdamW");
    this.lr = options.lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.decay = options.decayFilter ?? decayMatricesOnly;
    for (const [b, name] of [
      [this.beta1, "beta1"],
      [this.beta2, "beta2"],
    ] as const) {
      if (!(b >= 0 && b < 1)) throw new GeneraError("INVALID_INPUT", `AdamW: ${name} must be in [0, 1), got ${b}`);
    }
  }

  step(): void {
    this.stepCount++;
    const t = this.stepCount;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    const { beta1, beta2, eps, lr } = this;
    for (const [name, p] of this.params) {
      const g = p.grad;
      if (!g) continue;
      const w = p.data;
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = new Float32Array(w.length);
        v = new Float32Array(w.length);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const shrink = this.decay(name, p) ? 1 - lr * this.weightDecay : 1;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        const mi = beta1 * m[i] + (1 - beta1) * gi;
        const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * shrink - (lr * (mi / bc1)) / (Math.sqrt(vi / bc2) + eps);
      }
    }
  }

  zeroGrad(): void {
    for (const [, p] of this.params) p.zeroGrad();
  }

  exportState(): OptimizerState {
    const buffers = new Map<string, NamedTensorData>();
    for (const [name, m] of this.m) {
      buffers.set(`exp_avg.${name}`, { data: m.slice(), shape: [m.length] });
      buffers.set(`exp_avg_sq.${name}`, { data: this.v.get(name)!.slice(), shape: [m.length] });
    }
    return {
      type: "adamw",
      step: this.stepCount,
      buffers,
      hyper: { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay },
    };
  }

  importState(state: OptimizerState): void {
    if (state.type !== "adamw")
      throw new GeneraError("MODEL_MISMATCH", `optimizer state is for ${state.type}, not adamw`);
    importBuffers(this.params, state, ["exp_avg", "exp_avg_sq"], [this.m, this.v]);
    this.stepCount = state.step;
  }
}

/**
 * Scale all gradients so their global L2 norm is at most maxNorm (torch's
 * clip_grad_norm_). Returns the norm before clipping, worth logging: spikes
 * warn of a learning rate that is too high.
 */
export function clipGradNorm(params: NamedParams | Tensor[], maxNorm: number): number {
  const tensors = params.map((p) => (Array.isArray(p) ? p[1] : p));
  let sq = 0;
  for (const p of tensors) {
    const g = p.grad;
    if (!g) continue;
    for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
  }
  const norm = Math.sqrt(sq);
  if (Number.isFinite(maxNorm) && maxNorm > 0 && norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const p of tensors) {
      const g = p.grad;
      if (!g) continue;
      for (let i = 0; i < g.length; i++) g[i] *= scale;
    }
  }
  return norm;
}

/** Multiply every gradient by `factor` (averaging accumulated micro-batch gradients). */
export function scaleGrads(params: NamedParams | Tensor[], factor: number): void {
  for (const p of params) {
    const g = (Array.isArray(p) ? p[1] : p).grad;
    if (!g) continue;
    for (let i = 0; i < g.length; i++) g[i] *= factor;
  }
}

/** Save-ready form: the buffers as tensors, the rest as string metadata. */
export function optimizerStateToSafetensors(state: OptimizerState): {
  tensors: Map<string, NamedTensorData>;
  metadata: Record<string, string>;
} {
  return {
    tensors: state.buffers,
    metadata: { type: state.type, step: String(state.step), hyper: JSON.stringify(state.hyper) },
  };
}

export function optimizerStateFromSafetensors(
  file: { tensors: Map<string, NamedTensorData>; metadata: Record<string, string> },
  source = "optimizer.safetensors",
): OptimizerState {
  const type = file.metadata.type;
  const step = Number(file.metadata.step);
  if ((type !== "sgd" && type !== "adamw") || !Number.isInteger(step) || step < 0) {
    throw new GeneraError("INDEX_CORRUPT", `${source}: metadata lacks a valid optimizer type and step`);
  }
  let hyper: Record<string, number> = {};
  try {
    hyper = JSON.parse(file.metadata.hyper ?? "{}");
  } catch {
    throw new GeneraError("INDEX_CORRUPT", `${source}: metadata "hyper" is not JSON`);
  }
  return { type, step, buffers: file.tensors, hyper };
}

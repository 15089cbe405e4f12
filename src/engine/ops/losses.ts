import { gradOf, record } from "../autograd/graph.js";
import { invalid } from "../autograd/shape.js";
import { Tensor } from "../autograd/Tensor.js";

export interface CrossEntropyOptions {
  /**
   * ε in [0, 1): the target is (1 − ε)·onehot + ε/V instead of onehot (label smoothing,
   * Szegedy et al. 2016; the Transformer paper's §5.4 uses 0.1), so the model is never
   * pushed to make one class infinitely likelier than the rest. Default 0 (plain
   * cross-entropy).
   */
  labelSmoothing?: number;
}

/**
 * Mean cross-entropy of logits [..., V] against integer targets, fused with
 * log-softmax so the [N, V] probability matrix is never stored twice.
 * Targets equal to `ignoreIndex` (padding) count neither in the sum nor in the mean.
 * With label smoothing ε: ℓ = logZ − (1 − ε)·x_t − (ε/V)·Σ_j x_j.
 * Backward: dlogits = (softmax − (1 − ε)·onehot − ε/V) / count.
 */
export function crossEntropy(
  logits: Tensor,
  targets: Int32Array,
  ignoreIndex = -100,
  options: CrossEntropyOptions = {},
): Tensor {
  const V = logits.shape[logits.ndim - 1];
  const rows = logits.size / V;
  if (targets.length !== rows) {
    throw invalid(`crossEntropy: ${targets.length} targets for ${rows} rows of logits [${logits.shape}]`);
  }
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps < 1)) throw invalid(`crossEntropy: labelSmoothing must be in [0, 1), got ${eps}`);
  const xd = logits.data;
  const probs = new Float32Array(logits.size);
  let loss = 0;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const t = targets[r];
    if (t === ignoreIndex) continue;
    if (!(t >= 0 && t < V)) throw invalid(`crossEntropy: target ${t} at row ${r} is outside the vocabulary of ${V}`);
    const off = r * V;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < V; j++) if (xd[off + j] > max) max = xd[off + j];
    let s = 0;
    let sumX = 0;
    for (let j = 0; j < V; j++) {
      const e = Math.exp(xd[off + j] - max);
      probs[off + j] = e;
      s += e;
      sumX += xd[off + j];
    }
    const inv = 1 / s;
    for (let j = 0; j < V; j++) probs[off + j] *= inv;
    loss += max + Math.log(s) - (1 - eps) * xd[off + t] - (eps ? (eps / V) * sumX : 0);
    count++;
  }
  const out = new Tensor(Float32Array.of(count ? loss / count : 0), []);
  return record(out, "crossEntropy", [logits], () => {
    if (!count) return;
    const scale = out.grad![0] / count;
    const uniform = (eps / V) * scale;
    const gx = gradOf(logits);
    for (let r = 0; r < rows; r++) {
      const t = targets[r];
      if (t === ignoreIndex) continue;
      const off = r * V;
      for (let j = 0; j < V; j++) gx[off + j] += probs[off + j] * scale - uniform;
      gx[off + t] -= (1 - eps) * scale;
    }
  });
}

export type Reduction = "mean" | "sum";

function targetsOf(targets: Tensor | Float32Array | number, n: number, what: string): (i: number) => number {
  if (typeof targets === "number") return () => targets;
  const t = targets instanceof Tensor ? targets.data : targets;
  if (t.length !== n) throw invalid(`${what}: ${t.length} targets for ${n} values`);
  return (i) => t[i];
}

/**
 * Binary cross-entropy of logits x against targets t ∈ [0, 1] (a tensor, an array or
 * one number for all), fused with the sigmoid for stability:
 *   ℓ = max(x, 0) − x·t + log(1 + e^−|x|),  dℓ/dx = σ(x) − t.
 * The VAE's Bernoulli decoder and the GAN's discriminator both use it. Targets get
 * no gradient.
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  targets: Tensor | Float32Array | number,
  reduction: Reduction = "mean",
): Tensor {
  const n = logits.size;
  const t = targetsOf(targets, n, "binaryCrossEntropyWithLogits");
  const x = logits.data;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    loss += Math.max(v, 0) - v * t(i) + Math.log1p(Math.exp(-Math.abs(v)));
  }
  const scale = reduction === "mean" ? 1 / n : 1;
  const out = new Tensor(Float32Array.of(loss * scale), []);
  return record(out, "binaryCrossEntropyWithLogits", [logits], () => {
    const g = out.grad![0] * scale;
    const gx = gradOf(logits);
    for (let i = 0; i < n; i++) {
      const v = x[i];
      const s = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
      gx[i] += g * (s - t(i));
    }
  });
}

/**
 * KL(N(μ, σ²) ‖ N(0, 1)) summed over every element, with logvar = log σ²
 * (Kingma & Welling 2014, appendix B):
 *   KL = −½ Σ (1 + logvar − μ² − e^logvar),  ∂/∂μ = μ,  ∂/∂logvar = ½(e^logvar − 1).
 */
export function gaussianKL(mu: Tensor, logvar: Tensor): Tensor {
  if (mu.size !== logvar.size) throw invalid(`gaussianKL: μ [${mu.shape}] and logvar [${logvar.shape}] differ in size`);
  const m = mu.data;
  const lv = logvar.data;
  let kl = 0;
  for (let i = 0; i < m.length; i++) kl += -0.5 * (1 + lv[i] - m[i] * m[i] - Math.exp(lv[i]));
  const out = new Tensor(Float32Array.of(kl), []);
  return record(out, "gaussianKL", [mu, logvar], () => {
    const g = out.grad![0];
    if (mu.requiresGrad) {
      const gm = gradOf(mu);
      for (let i = 0; i < m.length; i++) gm[i] += g * m[i];
    }
    if (logvar.requiresGrad) {
      const gl = gradOf(logvar);
      for (let i = 0; i < lv.length; i++) gl[i] += g * 0.5 * (Math.exp(lv[i]) - 1);
    }
  });
}

/** Mean (or summed) squared error against a constant target; the diffusion model's ε-prediction loss. */
export function mseLoss(pred: Tensor, target: Tensor | Float32Array, reduction: Reduction = "mean"): Tensor {
  const t = target instanceof Tensor ? target.data : target;
  if (t.length !== pred.size) throw invalid(`mseLoss: ${t.length} targets for ${pred.size} predictions`);
  const p = pred.data;
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i] - t[i]) ** 2;
  const scale = reduction === "mean" ? 1 / p.length : 1;
  const out = new Tensor(Float32Array.of(s * scale), []);
  return record(out, "mseLoss", [pred], () => {
    const g = 2 * out.grad![0] * scale;
    const gp = gradOf(pred);
    for (let i = 0; i < p.length; i++) gp[i] += g * (p[i] - t[i]);
  });
}

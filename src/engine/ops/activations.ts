import { gradOf, record } from "../autograd/graph.js";
import { Tensor } from "../autograd/Tensor.js";

/** Pointwise functions and activations. */

/** y = f(x) with dy/dx computed from (x, y) — the shape shared by exp, log, tanh, relu, gelu. */
function unary(x: Tensor, op: string, f: (v: number) => number, df: (v: number, y: number) => number): Tensor {
  const o = new Float32Array(x.size);
  for (let k = 0; k < o.length; k++) o[k] = f(x.data[k]);
  const out = new Tensor(o, x.shape);
  return record(out, op, [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let k = 0; k < g.length; k++) gx[k] += g[k] * df(x.data[k], o[k]);
  });
}

export const exp = (x: Tensor): Tensor => unary(x, "exp", Math.exp, (_v, y) => y);
export const log = (x: Tensor): Tensor => unary(x, "log", Math.log, (v) => 1 / v);
export const tanh = (x: Tensor): Tensor => unary(x, "tanh", Math.tanh, (_v, y) => 1 - y * y);
export const relu = (x: Tensor): Tensor => piecewiseLinear(x, "relu", 0);

/**
 * x for x > 0, slope·x otherwise (ReLU: slope 0). Its own loop rather than `unary`: the
 * image models call it on every feature map, and a loop through a closure V8 cannot
 * inline (unary's f and df vary by call site) made ReLU ~20% of a VAE training step.
 */
function piecewiseLinear(x: Tensor, op: string, slope: number): Tensor {
  const xd = x.data;
  const o = new Float32Array(x.size);
  for (let k = 0; k < o.length; k++) {
    const v = xd[k];
    o[k] = v > 0 ? v : slope * v;
  }
  const out = new Tensor(o, x.shape);
  return record(out, op, [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let k = 0; k < g.length; k++) gx[k] += xd[k] > 0 ? g[k] : slope * g[k];
  });
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** tanh through one exp (faster than Math.tanh in V8); clamped so exp cannot overflow. */
function fastTanh(x: number): number {
  if (x > 15) return 1;
  if (x < -15) return -1;
  const e = Math.exp(2 * x);
  return (e - 1) / (e + 1);
}

/**
 * GELU with the tanh approximation used by GPT-2 and BERT:
 *   gelu(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
 * It differs from the exact x·Φ(x) by < 1e-3 and needs no erf.
 */
export function gelu(x: Tensor): Tensor {
  const n = x.size;
  const o = new Float32Array(n);
  const th = new Float32Array(n); // kept for backward
  const xd = x.data;
  for (let k = 0; k < n; k++) {
    const v = xd[k];
    const t = fastTanh(GELU_C * (v + 0.044715 * v * v * v));
    th[k] = t;
    o[k] = 0.5 * v * (1 + t);
  }
  const out = new Tensor(o, x.shape);
  return record(out, "gelu", [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let k = 0; k < n; k++) {
      const v = xd[k];
      const t = th[k];
      // d/dx = ½(1+t) + ½x(1−t²)·√(2/π)(1 + 3·0.044715x²)
      const d = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * GELU_C * (1 + 0.134145 * v * v);
      gx[k] += g[k] * d;
    }
  });
}

/** The logistic function, computed without overflow for large |v|. */
export function sigmoidValue(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

/** σ(x) = 1 / (1 + e^−x); dσ/dx = σ(1 − σ). */
export const sigmoid = (x: Tensor): Tensor => unary(x, "sigmoid", sigmoidValue, (_v, y) => y * (1 - y));

/** SiLU / swish (Elfwing et al. 2018; Ramachandran et al. 2017): x·σ(x); d/dx = σ + x·σ(1 − σ). */
export const silu = (x: Tensor): Tensor =>
  unary(
    x,
    "silu",
    (v) => v * sigmoidValue(v),
    (v) => {
      const s = sigmoidValue(v);
      return s + v * s * (1 - s);
    },
  );

/** LeakyReLU (Maas et al. 2013): x for x > 0, slope·x otherwise; DCGAN's discriminator uses slope 0.2. */
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => piecewiseLinear(x, "leakyRelu", slope);

import { gradOf, record } from "../autograd/graph.js";
import { invalid, normAxis } from "../autograd/shape.js";
import { Tensor } from "../autograd/Tensor.js";

/** The softmax family, over the last axis. */

function lastAxisOnly(x: Tensor, axis: number, what: string): [number, number] {
  if (normAxis(axis, x.ndim, what) !== x.ndim - 1) throw invalid(`${what} works on the last axis only`);
  const n = x.shape[x.ndim - 1];
  return [x.size / n, n];
}

/** softmax over the last axis; subtracting the row max keeps exp() finite. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const [rows, n] = lastAxisOnly(x, axis, "softmax");
  const o = new Float32Array(x.size);
  const xd = x.data;
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < n; j++) if (xd[off + j] > max) max = xd[off + j];
    let s = 0;
    for (let j = 0; j < n; j++) {
      const e = max === Number.NEGATIVE_INFINITY ? 0 : Math.exp(xd[off + j] - max);
      o[off + j] = e;
      s += e;
    }
    const inv = s > 0 ? 1 / s : 0;
    for (let j = 0; j < n; j++) o[off + j] *= inv;
  }
  const out = new Tensor(o, x.shape);
  return record(out, "softmax", [x], () => {
    // dx = y ⊙ (g − Σ g⊙y)
    const g = out.grad!;
    const gx = gradOf(x);
    for (let r = 0; r < rows; r++) {
      const off = r * n;
      let dot = 0;
      for (let j = 0; j < n; j++) dot += g[off + j] * o[off + j];
      for (let j = 0; j < n; j++) gx[off + j] += o[off + j] * (g[off + j] - dot);
    }
  });
}

/** log(softmax(x)) computed as x − max − log Σ exp(x − max), stable for large logits. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const [rows, n] = lastAxisOnly(x, axis, "logSoftmax");
  const o = new Float32Array(x.size);
  const xd = x.data;
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < n; j++) if (xd[off + j] > max) max = xd[off + j];
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.exp(xd[off + j] - max);
    const lse = max + Math.log(s);
    for (let j = 0; j < n; j++) o[off + j] = xd[off + j] - lse;
  }
  const out = new Tensor(o, x.shape);
  return record(out, "logSoftmax", [x], () => {
    // dx = g − softmax(x)·Σg
    const g = out.grad!;
    const gx = gradOf(x);
    for (let r = 0; r < rows; r++) {
      const off = r * n;
      let gs = 0;
      for (let j = 0; j < n; j++) gs += g[off + j];
      for (let j = 0; j < n; j++) gx[off + j] += g[off + j] - Math.exp(o[off + j]) * gs;
    }
  });
}

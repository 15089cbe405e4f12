import { gradOf, record } from "../autograd/graph.js";
import { around, normAxis } from "../autograd/shape.js";
import { Tensor } from "../autograd/Tensor.js";
import { mul } from "./arithmetic.js";

/** Sum of all values (axis undefined) or along one axis. */
export function sum(x: Tensor, axis?: number, keepDim = false): Tensor {
  if (axis === undefined) {
    let s = 0;
    for (let k = 0; k < x.size; k++) s += x.data[k];
    const out = new Tensor(Float32Array.of(s), keepDim ? x.shape.map(() => 1) : []);
    return record(out, "sum", [x], () => {
      const g = out.grad![0];
      const gx = gradOf(x);
      for (let k = 0; k < gx.length; k++) gx[k] += g;
    });
  }
  const ax = normAxis(axis, x.ndim, "sum");
  const [outer, n, inner] = around(x.shape, ax);
  const o = new Float32Array(outer * inner);
  for (let p = 0; p < outer; p++)
    for (let i = 0; i < n; i++) {
      const src = (p * n + i) * inner;
      const dst = p * inner;
      for (let q = 0; q < inner; q++) o[dst + q] += x.data[src + q];
    }
  const shape = keepDim ? x.shape.map((d, i) => (i === ax ? 1 : d)) : x.shape.filter((_, i) => i !== ax);
  const out = new Tensor(o, shape);
  return record(out, "sum", [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let p = 0; p < outer; p++)
      for (let i = 0; i < n; i++) {
        const dst = (p * n + i) * inner;
        const src = p * inner;
        for (let q = 0; q < inner; q++) gx[dst + q] += g[src + q];
      }
  });
}

export function mean(x: Tensor, axis?: number, keepDim = false): Tensor {
  const n = axis === undefined ? x.size : x.shape[normAxis(axis, x.ndim, "mean")];
  return mul(sum(x, axis, keepDim), 1 / n);
}

import { gradOf, record } from "../autograd/graph.js";
import { sizeOf } from "../autograd/shape.js";
import { Tensor, type TensorLike, toTensor } from "../autograd/Tensor.js";
import { broadcastShape, gather, indexMap, scatterAdd } from "./broadcast.js";

/** Broadcasting elementwise arithmetic: add, sub, mul, div. */

type BinaryKind = "add" | "sub" | "mul" | "div";

/** o = a ∘ b elementwise, with b repeating every `period` values (period = o.length when shapes agree). */
function combine(kind: BinaryKind, av: Float32Array, bv: Float32Array, o: Float32Array, period: number): void {
  const total = o.length;
  for (let off = 0; off < total; off += period) {
    if (kind === "add") for (let j = 0; j < period; j++) o[off + j] = av[off + j] + bv[j];
    else if (kind === "sub") for (let j = 0; j < period; j++) o[off + j] = av[off + j] - bv[j];
    else if (kind === "mul") for (let j = 0; j < period; j++) o[off + j] = av[off + j] * bv[j];
    else for (let j = 0; j < period; j++) o[off + j] = av[off + j] / bv[j];
  }
}

function binary(kind: BinaryKind, aIn: TensorLike, bIn: TensorLike): Tensor {
  const a = toTensor(aIn);
  const b = toTensor(bIn);
  const shape = broadcastShape(a.shape, b.shape);
  const total = sizeOf(shape);
  const ma = indexMap(a.shape, shape);
  const mb = indexMap(b.shape, shape);
  const av = gather(a.data, ma, total);
  const o = new Float32Array(total);
  // Fast paths for the shapes models use (x ∘ y, x + bias, x · scalar) avoid expanding b.
  if (mb.kind === "scalar" && kind === "mul") {
    const v = b.data[0];
    for (let k = 0; k < total; k++) o[k] = av[k] * v;
  } else if (mb.kind === "same" || mb.kind === "repeat") {
    combine(kind, av, b.data, o, mb.kind === "same" ? total : mb.period);
  } else {
    combine(kind, av, gather(b.data, mb, total), o, total);
  }
  const out = new Tensor(o, shape);
  return record(out, kind, [a, b], () => {
    const g = out.grad!;
    // b's values expanded to the output shape, only when the gradient needs them.
    const bvFull = () => gather(b.data, mb, total);
    if (a.requiresGrad) {
      // d(a+b)/da = 1, d(a-b)/da = 1, d(ab)/da = b, d(a/b)/da = 1/b
      let ga = g;
      if (kind === "mul" || kind === "div") {
        const bv = bvFull();
        ga = new Float32Array(total);
        if (kind === "mul") for (let k = 0; k < total; k++) ga[k] = g[k] * bv[k];
        else for (let k = 0; k < total; k++) ga[k] = g[k] / bv[k];
      }
      scatterAdd(gradOf(a), ga, ma);
    }
    if (b.requiresGrad) {
      // d(a+b)/db = 1, d(a-b)/db = -1, d(ab)/db = a, d(a/b)/db = -a/b²
      let gb = g;
      if (kind === "sub") {
        gb = new Float32Array(total);
        for (let k = 0; k < total; k++) gb[k] = -g[k];
      } else if (kind === "mul") {
        gb = new Float32Array(total);
        for (let k = 0; k < total; k++) gb[k] = g[k] * av[k];
      } else if (kind === "div") {
        const bv = bvFull();
        gb = new Float32Array(total);
        for (let k = 0; k < total; k++) gb[k] = (-g[k] * av[k]) / (bv[k] * bv[k]);
      }
      scatterAdd(gradOf(b), gb, mb);
    }
  });
}

export const add = (a: TensorLike, b: TensorLike): Tensor => binary("add", a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary("sub", a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary("mul", a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary("div", a, b);

import { gradOf, record } from "../autograd/graph.js";
import { around, invalid, normAxis, sizeOf } from "../autograd/shape.js";
import { Tensor } from "../autograd/Tensor.js";
import { stridedOffsets } from "./broadcast.js";

/** Ops that move values without changing them: reshape, permute/transpose, slice, concat. */

/** Same data, new shape; one dim may be -1. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  const s = [...shape];
  const unknown = s.indexOf(-1);
  if (unknown >= 0) s[unknown] = x.size / sizeOf(s.filter((d) => d !== -1));
  if (sizeOf(s) !== x.size || !s.every((d) => Number.isInteger(d) && d >= 0)) {
    throw invalid(`cannot reshape [${x.shape}] (${x.size} values) to [${shape}]`);
  }
  const out = new Tensor(x.data, s);
  return record(out, "reshape", [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let k = 0; k < g.length; k++) gx[k] += g[k];
  });
}

/** Copies x with its dims reordered: out.shape[i] = x.shape[dims[i]]. */
export function permute(x: Tensor, dims: number[]): Tensor {
  const nd = x.ndim;
  if (dims.length !== nd || new Set(dims.map((d) => normAxis(d, nd, "permute"))).size !== nd) {
    throw invalid(`permute: [${dims}] is not a permutation of ${nd} dims`);
  }
  const perm = dims.map((d) => normAxis(d, nd, "permute"));
  const outShape = perm.map((d) => x.shape[d]);
  const inStrides = new Array<number>(nd);
  let st = 1;
  for (let i = nd - 1; i >= 0; i--) {
    inStrides[i] = st;
    st *= x.shape[i];
  }
  const srcStride = perm.map((d) => inStrides[d]);
  // Copy in runs: when the last dim stays last (attention's [0,2,1,3]) each
  // run is a contiguous row of it; otherwise runs are single elements.
  const keepLast = perm[nd - 1] === nd - 1;
  const run = keepLast ? x.shape[nd - 1] : 1;
  const outer = keepLast ? nd - 1 : nd;
  const total = x.size;
  const runs = run === 0 ? 0 : total / run;
  // start[r] = flat input index of output run r; reused by backward
  const start = stridedOffsets(outShape, srcStride, outer, runs);
  const o = new Float32Array(total);
  const xd = x.data;
  if (run === 1) for (let r = 0; r < runs; r++) o[r] = xd[start[r]];
  else for (let r = 0; r < runs; r++) o.set(xd.subarray(start[r], start[r] + run), r * run);
  const out = new Tensor(o, outShape);
  return record(out, "permute", [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let r = 0; r < runs; r++) {
      const s0 = start[r];
      const d0 = r * run;
      for (let q = 0; q < run; q++) gx[s0 + q] += g[d0 + q];
    }
  });
}

export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const dims = x.shape.map((_, i) => i);
  const a = normAxis(dim0, x.ndim, "transpose");
  const b = normAxis(dim1, x.ndim, "transpose");
  [dims[a], dims[b]] = [dims[b], dims[a]];
  return permute(x, dims);
}

/** x[..., start:end, ...] along `axis`. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normAxis(axis, x.ndim, "slice");
  const [outer, n, inner] = around(x.shape, ax);
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= n && start <= end)) {
    throw invalid(`slice [${start}, ${end}) is out of range for axis ${axis} of size ${n}`);
  }
  const m = end - start;
  const o = new Float32Array(outer * m * inner);
  for (let p = 0; p < outer; p++) o.set(x.data.subarray((p * n + start) * inner, (p * n + end) * inner), p * m * inner);
  const out = new Tensor(
    o,
    x.shape.map((d, i) => (i === ax ? m : d)),
  );
  return record(out, "slice", [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let p = 0; p < outer; p++) {
      const dst = (p * n + start) * inner;
      const src = p * m * inner;
      for (let q = 0; q < m * inner; q++) gx[dst + q] += g[src + q];
    }
  });
}

/** Joins tensors along `axis`; all other dims must agree. */
export function concat(xs: Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw invalid("concat needs at least one tensor");
  const ref = xs[0].shape;
  const ax = normAxis(axis, ref.length, "concat");
  for (const x of xs) {
    if (x.ndim !== ref.length || x.shape.some((d, i) => i !== ax && d !== ref[i])) {
      throw invalid(`concat: shape [${x.shape}] does not match [${ref}] outside axis ${axis}`);
    }
  }
  const outer = sizeOf(ref.slice(0, ax));
  const inner = sizeOf(ref.slice(ax + 1));
  const total = xs.reduce((n, x) => n + x.shape[ax], 0);
  const o = new Float32Array(outer * total * inner);
  const offsets: number[] = [];
  let off = 0;
  for (const x of xs) {
    offsets.push(off);
    const n = x.shape[ax];
    for (let p = 0; p < outer; p++)
      o.set(x.data.subarray(p * n * inner, (p + 1) * n * inner), (p * total + off) * inner);
    off += n;
  }
  const out = new Tensor(
    o,
    ref.map((d, i) => (i === ax ? total : d)),
  );
  return record(out, "concat", xs, () => {
    const g = out.grad!;
    xs.forEach((x, xi) => {
      if (!x.requiresGrad) return;
      const gx = gradOf(x);
      const n = x.shape[ax];
      for (let p = 0; p < outer; p++) {
        const src = (p * total + offsets[xi]) * inner;
        const dst = p * n * inner;
        for (let q = 0; q < n * inner; q++) gx[dst + q] += g[src + q];
      }
    });
  });
}

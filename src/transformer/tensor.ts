import { GeneraError } from "../errors.js";
import { gemm } from "./matmul.js";
import { gaussian } from "./random.js";

/**
 * A dense float32 tensor with reverse-mode automatic differentiation.
 *
 * Every op below builds its output, records its parents and a `backwardFn`
 * that reads `out.grad` and adds into each parent's `grad` — forward and
 * backward of an op sit next to each other, as in micrograd. `backward()` on a
 * scalar walks the graph in reverse topological order.
 *
 * Storage is always contiguous row-major; ops that change the layout
 * (transpose, permute, slice) copy. That keeps every kernel a plain loop.
 */

let gradEnabled = true;

/** Runs `fn` without recording the graph: inference pays no memory for backward. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function invalid(message: string, details?: Record<string, unknown>): GeneraError {
  return new GeneraError("INVALID_INPUT", message, { details });
}

function normAxis(axis: number, ndim: number, what: string): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim)
    throw invalid(`${what}: axis ${axis} is out of range for ${ndim} dims`);
  return a;
}

/** Splits a shape around `axis` into [outer, n, inner] so an axis op is three nested loops. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

export type TensorLike = Tensor | number;

export class Tensor {
  data: Float32Array;
  shape: number[];
  grad: Float32Array | null = null;
  requiresGrad: boolean;
  /** Name of the op that produced this tensor ("leaf" for inputs and weights); helps debugging. */
  op = "leaf";
  parents: Tensor[] = [];
  backwardFn: (() => void) | null = null;

  constructor(data: Float32Array, shape: number[], requiresGrad = false) {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0))
      throw invalid(`tensor shape [${shape}] must be non-negative integers`);
    if (data.length !== sizeOf(shape)) {
      throw invalid(`tensor data has ${data.length} values but shape [${shape}] needs ${sizeOf(shape)}`);
    }
    this.data = data;
    this.shape = [...shape];
    this.requiresGrad = requiresGrad;
  }

  static zeros(shape: number[], requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(sizeOf(shape)), shape, requiresGrad);
  }

  static ones(shape: number[], requiresGrad = false): Tensor {
    return Tensor.full(shape, 1, requiresGrad);
  }

  static full(shape: number[], value: number, requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(sizeOf(shape)).fill(value), shape, requiresGrad);
  }

  static scalar(value: number, requiresGrad = false): Tensor {
    return new Tensor(Float32Array.of(value), [], requiresGrad);
  }

  /** Normal(0, std²) values; pass a `seededRandom` for repeatable weights. */
  static randn(shape: number[], std = 1, rng: () => number = Math.random, requiresGrad = false): Tensor {
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = gaussian(rng) * std;
    return new Tensor(data, shape, requiresGrad);
  }

  /** From a (possibly nested) number array; the shape is inferred unless given. */
  static fromArray(
    values: ArrayLike<number> | number[][] | number[][][],
    shape?: number[],
    requiresGrad = false,
  ): Tensor {
    const inferred: number[] = [];
    let probe: unknown = values;
    while (Array.isArray(probe)) {
      inferred.push(probe.length);
      probe = probe[0];
    }
    const flat = Array.isArray(values) ? (values as unknown[]).flat(Number.POSITIVE_INFINITY) : Array.from(values);
    if (flat.some((v) => typeof v !== "number")) throw invalid("Tensor.fromArray needs numbers only");
    const s = shape ?? (inferred.length ? inferred : [flat.length]);
    return new Tensor(Float32Array.from(flat as number[]), s, requiresGrad);
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  item(): number {
    if (this.size !== 1) throw invalid(`item() needs a single-value tensor, got shape [${this.shape}]`);
    return this.data[0];
  }

  /** A copy that shares nothing with the graph. */
  detach(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  zeroGrad(): void {
    this.grad?.fill(0);
  }

  /** Reverse pass from a scalar: seeds d(this)/d(this) = 1 and runs every backwardFn once. */
  backward(): void {
    if (this.size !== 1) throw invalid(`backward() starts from a scalar, got shape [${this.shape}]`);
    if (!this.requiresGrad)
      throw invalid("backward() on a tensor that does not require grad (built under noGrad or from constants)");
    // Iterative DFS: deep graphs (many layers × many ops) would overflow a recursive one.
    const order: Tensor[] = [];
    const visited = new Set<Tensor>();
    const stack: Array<[Tensor, number]> = [[this, 0]];
    visited.add(this);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [node, i] = top;
      if (i < node.parents.length) {
        top[1]++;
        const p = node.parents[i];
        if (p.requiresGrad && !visited.has(p)) {
          visited.add(p);
          stack.push([p, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
    this.grad = new Float32Array(1).fill(1);
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i];
      if (node.backwardFn && node.grad) node.backwardFn();
    }
  }

  // Method forms of the free functions below, so models read as x.matmul(w).add(b).
  add(o: TensorLike): Tensor {
    return add(this, o);
  }
  sub(o: TensorLike): Tensor {
    return sub(this, o);
  }
  mul(o: TensorLike): Tensor {
    return mul(this, o);
  }
  div(o: TensorLike): Tensor {
    return div(this, o);
  }
  neg(): Tensor {
    return mul(this, -1);
  }
  matmul(o: Tensor, opts?: MatmulOptions): Tensor {
    return matmul(this, o, opts);
  }
  sum(axis?: number, keepDim = false): Tensor {
    return sum(this, axis, keepDim);
  }
  mean(axis?: number, keepDim = false): Tensor {
    return mean(this, axis, keepDim);
  }
  reshape(shape: number[]): Tensor {
    return reshape(this, shape);
  }
  transpose(dim0 = -2, dim1 = -1): Tensor {
    return transpose(this, dim0, dim1);
  }
  permute(dims: number[]): Tensor {
    return permute(this, dims);
  }
  slice(axis: number, start: number, end: number): Tensor {
    return slice(this, axis, start, end);
  }
  exp(): Tensor {
    return exp(this);
  }
  log(): Tensor {
    return log(this);
  }
  tanh(): Tensor {
    return tanh(this);
  }
  relu(): Tensor {
    return relu(this);
  }
  gelu(): Tensor {
    return gelu(this);
  }
  softmax(axis = -1): Tensor {
    return softmax(this, axis);
  }
  logSoftmax(axis = -1): Tensor {
    return logSoftmax(this, axis);
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return maskedFill(this, mask, value);
  }
  dropout(p: number, training: boolean, rng: () => number): Tensor {
    return dropout(this, p, training, rng);
  }
}

/** Wires an op's output into the graph when any input needs a gradient. */
function record(out: Tensor, op: string, parents: Tensor[], backwardFn: () => void): Tensor {
  out.op = op;
  if (gradEnabled && parents.some((p) => p.requiresGrad)) {
    out.requiresGrad = true;
    out.parents = parents;
    out.backwardFn = backwardFn;
  }
  return out;
}

/** The parent's grad buffer, allocated on first use. */
function gradOf(t: Tensor): Float32Array {
  if (!t.grad) t.grad = new Float32Array(t.size);
  return t.grad;
}

function toTensor(x: TensorLike): Tensor {
  return x instanceof Tensor ? x : Tensor.scalar(x);
}

// ---------------------------------------------------------------------------
// Broadcasting elementwise ops: add, sub, mul, div
// ---------------------------------------------------------------------------

export function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw invalid(`shapes [${a}] and [${b}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * For each output position, the flat index into an input of `shape` broadcast
 * to `outShape`. The common cases (same shape, scalar, repeating suffix such
 * as a bias) skip the table entirely.
 */
type IndexMap =
  | { kind: "same" }
  | { kind: "scalar" }
  | { kind: "repeat"; period: number }
  | { kind: "table"; index: Int32Array };

function indexMap(shape: readonly number[], outShape: readonly number[]): IndexMap {
  const n = sizeOf(shape);
  if (sameShape(shape, outShape)) return { kind: "same" };
  if (n === 1) return { kind: "scalar" };
  // Suffix of the output shape (after dropping leading 1s): input repeats every n elements.
  let lead = 0;
  while (lead < shape.length && shape[lead] === 1) lead++;
  const core = shape.slice(lead);
  if (sameShape(core, outShape.slice(outShape.length - core.length))) return { kind: "repeat", period: n };
  const total = sizeOf(outShape);
  const nd = outShape.length;
  const strides = new Array<number>(nd).fill(0);
  let stride = 1;
  for (let i = nd - 1; i >= 0; i--) {
    const d = shape[shape.length - nd + i] ?? 1;
    strides[i] = d === 1 ? 0 : stride;
    stride *= d;
  }
  return { kind: "table", index: stridedOffsets(outShape, strides, nd, total) };
}

/**
 * Walks the first `dims` axes of `shape` in row-major order, `count` steps, and returns
 * the source offset at each step, where moving one along axis i moves `strides[i]` in
 * the source: the index table behind broadcasting and transposes.
 */
function stridedOffsets(shape: readonly number[], strides: readonly number[], dims: number, count: number): Int32Array {
  const offsets = new Int32Array(count);
  const counter = new Array<number>(dims).fill(0);
  let src = 0;
  for (let k = 0; k < count; k++) {
    offsets[k] = src;
    for (let i = dims - 1; i >= 0; i--) {
      counter[i]++;
      src += strides[i];
      if (counter[i] < shape[i]) break;
      src -= strides[i] * counter[i];
      counter[i] = 0;
    }
  }
  return offsets;
}

function gather(data: Float32Array, map: IndexMap, total: number): Float32Array {
  if (map.kind === "same") return data;
  const out = new Float32Array(total);
  if (map.kind === "scalar") return out.fill(data[0]);
  if (map.kind === "repeat") {
    for (let k = 0; k < total; k += map.period) out.set(data, k);
    return out;
  }
  for (let k = 0; k < total; k++) out[k] = data[map.index[k]];
  return out;
}

/** Adds g (output-shaped) into dst (input-shaped), summing over broadcast positions. */
function scatterAdd(dst: Float32Array, g: Float32Array, map: IndexMap): void {
  const total = g.length;
  if (map.kind === "same") {
    for (let k = 0; k < total; k++) dst[k] += g[k];
  } else if (map.kind === "scalar") {
    let s = 0;
    for (let k = 0; k < total; k++) s += g[k];
    dst[0] += s;
  } else if (map.kind === "repeat") {
    const p = map.period;
    for (let k = 0; k < total; k += p) for (let j = 0; j < p; j++) dst[j] += g[k + j];
  } else {
    for (let k = 0; k < total; k++) dst[map.index[k]] += g[k];
  }
}

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

// ---------------------------------------------------------------------------
// Matrix multiply
// ---------------------------------------------------------------------------

export interface MatmulOptions {
  /** Use bᵀ (its last two dims swapped) without materialising the transpose — Q·Kᵀ in attention. */
  transB?: boolean;
}

/**
 * a[..., M, K] · b[K, N] (a 2-D weight broadcast over the batch: one big GEMM
 * of (batch·M) rows) or a[..., M, K] · b[..., K, N] with equal batch dims.
 * With transB, b is [..., N, K].
 *
 * Backward, for C = A·B:  dA = dC·Bᵀ,  dB = Aᵀ·dC  (and for C = A·Bᵀ:
 * dA = dC·B, dB = dCᵀ·A) — the transposed operands are read in place by the
 * GEMM kernel's trans flags.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transB = opts.transB ?? false;
  if (a.ndim < 2 || b.ndim < 2)
    throw invalid(`matmul needs tensors of at least 2 dims, got [${a.shape}] and [${b.shape}]`);
  const K = a.shape[a.ndim - 1];
  const M = a.shape[a.ndim - 2];
  const bRows = b.shape[b.ndim - 2];
  const bCols = b.shape[b.ndim - 1];
  const N = transB ? bRows : bCols;
  const Kb = transB ? bCols : bRows;
  if (K !== Kb) throw invalid(`matmul inner dims differ: [${a.shape}] · [${b.shape}]${transB ? "ᵀ" : ""}`);
  const batchShape = a.shape.slice(0, -2);
  let batch: number;
  let rows: number; // rows per GEMM
  let strideB: number;
  if (b.ndim === 2) {
    // Fold the batch into the rows: one tall GEMM is faster than many short ones.
    batch = 1;
    rows = sizeOf(batchShape) * M;
    strideB = 0;
  } else {
    if (!sameShape(b.shape.slice(0, -2), batchShape)) {
      throw invalid(`matmul batch dims differ: [${a.shape}] · [${b.shape}]`);
    }
    batch = sizeOf(batchShape);
    rows = M;
    strideB = K * N;
  }
  const c = new Float32Array(batch * rows * N);
  gemm({
    a: a.data,
    b: b.data,
    c,
    batch,
    M: rows,
    N,
    K,
    transA: false,
    transB,
    strideA: rows * K,
    strideB,
    strideC: rows * N,
    overwrite: true,
  });
  const out = new Tensor(c, [...batchShape, M, N]);
  return record(out, "matmul", [a, b], () => {
    const g = out.grad!;
    if (a.requiresGrad) {
      // dA[rows,K] += dC[rows,N] · op(B)ᵀ
      gemm({
        a: g,
        b: b.data,
        c: gradOf(a),
        batch,
        M: rows,
        N: K,
        K: N,
        transA: false,
        transB: !transB,
        strideA: rows * N,
        strideB,
        strideC: rows * K,
      });
    }
    if (b.requiresGrad) {
      const gb = gradOf(b);
      if (!transB) {
        // dB[K,N] += Aᵀ[K,rows] · dC[rows,N]; with a shared 2-D weight the batch is already folded into rows.
        gemm({
          a: a.data,
          b: g,
          c: gb,
          batch,
          M: K,
          N,
          K: rows,
          transA: true,
          transB: false,
          strideA: rows * K,
          strideB: rows * N,
          strideC: strideB,
        });
      } else {
        // B is [N,K]: dB[N,K] += dCᵀ[N,rows] · A[rows,K]
        gemm({
          a: g,
          b: a.data,
          c: gb,
          batch,
          M: N,
          N: K,
          K: rows,
          transA: true,
          transB: false,
          strideA: rows * N,
          strideB: rows * K,
          strideC: strideB,
        });
      }
    }
  });
}

// ---------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Layout: reshape, permute/transpose, slice, concat
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Pointwise functions
// ---------------------------------------------------------------------------

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
export const relu = (x: Tensor): Tensor =>
  unary(
    x,
    "relu",
    (v) => Math.max(v, 0),
    (v) => (v > 0 ? 1 : 0),
  );

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

// ---------------------------------------------------------------------------
// Softmax family (last axis)
// ---------------------------------------------------------------------------

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

/**
 * Mean cross-entropy of logits [..., V] against integer targets, fused with
 * log-softmax so the [N, V] probability matrix is never stored twice.
 * Targets equal to `ignoreIndex` (padding) count neither in the sum nor in the mean.
 * Backward: dlogits = (softmax − onehot) / count.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array, ignoreIndex = -100): Tensor {
  const V = logits.shape[logits.ndim - 1];
  const rows = logits.size / V;
  if (targets.length !== rows) {
    throw invalid(`crossEntropy: ${targets.length} targets for ${rows} rows of logits [${logits.shape}]`);
  }
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
    for (let j = 0; j < V; j++) {
      const e = Math.exp(xd[off + j] - max);
      probs[off + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < V; j++) probs[off + j] *= inv;
    loss += max + Math.log(s) - xd[off + t];
    count++;
  }
  const out = new Tensor(Float32Array.of(count ? loss / count : 0), []);
  return record(out, "crossEntropy", [logits], () => {
    if (!count) return;
    const scale = out.grad![0] / count;
    const gx = gradOf(logits);
    for (let r = 0; r < rows; r++) {
      const t = targets[r];
      if (t === ignoreIndex) continue;
      const off = r * V;
      for (let j = 0; j < V; j++) gx[off + j] += probs[off + j] * scale;
      gx[off + t] -= scale;
    }
  });
}

// ---------------------------------------------------------------------------
// Layer norm, embedding, dropout, masking
// ---------------------------------------------------------------------------

/**
 * y = γ ⊙ (x − μ)/√(σ² + ε) + β over the last axis, forward and backward fused
 * (one pass each instead of the ~10 graph nodes the composed version builds).
 * With x̂ the normalised input and ĝ = g ⊙ γ, the input gradient is
 *   dx = (ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) / √(σ² + ε).
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const D = x.shape[x.ndim - 1];
  if (gamma.size !== D || beta.size !== D)
    throw invalid(`layerNorm: γ/β must have ${D} values, got ${gamma.size}/${beta.size}`);
  const rows = x.size / D;
  const xd = x.data;
  const gd = gamma.data;
  const bd = beta.data;
  const xhat = new Float32Array(x.size);
  const rstd = new Float32Array(rows);
  const o = new Float32Array(x.size);
  for (let r = 0; r < rows; r++) {
    const off = r * D;
    let mu = 0;
    for (let j = 0; j < D; j++) mu += xd[off + j];
    mu /= D;
    let v = 0;
    for (let j = 0; j < D; j++) {
      const d = xd[off + j] - mu;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / D + eps);
    rstd[r] = rs;
    for (let j = 0; j < D; j++) {
      const h = (xd[off + j] - mu) * rs;
      xhat[off + j] = h;
      o[off + j] = h * gd[j] + bd[j];
    }
  }
  const out = new Tensor(o, x.shape);
  return record(out, "layerNorm", [x, gamma, beta], () => {
    const g = out.grad!;
    const gg = gamma.requiresGrad ? gradOf(gamma) : null;
    const gb = beta.requiresGrad ? gradOf(beta) : null;
    const gx = x.requiresGrad ? gradOf(x) : null;
    for (let r = 0; r < rows; r++) {
      const off = r * D;
      let m1 = 0;
      let m2 = 0;
      for (let j = 0; j < D; j++) {
        const gh = g[off + j] * gd[j];
        m1 += gh;
        m2 += gh * xhat[off + j];
        if (gg) gg[j] += g[off + j] * xhat[off + j];
        if (gb) gb[j] += g[off + j];
      }
      if (!gx) continue;
      m1 /= D;
      m2 /= D;
      const rs = rstd[r];
      for (let j = 0; j < D; j++) gx[off + j] += (g[off + j] * gd[j] - m1 - xhat[off + j] * m2) * rs;
    }
  });
}

/** Rows of `weight` [V, D] picked by `ids`; the result has shape [...shape, D]. */
export function embedding(weight: Tensor, ids: Int32Array | number[], shape: number[] = [ids.length]): Tensor {
  const [V, D] = weight.shape;
  if (weight.ndim !== 2) throw invalid(`embedding weight must be [vocab, dim], got [${weight.shape}]`);
  if (sizeOf(shape) !== ids.length) throw invalid(`embedding: ${ids.length} ids do not fill shape [${shape}]`);
  const n = ids.length;
  const o = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (!(Number.isInteger(id) && id >= 0 && id < V))
      throw invalid(`embedding: id ${id} at position ${i} is outside the vocabulary of ${V}`);
    o.set(weight.data.subarray(id * D, id * D + D), i * D);
  }
  const out = new Tensor(o, [...shape, D]);
  const idCopy = Int32Array.from(ids);
  return record(out, "embedding", [weight], () => {
    const g = out.grad!;
    const gw = gradOf(weight);
    for (let i = 0; i < n; i++) {
      const dst = idCopy[i] * D;
      const src = i * D;
      for (let j = 0; j < D; j++) gw[dst + j] += g[src + j];
    }
  });
}

/**
 * Inverted dropout: zero each value with probability p and scale survivors by
 * 1/(1−p), so evaluation (training = false) is the identity.
 */
export function dropout(x: Tensor, p: number, training: boolean, rng: () => number): Tensor {
  if (!(p >= 0 && p < 1)) throw invalid(`dropout probability must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const scale = 1 / (1 - p);
  const keep = new Float32Array(x.size);
  const o = new Float32Array(x.size);
  for (let k = 0; k < o.length; k++) {
    if (rng() >= p) {
      keep[k] = scale;
      o[k] = x.data[k] * scale;
    }
  }
  const out = new Tensor(o, x.shape);
  return record(out, "dropout", [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let k = 0; k < g.length; k++) gx[k] += g[k] * keep[k];
  });
}

/**
 * Where `mask` (broadcast to x, nonzero = masked) is set, the value becomes
 * `value` and no gradient flows; elsewhere x passes through. Attention uses it
 * with −∞ for the causal and padding masks.
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  const shape = broadcastShape(x.shape, mask.shape);
  if (!sameShape(shape, x.shape)) throw invalid(`maskedFill: mask [${mask.shape}] must broadcast to [${x.shape}]`);
  const m = gather(mask.data, indexMap(mask.shape, x.shape), x.size);
  const o = x.data.slice();
  for (let k = 0; k < o.length; k++) if (m[k] !== 0) o[k] = value;
  const out = new Tensor(o, x.shape);
  return record(out, "maskedFill", [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let k = 0; k < g.length; k++) if (m[k] === 0) gx[k] += g[k];
  });
}

import { invalid, sameShape, sizeOf } from "../autograd/shape.js";

/** NumPy broadcasting: the output shape of two inputs and the index maps that expand or reduce them. */

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
export type IndexMap =
  | { kind: "same" }
  | { kind: "scalar" }
  | { kind: "repeat"; period: number }
  | { kind: "table"; index: Int32Array };

export function indexMap(shape: readonly number[], outShape: readonly number[]): IndexMap {
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
export function stridedOffsets(
  shape: readonly number[],
  strides: readonly number[],
  dims: number,
  count: number,
): Int32Array {
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

export function gather(data: Float32Array, map: IndexMap, total: number): Float32Array {
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
export function scatterAdd(dst: Float32Array, g: Float32Array, map: IndexMap): void {
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

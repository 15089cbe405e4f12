import { gradOf, record } from "../autograd/graph.js";
import { invalid } from "../autograd/shape.js";
import { Tensor } from "../autograd/Tensor.js";
import { gemm } from "../kernels/matmul.js";

/**
 * 2-D convolution and its transpose over NCHW images, lowered onto the engine's GEMM
 * kernel by im2col (Chellapilla et al. 2006): every output position's receptive field is
 * copied out as one row of a [N·Ho·Wo, C·k·k] matrix, so the whole batch's convolution
 * is one tall matrix product with the [O, C·k·k] filter matrix, and its backward is two
 * more. col2im is im2col's adjoint: it adds each row back where it was read from.
 *
 * The transposed convolution is exactly the convolution's input gradient run forwards,
 * so the two share the same three products with their roles swapped.
 */

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
}

/** Geometry of a convolution of an H×W input with a k×k kernel. */
interface ConvGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  k: number;
  stride: number;
  padding: number;
  Ho: number;
  Wo: number;
}

function geometry(
  N: number,
  C: number,
  H: number,
  W: number,
  k: number,
  stride: number,
  padding: number,
  what: string,
): ConvGeometry {
  if (!(Number.isInteger(stride) && stride >= 1 && Number.isInteger(padding) && padding >= 0)) {
    throw invalid(`${what}: stride must be an integer ≥ 1 and padding ≥ 0, got ${stride} and ${padding}`);
  }
  const Ho = Math.floor((H + 2 * padding - k) / stride) + 1;
  const Wo = Math.floor((W + 2 * padding - k) / stride) + 1;
  if (Ho < 1 || Wo < 1)
    throw invalid(`${what}: a ${k}×${k} kernel does not fit a ${H}×${W} input with padding ${padding}`);
  return { N, C, H, W, k, stride, padding, Ho, Wo };
}

/** x [N, C, H, W] → cols [N·Ho·Wo, C·k·k]; positions in the padding read as 0. */
function im2col(x: Float32Array, g: ConvGeometry): Float32Array {
  const { N, C, H, W, k, stride, padding, Ho, Wo } = g;
  const ckk = C * k * k;
  const cols = new Float32Array(N * Ho * Wo * ckk);
  let row = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++, row++) {
        const base = row * ckk;
        for (let c = 0; c < C; c++) {
          const plane = (n * C + c) * H * W;
          for (let i = 0; i < k; i++) {
            const h = oh * stride - padding + i;
            const dst = base + (c * k + i) * k;
            if (h < 0 || h >= H) continue;
            const line = plane + h * W;
            for (let j = 0; j < k; j++) {
              const w = ow * stride - padding + j;
              if (w >= 0 && w < W) cols[dst + j] = x[line + w];
            }
          }
        }
      }
    }
  }
  return cols;
}

/** The adjoint of im2col: adds cols [N·Ho·Wo, C·k·k] into x [N, C, H, W]. */
function col2im(cols: Float32Array, g: ConvGeometry, x: Float32Array): void {
  const { N, C, H, W, k, stride, padding, Ho, Wo } = g;
  const ckk = C * k * k;
  let row = 0;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < Ho; oh++) {
      for (let ow = 0; ow < Wo; ow++, row++) {
        const base = row * ckk;
        for (let c = 0; c < C; c++) {
          const plane = (n * C + c) * H * W;
          for (let i = 0; i < k; i++) {
            const h = oh * stride - padding + i;
            if (h < 0 || h >= H) continue;
            const src = base + (c * k + i) * k;
            const line = plane + h * W;
            for (let j = 0; j < k; j++) {
              const w = ow * stride - padding + j;
              if (w >= 0 && w < W) x[line + w] += cols[src + j];
            }
          }
        }
      }
    }
  }
}

/** [N·P, O] (rows = positions) ↔ [N, O, P] (channel planes). */
function rowsToPlanes(rows: Float32Array, N: number, P: number, O: number, bias?: Float32Array): Float32Array {
  const out = new Float32Array(N * O * P);
  for (let n = 0; n < N; n++) {
    for (let p = 0; p < P; p++) {
      const src = (n * P + p) * O;
      for (let o = 0; o < O; o++) out[(n * O + o) * P + p] = rows[src + o] + (bias ? bias[o] : 0);
    }
  }
  return out;
}

function planesToRows(planes: Float32Array, N: number, P: number, O: number): Float32Array {
  const out = new Float32Array(N * P * O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const src = (n * O + o) * P;
      for (let p = 0; p < P; p++) out[(n * P + p) * O + o] = planes[src + p];
    }
  }
  return out;
}

/** C[M, N] (+)= op(A) · op(B), one GEMM. */
function mm(
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  overwrite = false,
): void {
  gemm({ a, b, c, batch: 1, M, N, K, transA, transB, strideA: 0, strideB: 0, strideC: 0, overwrite });
}

function check4d(x: Tensor, what: string): [number, number, number, number] {
  if (x.ndim !== 4) throw invalid(`${what} needs a [N, C, H, W] input, got [${x.shape}]`);
  return x.shape as [number, number, number, number];
}

function sumBias(gRows: Float32Array, rows: number, O: number, gb: Float32Array): void {
  for (let r = 0; r < rows; r++) for (let o = 0; o < O; o++) gb[o] += gRows[r * O + o];
}

/**
 * y = x ⋆ w + b: x [N, C, H, W], w [O, C, k, k], b [O] → y [N, O, Ho, Wo] with
 * Ho = ⌊(H + 2p − k)/s⌋ + 1. Forward: Y = im2col(x)·Wᵀ. Backward: dW = dYᵀ·cols,
 * db = Σ dY, dx = col2im(dY·W).
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const [N, C, H, W] = check4d(x, "conv2d");
  if (w.ndim !== 4 || w.shape[1] !== C || w.shape[2] !== w.shape[3]) {
    throw invalid(`conv2d: weight [${w.shape}] must be [out, ${C}, k, k] for input [${x.shape}]`);
  }
  const [O, , k] = w.shape;
  if (b && b.size !== O) throw invalid(`conv2d: bias has ${b.size} values, expected ${O}`);
  const g = geometry(N, C, H, W, k, opts.stride ?? 1, opts.padding ?? 0, "conv2d");
  const P = g.Ho * g.Wo;
  const rows = N * P;
  const ckk = C * k * k;
  const cols = im2col(x.data, g);
  const y = new Float32Array(rows * O);
  mm(cols, w.data, y, rows, O, ckk, false, true, true);
  const out = new Tensor(rowsToPlanes(y, N, P, O, b?.data), [N, O, g.Ho, g.Wo]);
  const parents = b ? [x, w, b] : [x, w];
  return record(out, "conv2d", parents, () => {
    const gRows = planesToRows(out.grad!, N, P, O);
    if (w.requiresGrad) mm(gRows, cols, gradOf(w), O, ckk, rows, true, false);
    if (b?.requiresGrad) sumBias(gRows, rows, O, gradOf(b));
    if (x.requiresGrad) {
      const dcols = new Float32Array(rows * ckk);
      mm(gRows, w.data, dcols, rows, ckk, O, false, false, true);
      col2im(dcols, g, gradOf(x));
    }
  });
}

/**
 * The transposed ("fractionally strided") convolution: x [N, C, H, W], w [C, O, k, k]
 * (PyTorch's layout), b [O] → y [N, O, (H−1)·s − 2p + k, …]. It scatters each input
 * pixel times the kernel into the output, i.e. y = col2im(X·W) with X the input as
 * [N·H·W, C] rows: the input gradient of a stride-s conv2d. Backward: cols = im2col(dy),
 * dx = cols·Wᵀ, dW = Xᵀ·cols.
 */
export function convTranspose2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const [N, C, H, W] = check4d(x, "convTranspose2d");
  if (w.ndim !== 4 || w.shape[0] !== C || w.shape[2] !== w.shape[3]) {
    throw invalid(`convTranspose2d: weight [${w.shape}] must be [${C}, out, k, k] for input [${x.shape}]`);
  }
  const [, O, k] = w.shape;
  if (b && b.size !== O) throw invalid(`convTranspose2d: bias has ${b.size} values, expected ${O}`);
  const stride = opts.stride ?? 1;
  const padding = opts.padding ?? 0;
  const Hy = (H - 1) * stride - 2 * padding + k;
  const Wy = (W - 1) * stride - 2 * padding + k;
  if (Hy < 1 || Wy < 1) throw invalid(`convTranspose2d: output ${Hy}×${Wy} is empty`);
  // The conv2d this transposes: from the output y (Hy×Wy, O channels) back to x (H×W).
  const g = geometry(N, O, Hy, Wy, k, stride, padding, "convTranspose2d");
  if (g.Ho !== H || g.Wo !== W) throw invalid("convTranspose2d: inconsistent geometry");
  const P = H * W;
  const rows = N * P;
  const okk = O * k * k;
  const xRows = planesToRows(x.data, N, P, C);
  const cols = new Float32Array(rows * okk);
  mm(xRows, w.data, cols, rows, okk, C, false, false, true);
  const y = new Float32Array(N * O * Hy * Wy);
  col2im(cols, g, y);
  if (b) {
    const plane = Hy * Wy;
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++) {
        const off = (n * O + o) * plane;
        for (let q = 0; q < plane; q++) y[off + q] += b.data[o];
      }
  }
  const out = new Tensor(y, [N, O, Hy, Wy]);
  const parents = b ? [x, w, b] : [x, w];
  return record(out, "convTranspose2d", parents, () => {
    const gy = out.grad!;
    const gcols = im2col(gy, g);
    if (w.requiresGrad) mm(xRows, gcols, gradOf(w), C, okk, rows, true, false);
    if (x.requiresGrad) {
      const dxRows = new Float32Array(rows * C);
      mm(gcols, w.data, dxRows, rows, C, okk, false, true, true);
      const gx = gradOf(x);
      const planes = rowsToPlanes(dxRows, N, P, C);
      for (let i = 0; i < gx.length; i++) gx[i] += planes[i];
    }
    if (b?.requiresGrad) {
      const gb = gradOf(b);
      const plane = Hy * Wy;
      for (let n = 0; n < N; n++)
        for (let o = 0; o < O; o++) {
          const off = (n * O + o) * plane;
          let s = 0;
          for (let q = 0; q < plane; q++) s += gy[off + q];
          gb[o] += s;
        }
    }
  });
}

/** Max over non-overlapping k×k windows (stride k): [N, C, H, W] → [N, C, ⌊H/k⌋, ⌊W/k⌋]. The gradient goes to each window's maximum. */
export function maxPool2d(x: Tensor, k = 2): Tensor {
  const [N, C, H, W] = check4d(x, "maxPool2d");
  const Ho = Math.floor(H / k);
  const Wo = Math.floor(W / k);
  if (Ho < 1 || Wo < 1) throw invalid(`maxPool2d: a ${k}×${k} window does not fit [${x.shape}]`);
  const o = new Float32Array(N * C * Ho * Wo);
  const arg = new Int32Array(o.length);
  const xd = x.data;
  let idx = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const plane = nc * H * W;
    for (let oh = 0; oh < Ho; oh++)
      for (let ow = 0; ow < Wo; ow++, idx++) {
        let best = plane + oh * k * W + ow * k;
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++) {
            const at = plane + (oh * k + i) * W + ow * k + j;
            if (xd[at] > xd[best]) best = at;
          }
        arg[idx] = best;
        o[idx] = xd[best];
      }
  }
  const out = new Tensor(o, [N, C, Ho, Wo]);
  return record(out, "maxPool2d", [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let i = 0; i < g.length; i++) gx[arg[i]] += g[i];
  });
}

/** Nearest-neighbour upsampling by an integer factor: each pixel becomes an f×f block. */
export function upsampleNearest2d(x: Tensor, f = 2): Tensor {
  const [N, C, H, W] = check4d(x, "upsampleNearest2d");
  if (!(Number.isInteger(f) && f >= 1)) throw invalid(`upsampleNearest2d: factor must be an integer ≥ 1, got ${f}`);
  const Ho = H * f;
  const Wo = W * f;
  const o = new Float32Array(N * C * Ho * Wo);
  const xd = x.data;
  for (let nc = 0; nc < N * C; nc++)
    for (let h = 0; h < Ho; h++) {
      const src = nc * H * W + Math.floor(h / f) * W;
      const dst = (nc * Ho + h) * Wo;
      for (let w = 0; w < Wo; w++) o[dst + w] = xd[src + Math.floor(w / f)];
    }
  const out = new Tensor(o, [N, C, Ho, Wo]);
  return record(out, "upsampleNearest2d", [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let nc = 0; nc < N * C; nc++)
      for (let h = 0; h < Ho; h++) {
        const dst = nc * H * W + Math.floor(h / f) * W;
        const src = (nc * Ho + h) * Wo;
        for (let w = 0; w < Wo; w++) gx[dst + Math.floor(w / f)] += g[src + w];
      }
  });
}

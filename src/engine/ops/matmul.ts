import { gradOf, record } from "../autograd/graph.js";
import { invalid, sameShape, sizeOf } from "../autograd/shape.js";
import { Tensor } from "../autograd/Tensor.js";
import { gemm } from "../kernels/matmul.js";

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

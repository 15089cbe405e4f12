/** Rows [i0, i1) of C[M,N] += op(A)·op(B); see matmulKernel.mjs. */
export function gemmRows(
  a: Float32Array,
  aOff: number,
  b: Float32Array,
  bOff: number,
  c: Float32Array,
  cOff: number,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  i0: number,
  i1: number,
): void;

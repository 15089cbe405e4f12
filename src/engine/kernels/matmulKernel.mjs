// The GEMM kernel, in plain JavaScript so that the main thread (through
// matmul.ts) and the pool's worker threads (matmulWorker.mjs, which runs
// without a TypeScript loader) share one implementation.
//
// gemmRows computes rows [i0, i1) of  C[M,N] += op(A)·op(B)  where
//   op(A)[i,k] = transA ? A[k*M + i] : A[i*K + k]
//   op(B)[k,j] = transB ? B[j*K + k] : B[k*N + j]
// so the three products backward needs (A·B, A·Bᵀ, Aᵀ·B) read their operands
// in place. The inner block keeps a 4×4 tile of C in 16 local variables: each
// k step loads 4 values of A and 4 of B and does 16 multiply-adds, instead of
// one load/store of C per multiply-add in a naive i-k-j loop. Rows split
// across threads; every thread streams all of B, which stays in L2 at the
// sizes a small transformer uses.

/**
 * @param {Float32Array} a @param {number} aOff
 * @param {Float32Array} b @param {number} bOff
 * @param {Float32Array} c @param {number} cOff
 * @param {number} M @param {number} N @param {number} K
 * @param {boolean} transA @param {boolean} transB
 * @param {number} i0 @param {number} i1
 */
// biome-ignore format: the 4×4 tile reads best laid out as a grid
export function gemmRows(a, aOff, b, bOff, c, cOff, M, N, K, transA, transB, i0, i1) {
  const sai = transA ? 1 : K; // step in A to the next row of op(A)
  const sak = transA ? M : 1; // step in A to the next k
  const sbk = transB ? 1 : N; // step in B to the next k
  const sbj = transB ? K : 1; // step in B to the next column of op(B)
  const N4 = N & ~3;
  let i = i0;
  for (; i + 4 <= i1; i += 4) {
    const ra = aOff + i * sai;
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let pa = ra;
      let pb = bOff + j * sbj;
      for (let k = 0; k < K; k++, pa += sak, pb += sbk) {
        const x0 = a[pa], x1 = a[pa + sai], x2 = a[pa + 2 * sai], x3 = a[pa + 3 * sai];
        const b0 = b[pb], b1 = b[pb + sbj], b2 = b[pb + 2 * sbj], b3 = b[pb + 3 * sbj];
        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
        c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
        c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
      }
      let o = cOff + i * N + j;
      c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03; o += N;
      c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13; o += N;
      c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23; o += N;
      c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33;
    }
    if (N4 < N) edge(a, b, c, aOff, bOff, cOff, N, K, sai, sak, sbk, sbj, i, i + 4, N4, N);
  }
  if (i < i1) edge(a, b, c, aOff, bOff, cOff, N, K, sai, sak, sbk, sbj, i, i1, 0, N);
}

/**
 * Rows [i0, i1) × columns [j0, j1) one row at a time: the ragged edges of C,
 * and all of it when op(A) has fewer than 4 rows (a single decoding step).
 * Four columns at a time keep four independent sums in flight, which a
 * single running sum (one add waiting on the previous) cannot.
 */
function edge(a, b, c, aOff, bOff, cOff, N, K, sai, sak, sbk, sbj, i0, i1, j0, j1) {
  for (let i = i0; i < i1; i++) {
    const ra = aOff + i * sai;
    const rc = cOff + i * N;
    let j = j0;
    for (; j + 4 <= j1; j += 4) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let pa = ra;
      let pb = bOff + j * sbj;
      for (let k = 0; k < K; k++, pa += sak, pb += sbk) {
        const x = a[pa];
        s0 += x * b[pb];
        s1 += x * b[pb + sbj];
        s2 += x * b[pb + 2 * sbj];
        s3 += x * b[pb + 3 * sbj];
      }
      c[rc + j] += s0;
      c[rc + j + 1] += s1;
      c[rc + j + 2] += s2;
      c[rc + j + 3] += s3;
    }
    for (; j < j1; j++) {
      let s = 0;
      let pa = ra;
      let pb = bOff + j * sbj;
      for (let k = 0; k < K; k++, pa += sak, pb += sbk) s += a[pa] * b[pb];
      c[rc + j] += s;
    }
  }
}

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  type GemmJob,
  gemm,
  gemmJS,
  getMatmulThreads,
  matmulKernelName,
  matmulPoolStats,
  setMatmulThreads,
} from "../../src/engine/kernels/matmul.js";
import { seededRandom } from "../../src/engine/random.js";
import { TS_NODE_FLAGS } from "../helpers/tsNode.js";

const rng = seededRandom(17);
const rand = (n: number) => Float32Array.from({ length: n }, () => rng() * 2 - 1);

/** Float64 reference for C = op(A)·op(B) per batch entry. */
function reference(job: GemmJob): Float64Array {
  const { a, b, batch, M, N, K, transA, transB, strideA, strideB, strideC } = job;
  const c = new Float64Array(batch * strideC);
  for (let p = 0; p < batch; p++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = transA ? a[p * strideA + k * M + i] : a[p * strideA + i * K + k];
          const bv = transB ? b[p * strideB + j * K + k] : b[p * strideB + k * N + j];
          s += av * bv;
        }
        c[p * strideC + i * N + j] = s;
      }
  return c;
}

function job(
  batch: number,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  sharedB: boolean,
): GemmJob {
  return {
    a: rand(batch * M * K),
    b: rand((sharedB ? 1 : batch) * K * N),
    c: new Float32Array(batch * M * N),
    batch,
    M,
    N,
    K,
    transA,
    transB,
    strideA: M * K,
    strideB: sharedB ? 0 : K * N,
    strideC: M * N,
  };
}

function maxDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
  return d;
}

describe("matmul kernels", () => {
  const prev = getMatmulThreads();
  afterAll(() => setMatmulThreads(prev));

  it("JS and wasm kernels match float64 for every transpose, ragged shapes and batches", () => {
    for (const [batch, M, N, K] of [
      [1, 1, 1, 1],
      [1, 7, 5, 3],
      [1, 33, 17, 9],
      [3, 13, 70, 21],
      [2, 64, 40, 64],
    ])
      for (const transA of [false, true])
        for (const transB of [false, true])
          for (const sharedB of [false, true]) {
            const j = job(batch, M, N, K, transA, transB, sharedB);
            const want = reference(j);
            gemmJS(j);
            expect(maxDiff(j.c, want)).toBeLessThan(1e-4 * K);
            j.c.fill(0);
            setMatmulThreads(1);
            gemm(j); // ≥ 16k multiply-adds go through wasm
            expect(maxDiff(j.c, want)).toBeLessThan(1e-4 * K);
            // overwrite replaces whatever C held, on both kernels
            for (const run of [gemmJS, gemm]) {
              j.c.fill(7);
              run({ ...j, overwrite: true });
              expect(maxDiff(j.c, want)).toBeLessThan(1e-4 * K);
            }
          }
  });

  it("uses the fused multiply-add kernel on this runtime, and the unfused one when told to", () => {
    // Node 20's V8 validates relaxed SIMD once its flag is set; newer V8 ships it.
    expect(matmulKernelName()).toBe("wasm-fma");
    const root = fileURLToPath(new URL("../..", import.meta.url));
    const script = `
      import { gemm, matmulKernelName } from "./src/engine/kernels/matmul.ts";
      const M = 37, N = 29, K = 50;
      const a = Float32Array.from({ length: M * K }, (_, i) => ((i * 7) % 11) - 5);
      const b = Float32Array.from({ length: K * N }, (_, i) => ((i * 5) % 13) - 6);
      const c = new Float32Array(M * N);
      gemm({ a, b, c, batch: 1, M, N, K, transA: false, transB: false, strideA: 0, strideB: 0, strideC: 0 });
      let bad = 0;
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * N + j];
        if (s !== c[i * N + j]) bad++;
      }
      console.log(matmulKernelName(), bad);`;
    const out = execFileSync(process.execPath, [...TS_NODE_FLAGS, "--input-type=module", "-e", script], {
      cwd: root,
      env: { ...process.env, GENERA_MATMUL_FMA: "0" },
      encoding: "utf8",
    });
    // Small integers: every partial sum is exact, so any layout slip shows as a mismatch.
    expect(out.trim()).toBe("wasm 0");
  });

  it("accumulates into C (backward adds into existing gradients)", () => {
    const j = job(1, 40, 24, 32, false, false, true);
    j.c.fill(1);
    gemm(j);
    const want = reference(j);
    expect(
      maxDiff(
        j.c,
        Array.from(want, (v) => v + 1),
      ),
    ).toBeLessThan(1e-3);
  });

  // Shapes above the pool's 4M multiply-add threshold, ragged and transposed.
  it("the worker pool gives exactly the single-thread result", async () => {
    for (const [batch, M, N, K, tA, tB, shared] of [
      [1, 256, 256, 64, false, false, true],
      [1, 160, 136, 200, true, false, true],
      [8, 64, 72, 128, false, true, false],
    ] as const) {
      const j = job(batch, M, N, K, tA, tB, shared);
      setMatmulThreads(1);
      gemm(j);
      const single = j.c.slice();
      j.c.fill(0);
      setMatmulThreads(3);
      // Repeat: the first calls may run before the workers are up; later ones use them.
      for (let r = 0; r < 3; r++) {
        j.c.fill(0);
        gemm(j);
        expect(Array.from(j.c)).toEqual(Array.from(single));
        j.c.fill(-1);
        gemm({ ...j, overwrite: true });
        expect(Array.from(j.c)).toEqual(Array.from(single));
      }
    }
    // The workers really took part (given a moment to start on a busy machine).
    const j = job(1, 256, 256, 256, false, false, true);
    const want = reference(j);
    for (let tries = 0; tries < 250 && matmulPoolStats().workerBlocks === 0; tries++) {
      await new Promise((r) => setTimeout(r, 20));
      j.c.fill(0);
      gemm(j);
      expect(maxDiff(j.c, want)).toBeLessThan(1e-3);
    }
    expect(matmulPoolStats()).toMatchObject({ threads: 3, workers: 2 });
    expect(matmulPoolStats().workerBlocks).toBeGreaterThan(0);
  });
});

import { gemmJS, instantiateGemmKernel, packPanels, type WasmKernel } from "./matmul.js";
import { PANEL, ROWS } from "./matmulWasm.js";

/** A weight matrix (K×N) held by a PackedGemm. */
export interface PackedMatrix {
  readonly K: number;
  readonly N: number;
  /** Where its panels start in the kernel's memory (floats); -1 on the JS fallback. */
  readonly offset: number;
  /** The matrix as given, kept only for the JS fallback. */
  readonly plain?: Float32Array;
}

const ceil = (n: number, m: number) => Math.ceil(n / m) * m;

/**
 * Inference with fixed weights: each weight matrix is packed into the SIMD
 * kernel's panel layout once and stays in this object's own wasm memory, so a
 * product costs the multiply and the copy of the (small) activations, not a
 * repack of megabytes of weights per call as gemm() must do for operands it
 * has never seen. Single-threaded: callers that want every core run one per
 * worker thread. Without wasm SIMD it falls back to the scalar JS kernel.
 */
export class PackedGemm {
  private readonly kernel: WasmKernel | null;
  /** End of the packed weights (floats); scratch for activations starts here. */
  private weightsEnd = 0;

  constructor() {
    this.kernel = instantiateGemmKernel(1);
  }

  /** Keeps op(B) (B is K×N, or N×K when transB) for later products. */
  pack(b: Float32Array, K: number, N: number, transB = false): PackedMatrix {
    if (b.length !== K * N) throw new RangeError(`pack: expected ${K}×${N} = ${K * N} floats, got ${b.length}`);
    if (!this.kernel) {
      const plain = new Float32Array(K * N);
      if (transB) for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) plain[k * N + n] = b[n * K + k] as number;
      else plain.set(b);
      return { K, N, offset: -1, plain };
    }
    const offset = this.weightsEnd;
    this.weightsEnd = ceil(offset + K * ceil(N, PANEL), 4);
    packPanels(b, 0, K, N, transB, this.heap(this.weightsEnd), offset);
    return { K, N, offset };
  }

  /** out = a·W (+ bias on every row): a is M×K row-major, out M×N. */
  matmul(a: Float32Array, M: number, w: PackedMatrix, bias?: Float32Array, out?: Float32Array): Float32Array {
    const { K, N } = w;
    const result = out ?? new Float32Array(M * N);
    if (a.length < M * K) throw new RangeError(`matmul: a holds ${a.length} floats, ${M}×${K} needed`);
    if (M > 0) {
      if (this.kernel && w.offset >= 0) this.run(a, M, w, result);
      else {
        const b = w.plain as Float32Array;
        gemmJS({
          a,
          b,
          c: result,
          batch: 1,
          M,
          N,
          K,
          transA: false,
          transB: false,
          strideA: 0,
          strideB: 0,
          strideC: 0,
          overwrite: true,
        });
      }
    }
    if (bias) {
      for (let i = 0; i < M; i++)
        for (let j = 0, o = i * N; j < N; j++, o++) result[o] = (result[o] as number) + (bias[j] as number);
    }
    return result;
  }

  private run(a: Float32Array, M: number, w: PackedMatrix, out: Float32Array): void {
    const { K, N, offset } = w;
    const kernel = this.kernel as WasmKernel;
    const Mp = ceil(M, ROWS);
    const Np = ceil(N, PANEL);
    // A, then ROWS·K floats the kernel may read past M (rows whose results are dropped), then C.
    const aBase = this.weightsEnd;
    const cBase = ceil(aBase + (Mp + 1) * K, 4);
    const heap = this.heap(cBase + Mp * Np);
    heap.set(a.subarray(0, M * K), aBase);
    kernel.gemm[1](aBase * 4, offset * 4, cBase * 4, K, Np, 0, Mp, K * 4, 4);
    if (Np === N) out.set(heap.subarray(cBase, cBase + M * N));
    else for (let i = 0; i < M; i++) out.set(heap.subarray(cBase + i * Np, cBase + i * Np + N), i * N);
  }

  /** The kernel's memory as floats, grown to hold `floats`. */
  private heap(floats: number): Float32Array {
    const memory = (this.kernel as WasmKernel).memory;
    const have = memory.buffer.byteLength;
    if (floats * 4 > have) memory.grow(Math.ceil((floats * 4 - have) / 65536));
    return new Float32Array(memory.buffer);
  }
}

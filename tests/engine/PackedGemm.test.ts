import { describe, expect, it } from "vitest";
import { gemmJS } from "../../src/engine/kernels/matmul.js";
import { PackedGemm } from "../../src/engine/kernels/PackedGemm.js";

/** Small integers: every product and sum is exact in float32, so results must agree bit for bit. */
const ints = (n: number, seed: number) =>
  Float32Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % 9) - 4);

function reference(a: Float32Array, b: Float32Array, M: number, K: number, N: number, transB: boolean): Float32Array {
  const c = new Float32Array(M * N);
  gemmJS({ a, b, c, batch: 1, M, N, K, transA: false, transB, strideA: 0, strideB: 0, strideC: 0, overwrite: true });
  return c;
}

describe("PackedGemm", () => {
  it("multiplies by packed weights exactly, for any M, N, layout and packing order", () => {
    const kernel = new PackedGemm();
    const shapes: Array<[number, number, number, boolean]> = [
      [1, 3, 5, false],
      [7, 64, 24, false],
      [13, 33, 17, true],
      [70, 512, 40, false],
      [4, 8, 8, true],
    ];
    const packed = shapes.map(([, K, N, transB], s) => ({
      b: ints(K * N, s),
      w: kernel.pack(ints(K * N, s), K, N, transB),
    }));
    // Products after all packing, and interleaved: the scratch space must never touch the weights.
    for (let round = 0; round < 2; round++) {
      shapes.forEach(([M, K, N, transB], s) => {
        const a = ints(M * K, s + 10 + round);
        const { b, w } = packed[s] as (typeof packed)[number];
        expect(Array.from(kernel.matmul(a, M, w))).toEqual(Array.from(reference(a, b, M, K, N, transB)));
      });
    }
  });

  it("adds a bias to every row and writes into a given array", () => {
    const kernel = new PackedGemm();
    const w = kernel.pack(ints(6 * 10, 1), 6, 10);
    const a = ints(3 * 6, 2);
    const bias = Float32Array.from({ length: 10 }, (_, j) => j);
    const out = new Float32Array(30);
    expect(kernel.matmul(a, 3, w, bias, out)).toBe(out);
    const plain = reference(a, ints(60, 1), 3, 6, 10, false);
    expect(Array.from(out)).toEqual(Array.from(plain, (v, i) => v + (i % 10)));
  });

  it("rejects a weight array of the wrong size", () => {
    expect(() => new PackedGemm().pack(new Float32Array(5), 2, 3)).toThrow(/2×3/);
  });
});

import { describe, expect, it } from "vitest";
import { crossEntropy, dropout, gelu, layerNorm, matmul, noGrad, Tensor } from "../../src/engine/ops/index.js";
import { seededRandom } from "../../src/engine/random.js";

describe("op values", () => {
  it("gelu is the GPT-2 tanh approximation, within 1e-3 of x·Φ(x)", () => {
    const xs = [-4, -1.5, -0.3, 0, 0.2, 1, 2.5, 6];
    const y = gelu(Tensor.fromArray(xs)).data;
    // Φ via a high-accuracy erf (Abramowitz–Stegun 7.1.26 is too coarse; use a series).
    const erf = (x: number) => {
      let s = 0;
      let term = x;
      for (let n = 0; n < 60; n++) {
        s += term / (2 * n + 1);
        term *= (-x * x) / (n + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * s;
    };
    xs.forEach((x, i) => {
      const approx = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
      expect(y[i]).toBeCloseTo(approx, 5);
      expect(Math.abs(y[i] - x * 0.5 * (1 + erf(x / Math.SQRT2)))).toBeLessThan(1e-3);
    });
  });

  it("cross-entropy equals −log softmax at the target, averaged over counted rows", () => {
    const logits = Tensor.fromArray([
      [1, 2, 3],
      [0, 0, 0],
      [5, -1, 2],
    ]);
    const t = Int32Array.from([2, -100, 0]);
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    const want = (lse([1, 2, 3]) - 3 + lse([5, -1, 2]) - 5) / 2;
    expect(crossEntropy(logits, t).item()).toBeCloseTo(want, 5);
    expect(() => crossEntropy(logits, Int32Array.from([3, 0, 0]))).toThrow(/outside the vocabulary/);
  });

  it("label smoothing ε: the loss against (1 − ε)·onehot + ε/V, its gradient softmax − that target", () => {
    const rows = [
      [1, 2, 3],
      [0, 0, 0],
      [5, -1, 2],
    ];
    const t = Int32Array.from([2, -100, 0]);
    const eps = 0.1;
    const logSoftmax = (r: number[]) => {
      const lse = Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
      return r.map((v) => v - lse);
    };
    const target = (k: number) => [0, 1, 2].map((j) => (j === k ? 1 - eps : 0) + eps / 3);
    const rowLoss = (r: number[], k: number) =>
      -logSoftmax(r).reduce((s, lp, j) => s + (target(k)[j] as number) * lp, 0);
    const want = (rowLoss(rows[0] as number[], 2) + rowLoss(rows[2] as number[], 0)) / 2;
    const logits = Tensor.fromArray(rows, [3, 3], true);
    const loss = crossEntropy(logits, t, -100, { labelSmoothing: eps });
    expect(loss.item()).toBeCloseTo(want, 5);
    // ε = 0 is plain cross-entropy.
    expect(crossEntropy(Tensor.fromArray(rows), t, -100, { labelSmoothing: 0 }).item()).toBeCloseTo(
      crossEntropy(Tensor.fromArray(rows), t).item(),
      6,
    );
    loss.backward();
    const grad = Array.from(logits.grad as Float32Array);
    for (const [r, k] of [
      [0, 2],
      [2, 0],
    ] as const) {
      const p = logSoftmax(rows[r] as number[]).map(Math.exp);
      for (let j = 0; j < 3; j++)
        expect(grad[r * 3 + j]).toBeCloseTo(((p[j] as number) - (target(k)[j] as number)) / 2, 5);
    }
    expect(grad.slice(3, 6)).toEqual([0, 0, 0]);
    for (const bad of [-0.1, 1, Number.NaN]) {
      expect(() => crossEntropy(Tensor.fromArray(rows), t, -100, { labelSmoothing: bad })).toThrow(/labelSmoothing/);
    }
  });

  it("layer norm output has zero mean and unit variance per row", () => {
    const x = Tensor.randn([4, 32], 3, seededRandom(1));
    const y = layerNorm(x, Tensor.ones([32]), Tensor.zeros([32])).data;
    for (let r = 0; r < 4; r++) {
      const row = Array.from(y.subarray(r * 32, r * 32 + 32));
      const mu = row.reduce((s, v) => s + v, 0) / 32;
      const v = row.reduce((s, u) => s + (u - mu) ** 2, 0) / 32;
      expect(Math.abs(mu)).toBeLessThan(1e-5);
      expect(v).toBeCloseTo(1, 3);
    }
  });

  it("dropout zeroes about p of the values, scales the rest by 1/(1−p), is the identity in eval, repeats by seed", () => {
    const x = Tensor.ones([10000]);
    const y = dropout(x, 0.25, true, seededRandom(3)).data;
    const zeros = y.filter((v) => v === 0).length;
    expect(zeros / 10000).toBeGreaterThan(0.22);
    expect(zeros / 10000).toBeLessThan(0.28);
    expect(y.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    expect(dropout(x, 0.25, false, seededRandom(3))).toBe(x);
    expect(Array.from(dropout(x, 0.25, true, seededRandom(3)).data)).toEqual(Array.from(y));
  });

  it("noGrad builds no graph; grads accumulate across backward calls until zeroGrad", () => {
    const w = Tensor.fromArray([[2]], undefined, true);
    const x = Tensor.fromArray([[3]]);
    expect(noGrad(() => matmul(x, w)).requiresGrad).toBe(false);
    matmul(x, w).sum().backward();
    matmul(x, w).sum().backward();
    expect(w.grad![0]).toBe(6);
    w.zeroGrad();
    expect(w.grad![0]).toBe(0);
  });

  it("rejects malformed tensors and shapes with a named reason", () => {
    expect(() => new Tensor(new Float32Array(3), [2, 2])).toThrow(/3 values/);
    expect(() => Tensor.zeros([2, 3]).add(Tensor.zeros([4]))).toThrow(/do not broadcast/);
    expect(() => matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 2]))).toThrow(/inner dims/);
    expect(() => Tensor.zeros([2, 3]).reshape([4, 2])).toThrow(/cannot reshape/);
    expect(() => Tensor.zeros([2, 3]).backward()).toThrow(/scalar/);
  });
});

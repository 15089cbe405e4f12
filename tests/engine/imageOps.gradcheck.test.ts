import { describe, expect, it } from "vitest";
import { Conv2d, ConvTranspose2d, GroupNorm } from "../../src/engine/layers/index.js";
import {
  binaryCrossEntropyWithLogits,
  conv2d,
  convTranspose2d,
  gaussianKL,
  groupNorm,
  leakyRelu,
  maxPool2d,
  mseLoss,
  noGrad,
  sigmoid,
  silu,
  Tensor,
  upsampleNearest2d,
} from "../../src/engine/ops/index.js";
import { seededRandom } from "../../src/engine/random.js";
import { gradcheck } from "./gradcheck.js";

const rng = seededRandom(7);
const rand = (shape: number[], std = 1) => Tensor.randn(shape, std, rng, true);

/** Direct definition of a 2-D convolution (no im2col), the reference the fast op must match. */
function naiveConv(x: Tensor, w: Tensor, b: Tensor | null, stride: number, pad: number): Float32Array {
  const [N, C, H, W] = x.shape;
  const [O, , k] = w.shape;
  const Ho = Math.floor((H + 2 * pad - k) / stride) + 1;
  const Wo = Math.floor((W + 2 * pad - k) / stride) + 1;
  const out = new Float32Array(N * O * Ho * Wo);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          let s = b ? b.data[o] : 0;
          for (let c = 0; c < C; c++)
            for (let u = 0; u < k; u++)
              for (let v = 0; v < k; v++) {
                const h = i * stride - pad + u;
                const ww = j * stride - pad + v;
                if (h >= 0 && h < H && ww >= 0 && ww < W)
                  s += x.data[((n * C + c) * H + h) * W + ww] * w.data[((o * C + c) * k + u) * k + v];
              }
          out[((n * O + o) * Ho + i) * Wo + j] = s;
        }
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("image ops: values", () => {
  it("conv2d matches the direct definition for strides, padding and shapes", () => {
    for (const [shape, O, k, stride, pad] of [
      [[2, 3, 7, 6], 4, 3, 1, 1],
      [[1, 2, 8, 8], 3, 4, 2, 1],
      [[3, 1, 5, 5], 2, 5, 1, 0],
      [[2, 16, 14, 14], 32, 3, 1, 1], // large enough for the wasm kernel
    ] as const) {
      const x = rand([...shape]);
      const w = rand([O, shape[1], k, k]);
      const b = rand([O]);
      const y = noGrad(() => conv2d(x, w, b, { stride, padding: pad }));
      expect(maxAbsDiff(y.data, naiveConv(x, w, b, stride, pad))).toBeLessThan(1e-4);
    }
  });

  it("convTranspose2d is the adjoint of conv2d: <conv(x), y> = <x, convT(y)>", () => {
    const x = rand([2, 3, 8, 8]);
    const w = rand([4, 3, 4, 4]);
    const y = conv2d(x, w, null, { stride: 2, padding: 1 });
    expect(y.shape).toEqual([2, 4, 4, 4]);
    const r = rand(y.shape);
    // convTranspose2d takes w as [in, out, k, k]: the conv's [out, in] read the other way.
    const xt = convTranspose2d(r, w, null, { stride: 2, padding: 1 });
    expect(xt.shape).toEqual([2, 3, 8, 8]);
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < y.size; i++) lhs += y.data[i] * r.data[i];
    for (let i = 0; i < x.size; i++) rhs += x.data[i] * xt.data[i];
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-3 * Math.abs(lhs) + 1e-3);
  });

  it("pools, upsamples, and computes BCE, KL and sigmoid-family values", () => {
    const x = Tensor.fromArray([1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 2, 9, 1, 3, 3], [1, 1, 4, 4]);
    expect(Array.from(maxPool2d(x).data)).toEqual([5, 8, 9, 3]);
    expect(Array.from(upsampleNearest2d(Tensor.fromArray([1, 2], [1, 1, 1, 2])).data)).toEqual([
      1, 1, 2, 2, 1, 1, 2, 2,
    ]);
    const bce = binaryCrossEntropyWithLogits(Tensor.fromArray([0, 100, -100]), Float32Array.of(1, 1, 0), "sum");
    expect(bce.item()).toBeCloseTo(Math.log(2), 5); // the ±100 logits are right and cost ~0
    expect(gaussianKL(Tensor.fromArray([0, 0]), Tensor.fromArray([0, 0])).item()).toBe(0);
    expect(gaussianKL(Tensor.fromArray([1]), Tensor.fromArray([0])).item()).toBeCloseTo(0.5, 6);
    expect(sigmoid(Tensor.fromArray([0, 800, -800])).data).toEqual(Float32Array.of(0.5, 1, 0));
    expect(silu(Tensor.fromArray([0])).item()).toBe(0);
    expect(Array.from(leakyRelu(Tensor.fromArray([-2, 3]), 0.2).data)).toEqual([-0.4000000059604645, 3]);
  });

  it("rejects shapes that do not fit", () => {
    expect(() => conv2d(rand([1, 2, 4, 4]), rand([3, 5, 3, 3]))).toThrow(/weight/);
    expect(() => conv2d(rand([1, 2, 2, 2]), rand([3, 2, 5, 5]))).toThrow(/does not fit/);
    expect(() => groupNorm(rand([2, 6, 3]), 4, rand([6]), rand([6]))).toThrow(/groups/);
  });
});

describe("gradcheck of the image ops", () => {
  it("conv2d with stride and padding, with and without bias", () => {
    gradcheck(
      ([x, w, b]) => conv2d(x, w, b, { stride: 1, padding: 1 }),
      [rand([2, 2, 5, 4]), rand([3, 2, 3, 3]), rand([3])],
    );
    gradcheck(([x, w]) => conv2d(x, w, null, { stride: 2, padding: 1 }), [rand([1, 3, 6, 6]), rand([2, 3, 4, 4])]);
  });

  it("convTranspose2d upsampling by 2", () => {
    gradcheck(
      ([x, w, b]) => convTranspose2d(x, w, b, { stride: 2, padding: 1 }),
      [rand([2, 3, 3, 3]), rand([3, 2, 4, 4]), rand([2])],
    );
    gradcheck(([x, w]) => convTranspose2d(x, w, null), [rand([1, 2, 3, 2]), rand([2, 3, 3, 3])]);
  });

  it("group norm (γ, β, x), including one group per channel and one group in all", () => {
    for (const groups of [1, 2, 4]) {
      const gamma = rand([4]);
      gradcheck(([x, g, b]) => groupNorm(x, groups, g, b), [rand([2, 4, 3, 3]), gamma, rand([4])]);
    }
  });

  it("sigmoid, SiLU, LeakyReLU, max-pool and upsampling", () => {
    gradcheck(([x]) => sigmoid(x), [rand([3, 4], 2)]);
    gradcheck(([x]) => silu(x), [rand([3, 4], 2)]);
    gradcheck(([x]) => leakyRelu(x, 0.2), [rand([3, 4], 2)]);
    gradcheck(([x]) => maxPool2d(x), [rand([2, 2, 4, 6])]);
    gradcheck(([x]) => upsampleNearest2d(x, 2), [rand([1, 2, 2, 3])]);
  });

  it("binary cross-entropy with logits, Gaussian KL, MSE", () => {
    const t = Float32Array.from({ length: 12 }, () => rng());
    gradcheck(([x]) => binaryCrossEntropyWithLogits(x, t), [rand([3, 4], 3)]);
    gradcheck(([x]) => binaryCrossEntropyWithLogits(x, 1, "sum"), [rand([5])]);
    gradcheck(([m, lv]) => gaussianKL(m, lv), [rand([2, 3]), rand([2, 3], 0.5)]);
    gradcheck(([p]) => mseLoss(p, t), [rand([12])]);
  });

  it("the layers: Conv2d → GroupNorm → SiLU → ConvTranspose2d", () => {
    const conv = new Conv2d(2, 4, 3, { rng, stride: 2, padding: 1 });
    const norm = new GroupNorm(2, 4);
    const up = new ConvTranspose2d(4, 2, 4, { rng, stride: 2, padding: 1 });
    const [x] = [rand([2, 2, 6, 6])];
    const y = up.forward(norm.forward(conv.forward(x)).silu());
    expect(y.shape).toEqual([2, 2, 6, 6]);
    gradcheck(
      ([xx, w]) => up.forward(norm.forward(conv2d(xx, w, conv.bias, { stride: 2, padding: 1 })).silu()),
      [x, conv.weight],
    );
  });
});

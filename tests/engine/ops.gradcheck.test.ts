import { describe, expect, it } from "vitest";
import {
  causalMask,
  DecoderLayer,
  DecoderOnlyBlock,
  EncoderLayer,
  paddingMask,
} from "../../src/engine/layers/index.js";
import {
  concat,
  crossEntropy,
  dropout,
  embedding,
  layerNorm,
  logSoftmax,
  matmul,
  Tensor,
} from "../../src/engine/ops/index.js";
import { seededRandom } from "../../src/engine/random.js";
import { gradcheck } from "./gradcheck.js";

const rng = seededRandom(42);
const rand = (shape: number[], std = 1) => Tensor.randn(shape, std, rng, true);
const positive = (shape: number[]) => {
  const t = rand(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = 0.5 + Math.abs(t.data[i]);
  return t;
};

describe("gradcheck of every op", () => {
  it("add / sub / mul / div with broadcasting", () => {
    for (const [sa, sb] of [
      [
        [2, 3, 4],
        [2, 3, 4],
      ],
      [[2, 3, 4], [4]],
      [
        [2, 3, 4],
        [2, 1, 4],
      ],
      [
        [3, 1],
        [1, 4],
      ],
      [[2, 3], []],
    ] as const) {
      gradcheck(([a, b]) => a.add(b), [rand([...sa]), rand([...sb])]);
      gradcheck(([a, b]) => a.sub(b), [rand([...sa]), rand([...sb])]);
      gradcheck(([a, b]) => a.mul(b), [rand([...sa]), rand([...sb])]);
      gradcheck(([a, b]) => a.div(b), [rand([...sa]), positive([...sb])]);
    }
  });

  it("matmul: 2-D, weight broadcast over a batch, batched, transposed B", () => {
    gradcheck(([a, b]) => matmul(a, b), [rand([5, 7]), rand([7, 3])]);
    gradcheck(([a, b]) => matmul(a, b), [rand([2, 3, 5, 6]), rand([6, 4])]);
    gradcheck(([a, b]) => matmul(a, b), [rand([2, 3, 5, 6]), rand([2, 3, 6, 4])]);
    gradcheck(([a, b]) => matmul(a, b, { transB: true }), [rand([2, 5, 6]), rand([4, 6])]);
    gradcheck(([a, b]) => matmul(a, b, { transB: true }), [rand([2, 5, 6]), rand([2, 9, 6])]);
  });

  it("sum and mean, over everything and over an axis", () => {
    gradcheck(([x]) => x.sum(), [rand([3, 4])]);
    gradcheck(([x]) => x.sum(1), [rand([2, 3, 4])]);
    gradcheck(([x]) => x.sum(0, true), [rand([2, 3, 4])]);
    gradcheck(([x]) => x.mean(-1), [rand([2, 3, 4])]);
    gradcheck(([x]) => x.mean(), [rand([2, 3])]);
  });

  it("reshape, transpose, permute, slice, concat", () => {
    gradcheck(([x]) => x.reshape([6, -1]), [rand([2, 3, 4])]);
    gradcheck(([x]) => x.transpose(), [rand([2, 3, 4])]);
    gradcheck(([x]) => x.permute([2, 0, 1]), [rand([2, 3, 4])]);
    gradcheck(([x]) => x.permute([0, 2, 1, 3]), [rand([2, 3, 2, 4])]); // attention's head split: contiguous runs
    gradcheck(([x]) => x.slice(1, 1, 3), [rand([2, 4, 3])]);
    gradcheck(([a, b]) => concat([a, b], 1), [rand([2, 3, 4]), rand([2, 2, 4])]);
  });

  it("exp, log, tanh, relu, gelu", () => {
    gradcheck(([x]) => x.exp(), [rand([3, 4])]);
    gradcheck(([x]) => x.log(), [positive([3, 4])]);
    gradcheck(([x]) => x.tanh(), [rand([3, 4])]);
    const r = rand([3, 4]);
    for (let i = 0; i < r.size; i++) if (Math.abs(r.data[i]) < 0.1) r.data[i] = 0.5; // away from the kink
    gradcheck(([x]) => x.relu(), [r]);
    gradcheck(([x]) => x.gelu(), [rand([4, 5], 2)]);
  });

  it("softmax and log-softmax", () => {
    gradcheck(([x]) => x.softmax(), [rand([3, 5], 2)]);
    gradcheck(([x]) => logSoftmax(x), [rand([3, 5], 2)]);
  });

  it("layer norm (x, γ, β)", () => {
    const g = rand([6]);
    const b = rand([6]);
    gradcheck(([x, gg, bb]) => layerNorm(x, gg, bb), [rand([2, 3, 6]), g, b]);
  });

  it("embedding lookup, with a repeated id", () => {
    gradcheck(([w]) => embedding(w, Int32Array.from([1, 3, 1, 0]), [2, 2]), [rand([5, 3])]);
  });

  it("dropout (same seed in every probe so the mask is fixed)", () => {
    gradcheck(([x]) => dropout(x, 0.3, true, seededRandom(5)), [rand([4, 6])]);
  });

  it("masked fill", () => {
    const mask = causalMask(4);
    gradcheck(([x]) => x.maskedFill(mask, -3), [rand([2, 4, 4])]);
  });

  it("cross-entropy with an ignored target", () => {
    const targets = Int32Array.from([2, -100, 0, 4, 1, 3]);
    gradcheck(([x]) => crossEntropy(x, targets), [rand([2, 3, 5], 2)]);
    // Mean over the 5 counted rows: the ignored row gets no gradient.
    const x = rand([6, 5]);
    crossEntropy(x, targets).backward();
    expect(Array.from(x.grad!.subarray(5, 10)).every((v) => v === 0)).toBe(true);
  });

  it("cross-entropy with label smoothing", () => {
    const targets = Int32Array.from([2, -100, 0, 4, 1, 3]);
    gradcheck(([x]) => crossEntropy(x, targets, -100, { labelSmoothing: 0.2 }), [rand([2, 3, 5], 2)]);
  });

  it("softmax of a fully masked row is zero, not NaN", () => {
    const x = new Tensor(Float32Array.of(Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY), [1, 2]);
    expect(Array.from(x.softmax().data)).toEqual([0, 0]);
  });
});

describe("gradcheck of whole transformer blocks", () => {
  const D = 8;
  const H = 2;
  it("a pre-LN GPT block with a causal mask (input and every weight)", () => {
    const block = new DecoderOnlyBlock(D, H, 16, 0, seededRandom(3), 2);
    // Larger weights than at init so every path carries a visible gradient.
    for (const p of block.parameters()) for (let i = 0; i < p.size; i++) p.data[i] += 0.3 * (rng() - 0.5);
    const x = rand([2, 3, D]);
    const mask = causalMask(3);
    gradcheck(([xx]) => block.forward(xx, mask), [x, ...block.parameters()], { samples: 6, tol: 3e-2 });
  });

  it("post-LN encoder and decoder layers with padding and causal masks", () => {
    const enc = new EncoderLayer(D, H, 16, 0, seededRandom(4));
    const dec = new DecoderLayer(D, H, 16, 0, seededRandom(5));
    for (const p of [...enc.parameters(), ...dec.parameters()])
      for (let i = 0; i < p.size; i++) p.data[i] += 0.3 * (rng() - 0.5);
    const srcMask = paddingMask(Int32Array.from([5, 6, 0, 7, 8, 9]), 2, 3, 0);
    const src = rand([2, 3, D]);
    const tgt = rand([2, 2, D]);
    gradcheck(
      ([s, t]) => dec.forward({ x: t, memory: enc.forward(s, srcMask), tgtMask: causalMask(2), srcMask }),
      [src, tgt, ...enc.parameters(), ...dec.parameters()],
      // A small step: the ReLU feed-forward has kinks that a 1e-2 step can straddle.
      { samples: 4, tol: 3e-2, eps: 1e-3 },
    );
  });
});

import { describe, expect, it } from "vitest";
import { Tensor } from "../../src/engine/ops/index.js";
import {
  BatchSampler,
  evaluationBatches,
  splitTokens,
  unigramBaseline,
  unigramEntropy,
} from "../../src/engine/training/data.js";
import { AdamW, clipGradNorm, SGD } from "../../src/engine/training/optim.js";
import { lineChartSvg, niceTicks } from "../../src/engine/training/plotSvg.js";
import { cosineWithWarmup } from "../../src/engine/training/schedule.js";

function param(values: number[], shape: number[], grad: number[]): Tensor {
  const t = new Tensor(Float32Array.from(values), shape, true);
  t.grad = Float32Array.from(grad);
  return t;
}

describe("AdamW", () => {
  it("matches a hand computation over two steps, with decoupled weight decay on matrices only", () => {
    const w = param([1, -2, 0.5, 3], [2, 2], [0.1, -0.2, 0.3, 0]);
    const b = param([0.5], [1], [1]);
    const opt = new AdamW(
      [
        ["w", w],
        ["b", b],
      ],
      { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.5 },
    );
    opt.step();
    // Step 1: m = 0.1 g, v = 0.01 g², m̂ = g, v̂ = g², update = lr · g/(|g|+eps) = ±0.1 for g ≠ 0.
    const expect1 = (w0: number, g: number) => w0 * (1 - 0.1 * 0.5) - (0.1 * g) / (Math.abs(g) + 1e-8);
    expect(w.data[0]).toBeCloseTo(expect1(1, 0.1), 6);
    expect(w.data[1]).toBeCloseTo(expect1(-2, -0.2), 6);
    expect(w.data[3]).toBeCloseTo(3 * 0.95, 6); // zero grad: only decay
    expect(b.data[0]).toBeCloseTo(0.5 - 0.1, 6); // bias: no decay
    // Step 2 with a new gradient, computed in float64 by hand.
    const w1 = w.data[0];
    w.grad = Float32Array.from([0.3, 0, 0, 0]);
    b.grad = Float32Array.from([0]);
    opt.step();
    const m = 0.9 * (0.1 * 0.1) + 0.1 * 0.3;
    const v = 0.99 * (0.01 * 0.01) + 0.01 * 0.09;
    const mh = m / (1 - 0.9 ** 2);
    const vh = v / (1 - 0.99 ** 2);
    expect(w.data[0]).toBeCloseTo(w1 * 0.95 - (0.1 * mh) / (Math.sqrt(vh) + 1e-8), 6);
    expect(opt.stepCount).toBe(2);
  });

  it("exports and imports its state so a resumed optimiser continues identically", () => {
    const mk = () => param([1, 2, 3, 4], [2, 2], [0.5, -0.5, 0.25, 1]);
    const p1 = mk();
    const o1 = new AdamW([["p", p1]], { lr: 0.01 });
    o1.step();
    const state = o1.exportState();
    const p2 = new Tensor(p1.data.slice(), [2, 2], true);
    p2.grad = p1.grad!.slice();
    const o2 = new AdamW([["p", p2]], { lr: 0.01 });
    o2.importState(state);
    o1.step();
    o2.step();
    expect(Array.from(p2.data)).toEqual(Array.from(p1.data));
    expect(() => new SGD([["p", p2]], { lr: 1 }).importState(state)).toThrow(/adamw/);
  });
});

describe("SGD", () => {
  it("applies momentum and weight decay as torch.optim.SGD does", () => {
    const p = param([1, 1], [1, 2], [1, -1]);
    const opt = new SGD([["p", p]], { lr: 0.1, momentum: 0.9, weightDecay: 0.1 });
    opt.step(); // buf = g + wd·w = [1.1, -0.9]
    expect(p.data[0]).toBeCloseTo(1 - 0.11, 6);
    expect(p.data[1]).toBeCloseTo(1 + 0.09, 6);
    opt.step(); // buf = 0.9·buf + g + wd·w
    const b0 = 0.9 * 1.1 + 1 + 0.1 * 0.89;
    expect(p.data[0]).toBeCloseTo(0.89 - 0.1 * b0, 5);
  });
});

describe("clipGradNorm", () => {
  it("returns the norm and rescales to the limit", () => {
    const a = param([0, 0], [2], [3, 0]);
    const b = param([0], [1], [4]);
    const n = clipGradNorm(
      [
        ["a", a],
        ["b", b],
      ],
      1,
    );
    expect(n).toBeCloseTo(5, 6);
    expect(Math.hypot(a.grad![0], b.grad![0])).toBeCloseTo(1, 5);
    expect(clipGradNorm([a, b], 10)).toBeCloseTo(1, 5); // below the limit: unchanged
  });
});

describe("cosineWithWarmup", () => {
  it("warms up linearly, decays along a cosine to minLr, then stays there", () => {
    const f = cosineWithWarmup({ lr: 1, minLr: 0.1, warmupSteps: 10, totalSteps: 110 });
    expect(f(0)).toBeCloseTo(0.1, 10);
    expect(f(4)).toBeCloseTo(0.5, 10);
    expect(f(9)).toBeCloseTo(1, 10);
    expect(f(10)).toBeCloseTo(1, 10);
    expect(f(60)).toBeCloseTo(0.55, 10); // halfway: minLr + (lr - minLr)/2
    expect(f(110)).toBeCloseTo(0.1, 10);
    expect(f(500)).toBeCloseTo(0.1, 10);
    expect(() => cosineWithWarmup({ lr: 1, minLr: 2, warmupSteps: 0, totalSteps: 5 })).toThrow(/minLr/);
  });
});

describe("data", () => {
  const tokens = Array.from({ length: 1000 }, (_, i) => i % 7);

  it("splits the stream with the validation set at the end", () => {
    const { train, val } = splitTokens(tokens, 0.1, 8);
    expect(train.length).toBe(900);
    expect(val.length).toBe(100);
    expect(val[0]).toBe(900 % 7);
    expect(() => splitTokens(tokens.slice(0, 20), 0.1, 8)).toThrow(/corpus too small/);
  });

  it("samples reproducible shifted windows and resumes from its RNG state", () => {
    const { train } = splitTokens(tokens, 0.1, 8);
    const s1 = new BatchSampler(train, 8, 4, 42);
    const first = s1.next();
    expect(first.x.length).toBe(32);
    for (let i = 0; i < 32; i++) if (i % 8 < 7) expect(first.y[i]).toBe(first.x[i + 1]);
    const saved = s1.rng.state;
    const a = s1.next();
    const s2 = new BatchSampler(train, 8, 4, 0);
    s2.rng.state = saved;
    expect(Array.from(s2.next().x)).toEqual(Array.from(a.x));
    expect(Array.from(new BatchSampler(train, 8, 4, 42).next().x)).toEqual(Array.from(first.x));
  });

  it("gives fixed evaluation windows", () => {
    const { val } = splitTokens(tokens, 0.2, 8);
    const e = evaluationBatches(val, 8, 4, 3);
    expect(e.length).toBe(3);
    expect(Array.from(evaluationBatches(val, 8, 4, 3)[2].x)).toEqual(Array.from(e[2].x));
  });

  it("computes the unigram baselines", () => {
    // Uniform over 4 symbols → ln 4.
    const u = Array.from({ length: 400 }, (_, i) => i % 4);
    expect(unigramEntropy(u, 4)).toBeCloseTo(Math.log(4), 10);
    expect(unigramBaseline(u, u, 4)).toBeCloseTo(Math.log(4), 10);
    // Cross-entropy against the training counts is never below the entropy of the validation split.
    const skew = [0, 0, 0, 1, 2, 3, 0, 1];
    expect(unigramBaseline(u, skew, 4)).toBeGreaterThanOrEqual(unigramEntropy(skew, 4));
  });
});

describe("lineChartSvg", () => {
  it("draws series, axes, labels and a baseline", () => {
    const svg = lineChartSvg({
      title: "loss <train>",
      xLabel: "step",
      yLabel: "loss (nats/token)",
      series: [
        {
          name: "train",
          points: [
            [0, 4],
            [10, 3],
            [20, 2.5],
          ],
        },
        {
          name: "val",
          points: [
            [10, 3.1],
            [20, 2.7],
          ],
          markers: true,
        },
      ],
      hLines: [{ y: 3.5, label: "unigram 3.5" }],
    });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("loss &lt;train&gt;");
    expect((svg.match(/<path /g) ?? []).length).toBe(2);
    expect((svg.match(/<circle /g) ?? []).length).toBe(2);
    expect(svg).toContain("unigram 3.5");
    expect(svg).toContain("step");
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AdamW, noGrad, SeededRng, Tensor } from "../../src/engine/index.js";
import { GeneraError } from "../../src/errors.js";
import { captionsOf, HELD_OUT_TEMPLATES, TRAINING_TEMPLATES } from "../../src/images/captions.js";
import { type DiffusionConfig, DiffusionModel, NoiseSchedule } from "../../src/images/Diffusion.js";
import { fitPromptHead } from "../../src/images/diffusionRecipes.js";
import { ImageGenerator } from "../../src/images/ImageGenerator.js";
import { saveImageModel } from "../../src/images/imageCheckpoint.js";
import { digitBatch } from "../../src/images/MnistBatches.js";
import { loadMnist } from "../../src/images/mnist.js";
import { depthToSpace, NULL_CLASS, spaceToDepth } from "../../src/images/UNet.js";

const dir = mkdtempSync(join(tmpdir(), "genera-diffusion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tiny model (8 channels, 50 steps) so tests run in moments. */
function tinyConfig(conditioning: "class" | "text", prediction: "v" | "epsilon" = "v"): DiffusionConfig {
  return {
    unet: {
      channels: 8,
      embedDim: 16,
      groups: 4,
      conditioning,
      conditionDim: conditioning === "text" ? 12 : undefined,
    },
    timesteps: 50,
    betaStart: 1e-3,
    betaEnd: 0.2,
    conditionDropout: 0.2,
    prediction,
    guidance: 2,
    samplingSteps: 5,
  };
}

describe("the U-Net", () => {
  it("folds 2×2 patches into channels and back without losing a pixel", () => {
    const x = new Tensor(
      Float32Array.from({ length: 2 * 784 }, (_, i) => i),
      [2, 1, 28, 28],
    );
    const folded = spaceToDepth(x);
    expect(folded.shape).toEqual([2, 4, 14, 14]);
    // Channel 1 of patch (0, 0) is the pixel at row 0, column 1.
    expect(folded.data[196]).toBe(1);
    expect(Array.from(depthToSpace(folded).data)).toEqual(Array.from(x.data));
  });

  it("predicts one value per pixel, for class and for text conditioning", () => {
    for (const conditioning of ["class", "text"] as const) {
      const m = new DiffusionModel(tinyConfig(conditioning), 1);
      const x = Tensor.randn([3, 1, 28, 28], 1, new SeededRng(1).next.bind(new SeededRng(1)));
      const condition =
        conditioning === "class" ? { classes: Int32Array.of(1, 2, NULL_CLASS) } : { embeddings: Tensor.zeros([3, 12]) };
      const out = noGrad(() => m.predict(x, [0, 10, 49], condition));
      expect(out.shape).toEqual([3, 1, 28, 28]);
      expect(out.data.every(Number.isFinite)).toBe(true);
    }
  });
});

describe("the noise schedule", () => {
  it("has DDPM's linear β and a decreasing ᾱ", () => {
    const s = new NoiseSchedule(1000, 1e-4, 0.02);
    expect(s.betas[0]).toBeCloseTo(1e-4, 10);
    expect(s.betas[999]).toBeCloseTo(0.02, 10);
    for (let t = 1; t < 1000; t++) expect(s.alphaBars[t]).toBeLessThan(s.alphaBars[t - 1]);
    expect(s.alphaBars[999]).toBeLessThan(1e-4);
  });

  it("q(x_t | x_0) in closed form matches running the forward process step by step", () => {
    const s = new NoiseSchedule(40, 1e-3, 0.1);
    const rng = new SeededRng(3);
    const t = 30;
    const draws = 20_000;
    const x0 = 0.8;
    const closed = s.qSample(
      new Float32Array(draws).fill(x0),
      new Int32Array(draws).fill(t),
      Float32Array.from({ length: draws }, () => rng.gaussian()),
    );
    const stepwise = Float64Array.from({ length: draws }, () => {
      let x = x0;
      for (let k = 0; k <= t; k++) x = Math.sqrt(1 - s.betas[k]) * x + Math.sqrt(s.betas[k]) * rng.gaussian();
      return x;
    });
    const stats = (xs: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < xs.length; i++) m += xs[i] / xs.length;
      let v = 0;
      for (let i = 0; i < xs.length; i++) v += (xs[i] - m) ** 2 / xs.length;
      return { m, v };
    };
    const a = stats(closed);
    const b = stats(stepwise);
    expect(a.m).toBeCloseTo(Math.sqrt(s.alphaBars[t]) * x0, 1);
    expect(a.v).toBeCloseTo(1 - s.alphaBars[t], 1);
    expect(Math.abs(a.m - b.m)).toBeLessThan(0.03);
    expect(Math.abs(a.v - b.v)).toBeLessThan(0.03);
  });

  it("DDIM visits an evenly spaced sub-sequence from T−1 down to 0", () => {
    expect(new NoiseSchedule(1000, 1e-4, 0.02).stride(4)).toEqual([999, 666, 333, 0]);
    expect(new NoiseSchedule(5, 1e-4, 0.02).stride(50)).toEqual([4, 3, 2, 1, 0]);
  });
});

describe("diffusion sampling", () => {
  it("recovers x̂_0 and ε from a v (or ε) target", () => {
    for (const prediction of ["v", "epsilon"] as const) {
      const m = new DiffusionModel(tinyConfig("class", prediction), 1);
      const rng = new SeededRng(4);
      const x0 = Float32Array.from({ length: 784 }, () => rng.next() * 1.6 - 0.8);
      const eps = Float32Array.from({ length: 784 }, () => rng.gaussian());
      const t = 20;
      const xt = m.schedule.qSample(x0, [t], eps);
      const est = m.estimate(xt, m.target(x0, [t], eps), t);
      for (let k = 0; k < 784; k += 97) {
        expect(est.x0[k]).toBeCloseTo(x0[k], 4);
        expect(est.eps[k]).toBeCloseTo(eps[k], 3);
      }
    }
  });

  it("DDIM with η = 0 is deterministic: only the starting noise is random", () => {
    const m = new DiffusionModel(tinyConfig("class"), 1);
    const classes = Int32Array.of(3, 7);
    let drawn = 0;
    const first = new SeededRng(9);
    const counted = (rng: SeededRng) => () => {
      drawn++;
      return rng.next();
    };
    const a = m.sampleDdim(2, { classes }, { rng: counted(first), eta: 0 });
    const startDraws = drawn; // the starting noise, and nothing after it
    // Same starting noise, then a generator that would give different draws if asked.
    const base = new SeededRng(9);
    const other = new SeededRng(123);
    drawn = 0;
    const b = m.sampleDdim(2, { classes }, { rng: () => (drawn++ < startDraws ? base.next() : other.next()), eta: 0 });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    expect(drawn).toBe(startDraws);
    // η = 1 draws fresh noise at every step.
    drawn = 0;
    m.sampleDdim(2, { classes }, { rng: counted(base), eta: 1 });
    expect(drawn).toBeGreaterThan(startDraws);
    expect(a.shape).toEqual([2, 1, 28, 28]);
    expect(a.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it("classifier-free guidance mixes the conditional and unconditional outputs: ε̂_∅ + w(ε̂_c − ε̂_∅)", () => {
    const m = new DiffusionModel(tinyConfig("class"), 2);
    const rng = new SeededRng(5);
    const x = Float32Array.from({ length: 2 * 784 }, () => rng.gaussian());
    const classes = Int32Array.of(4, 8);
    const t = 17;
    noGrad(() => {
      const cond = m.predict(new Tensor(x, [2, 1, 28, 28]), [t, t], { classes }).data;
      const uncond = m.predict(new Tensor(x, [2, 1, 28, 28]), [t, t], { classes: Int32Array.of(10, 10) }).data;
      const guided = m.guidedOutput(x, 2, t, { classes }, 3);
      for (let k = 0; k < guided.length; k += 131) {
        expect(guided[k]).toBeCloseTo(uncond[k] + 3 * (cond[k] - uncond[k]), 4);
      }
      expect(Array.from(m.guidedOutput(x, 2, t, { classes }, 1))).toEqual(Array.from(cond));
    });
  });

  it("condition dropout swaps in the null condition: class 10, or the zero embedding", () => {
    const m = new DiffusionModel(tinyConfig("text"), 1);
    const dropped = m.dropConditions({ embeddings: Tensor.ones([2, 12]) }, [false, true]);
    expect("embeddings" in dropped && Array.from(dropped.embeddings.data.subarray(12))).toEqual(new Array(12).fill(0));
    expect("embeddings" in dropped && dropped.embeddings.data[0]).toBe(1);
    const classes = m.dropConditions({ classes: Int32Array.of(1, 2) }, [true, false]);
    expect("classes" in classes && Array.from(classes.classes)).toEqual([NULL_CLASS, 2]);
  });

  it("a short training run lowers the loss", () => {
    const m = new DiffusionModel(tinyConfig("class"), 3);
    const train = loadMnist("train", { limit: 8 });
    const batch = digitBatch(
      train,
      Array.from({ length: 8 }, (_, i) => i),
    );
    const heldLoss = () =>
      noGrad(() =>
        m.forward({ images: batch.images, condition: { classes: batch.labels }, rng: new SeededRng(77) }).loss.item(),
      );
    const before = heldLoss();
    const opt = new AdamW(m.namedParameters(), { lr: 3e-3, weightDecay: 0 });
    for (let step = 0; step < 20; step++) {
      const loss = m.forward({ images: batch.images, condition: { classes: batch.labels } }).loss;
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    expect(heldLoss()).toBeLessThan(before * 0.8);
  });
});

describe("text-to-image captions and prompts", () => {
  it("the prompt head turns sentence embeddings into weights over the digits; the zero vector means no prompt", () => {
    const config = { ...tinyConfig("class"), promptHead: { dimension: 12 } };
    const m = new DiffusionModel(config, 1);
    expect(m.conditioning).toBe("text");
    // A toy bank: digit d is the unit vector along axis d.
    const vectors = new Float32Array(10 * 12);
    for (let d = 0; d < 10; d++) vectors[d * 12 + d] = 1;
    // A head that reads digit d off axis d.
    m.promptHead!.weight.data.set(Float32Array.from({ length: 120 }, (_, i) => (i % 13 === 0 ? 5 : 0)));
    const weights = m.promptClassWeights(
      new Tensor(Float32Array.from([...vectors.subarray(36, 48), ...new Float32Array(12)]), [2, 12]),
    );
    const row = Array.from(weights.data.subarray(0, 11));
    expect(row.indexOf(Math.max(...row))).toBe(3);
    expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(Array.from(weights.data.subarray(11))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    // The U-Net reads the mixture, and classifier-free guidance pairs it with the null class.
    const x = new Float32Array(784).fill(0.1);
    const out = noGrad(() => m.guidedOutput(x, 1, 10, { embeddings: new Tensor(vectors.slice(36, 48), [1, 12]) }, 2));
    expect(out.every(Number.isFinite)).toBe(true);
  });

  it("fits the prompt head on the training captions alone", () => {
    const rng = new SeededRng(8);
    const n = 200;
    const digits = Int32Array.from({ length: n }, (_, i) => i % 10);
    // Each digit has its own direction, plus noise that stands for the phrasing.
    const vectors = new Float32Array(n * 512).map(
      (_, k) => 0.3 * rng.gaussian() + (k % 512 === digits[Math.floor(k / 512)] ? 2 : 0),
    );
    const head = fitPromptHead({ texts: [], digits, vectors, byDigit: [] }, 150);
    const logits = noGrad(() => head.forward(new Tensor(vectors, [n, 512]))).data;
    let right = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(logits.subarray(i * 10, (i + 1) * 10));
      if (row.indexOf(Math.max(...row)) === digits[i]) right++;
    }
    expect(right / n).toBeGreaterThan(0.95);
  });

  it("never trains on a held-out phrasing", () => {
    const training = new Set(captionsOf(TRAINING_TEMPLATES).map((c) => c.text));
    expect(training.size).toBeGreaterThan(2000);
    for (const c of captionsOf(HELD_OUT_TEMPLATES)) expect(training.has(c.text)).toBe(false);
    expect(training.has("a handwritten seven")).toBe(true);
  });

  it("the generator checks prompts and digits against the kind of model", async () => {
    const classDir = join(dir, "class");
    const textDir = join(dir, "text");
    const cls = new DiffusionModel(tinyConfig("class"), 1);
    saveImageModel(classDir, { kind: "diffusion", config: cls.config, model: cls });
    const txt = new DiffusionModel(
      { ...tinyConfig("text"), unet: { ...tinyConfig("text").unet, conditionDim: 512 } },
      1,
    );
    saveImageModel(textDir, { kind: "text2image", config: txt.config, model: txt });

    const byClass = new ImageGenerator({ model: classDir });
    const grid = byClass.generate({ n: 3, digit: 5, seed: 1, steps: 2 });
    expect(grid.count).toBe(3);
    expect(grid.png.subarray(1, 4).toString()).toBe("PNG");
    await expect(byClass.invoke({ n: 2, prompt: "a seven" })).rejects.toThrow(/class-conditional/);
    expect(() => byClass.generate({ n: 2, guidance: -1 })).toThrow(/guidance/);
    expect(() => byClass.generate({ n: 2, steps: 0 })).toThrow(/steps/);

    const byText = new ImageGenerator({ model: textDir });
    await expect(byText.invoke({ n: 2, prompt: "   " })).rejects.toThrow(GeneraError);
    await expect(byText.invoke({ n: 2, prompt: "x".repeat(301) })).rejects.toThrow(/at most 300/);
    await expect(byText.invoke({ n: 2, digit: 3 })).rejects.toThrow(/prompt/);
    expect(() => byText.generate({ n: 2, prompt: "a seven" })).toThrow(/invoke/);
    expect(() => byText.generate({ n: 2 }, { promptEmbedding: new Float32Array(3) })).toThrow(/512/);
    // A given embedding draws (the USE encoder itself is exercised by the e2e test).
    const embedding = new Float32Array(512).fill(0.04);
    const a = byText.generate({ n: 2, seed: 4, steps: 2 }, { promptEmbedding: embedding });
    const b = byText.generate({ n: 2, seed: 4, steps: 2 }, { promptEmbedding: embedding });
    expect(Array.from(a.images)).toEqual(Array.from(b.images));
  });
});

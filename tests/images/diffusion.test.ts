import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AdamW, noGrad, SeededRng, Tensor } from "../../src/engine/index.js";
import { GeneraError } from "../../src/errors.js";
import {
  assertDisjointTemplates,
  captionsOf,
  captionWords,
  DEV_TEMPLATES,
  HELD_OUT_TEMPLATES,
  TRAINING_TEMPLATES,
} from "../../src/images/captions.js";
import { type DiffusionConfig, DiffusionModel, NoiseSchedule } from "../../src/images/Diffusion.js";
import { ImageGenerator } from "../../src/images/ImageGenerator.js";
import { loadImageWeights, loadMatchingWeights, saveImageModel } from "../../src/images/imageCheckpoint.js";
import { digitBatch } from "../../src/images/MnistBatches.js";
import { loadMnist } from "../../src/images/mnist.js";
import { PromptReader, trainPromptReader } from "../../src/images/PromptReader.js";
import {
  blankPrompts,
  type PromptBatch,
  promptWords,
  removePrompts,
  WordVectors,
} from "../../src/images/promptEncoder.js";
import { depthToSpace, NULL_CLASS, spaceToDepth } from "../../src/images/UNet.js";

const dir = mkdtempSync(join(tmpdir(), "genera-diffusion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A tiny model (8 channels, 50 steps) so tests run in moments; "text" adds a prompt reader. */
function tinyConfig(conditioning: "class" | "text", prediction: "v" | "epsilon" = "v"): DiffusionConfig {
  return {
    unet: { channels: 8, embedDim: 16, groups: 4, conditioning: "class" },
    ...(conditioning === "text" ? { promptReader: { hidden: 8 } } : {}),
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
        conditioning === "class"
          ? { classes: Int32Array.of(1, 2, NULL_CLASS) }
          : { prompts: { vectors: new Float32Array(3 * 512).fill(0.04), lengths: Int32Array.of(2, 1, 0) } };
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

  it("condition dropout swaps in the null condition: class 10, or the empty prompt", () => {
    const m = new DiffusionModel(tinyConfig("text"), 1);
    const prompts = {
      vectors: Float32Array.from({ length: 3 * 512 }, (_, k) => Math.floor(k / 512)),
      lengths: Int32Array.of(1, 2),
    };
    const dropped = m.dropConditions({ prompts }, [false, true]);
    expect("prompts" in dropped && Array.from(dropped.prompts.lengths)).toEqual([1, 0]);
    expect("prompts" in dropped && dropped.prompts.vectors.length).toBe(512);
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

/** A word table of made-up vectors (tests never load USE-lite): random unit vectors, fixed per word. */
function toyWords(words: Iterable<string>, seed = 5): WordVectors {
  const rng = new SeededRng(seed);
  const table = new WordVectors();
  for (const word of words) {
    const v = Float32Array.from({ length: 512 }, () => rng.gaussian());
    const norm = Math.hypot(...v);
    table.set(
      word,
      v.map((x) => x / norm),
    );
  }
  return table;
}

describe("text-to-image captions and prompts", () => {
  it("splits prompts into lower-case words and keeps the batch's rows in step when prompts go", () => {
    expect(promptWords("Could you write a 7, please? A hand-drawn one!")).toEqual([
      "could",
      "you",
      "write",
      "a",
      "7",
      "please",
      "a",
      "hand-drawn",
      "one",
    ]);
    const batch: PromptBatch = {
      vectors: Float32Array.from({ length: 4 * 512 }, (_, k) => Math.floor(k / 512)),
      lengths: Int32Array.of(1, 0, 3),
    };
    const kept = removePrompts(batch, [true, false, false]);
    expect(Array.from(kept.lengths)).toEqual([0, 3]);
    expect([kept.vectors[0], kept.vectors[3 * 512 - 1]]).toEqual([1, 3]);
    const blanked = blankPrompts(batch, [false, false, true]);
    expect(Array.from(blanked.lengths)).toEqual([1, 0, 0]);
    expect(blanked.vectors.length).toBe(512);
  });

  it("varies captions with filler words and dropped words, never dropping the digit", () => {
    const rng = new SeededRng(2);
    const augmentation = { fillers: ["apple", "river"], maxFillers: 3, dropWord: 0.5 };
    for (let i = 0; i < 50; i++) {
      const words = captionWords("a tidy handwritten {w} on paper", 7, () => rng.next(), augmentation);
      expect(words.filter((w) => w === "seven")).toHaveLength(1);
      expect(
        words.every((w) => ["a", "tidy", "handwritten", "seven", "on", "paper", "apple", "river"].includes(w)),
      ).toBe(true);
    }
    expect(captionWords("the digit {n}", 3, () => 0)).toEqual(["the", "digit", "3"]);
  });

  it("the prompt reader learns to find the digit among words and reads phrasings it never saw", () => {
    const digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
    const fillers = ["apple", "river", "blue", "quickly", "table", "sun", "green", "old", "bird", "stone"];
    const templates = ["a {w}", "draw the {w}", "{w} on paper", "the digit {w}", "a tidy {w} please"];
    const held = ["on paper a tidy {w}", "please {w} draw"];
    const words = toyWords([...digits, ...fillers, "a", "draw", "the", "on", "paper", "digit", "tidy", "please"]);
    const rng = new SeededRng(3);
    const reader = new PromptReader({ hidden: 16 }, () => rng.next());
    const augmentation = { fillers, maxFillers: 2, dropWord: 0.1 };
    trainPromptReader(reader, { templates, words, augmentation, steps: 100, batchSize: 32, lr: 1e-2 });
    const prompts = held.flatMap((t) => digits.map((_, d) => captionWords(t, d, () => 0)));
    const probs = reader.probabilities(words.batch(prompts));
    let right = 0;
    prompts.forEach((_, i) => {
      const row = Array.from(probs.subarray(i * 10, (i + 1) * 10));
      if (row.indexOf(Math.max(...row)) === i % 10) right++;
    });
    expect(right / prompts.length).toBeGreaterThan(0.9);
    // Its attention is on the digit.
    const { attention } = noGrad(() => reader.read(words.batch([["on", "paper", "a", "tidy", "seven"]])));
    expect(attention.data[4]).toBeGreaterThan(0.5);
  });

  it("the model turns prompts into weights over the digits; the empty prompt means no prompt", () => {
    const m = new DiffusionModel(tinyConfig("text"), 1);
    expect(m.conditioning).toBe("text");
    const words = toyWords(["a", "seven"]);
    const prompts = words.batch([["a", "seven"], []]);
    const weights = m.promptClassWeights(prompts);
    expect(weights.shape).toEqual([2, 11]);
    expect(Array.from(weights.data.subarray(0, 11)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(weights.data[10]).toBe(0);
    expect(Array.from(weights.data.subarray(11))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    // The U-Net reads the mixture, and classifier-free guidance pairs it with the null class.
    const x = new Float32Array(784).fill(0.1);
    const out = noGrad(() => m.guidedOutput(x, 1, 10, { prompts: words.batch([["a", "seven"]]) }, 2));
    expect(out.every(Number.isFinite)).toBe(true);
  });

  it("a model saved with the old sentence-vector prompt head asks to be trained again", () => {
    const old = { ...tinyConfig("class"), promptHead: { dimension: 512 } } as DiffusionConfig;
    expect(() => new DiffusionModel(old, 1)).toThrow(/train it again/);
  });

  it("never trains on a held-out or development phrasing", () => {
    const training = new Set(captionsOf(TRAINING_TEMPLATES).map((c) => c.text));
    expect(training.size).toBeGreaterThan(2000);
    for (const c of captionsOf([...HELD_OUT_TEMPLATES, ...DEV_TEMPLATES])) expect(training.has(c.text)).toBe(false);
    expect(training.has("a handwritten seven")).toBe(true);
    // The check itself sees through case and punctuation.
    expect(() => assertDisjointTemplates({ a: ["Show me a {n}!"], b: ["show me a {n}"] })).toThrow(/both/);
    expect(() => assertDisjointTemplates({ training: TRAINING_TEMPLATES, heldOut: HELD_OUT_TEMPLATES })).not.toThrow();
  });

  it("a text-to-image run can start from a class-conditional model's U-Net", () => {
    const cls = new DiffusionModel(tinyConfig("class"), 7);
    const clsDir = join(dir, "init-from");
    saveImageModel(clsDir, { kind: "diffusion", config: cls.config, model: cls });
    const txt = new DiffusionModel(tinyConfig("text"), 1);
    const readerBefore = txt.promptReader!.out.weight.data.slice();
    const { copied, total } = loadMatchingWeights(clsDir, txt);
    expect(copied).toBe(cls.namedParameters().length);
    expect(total).toBe(txt.namedParameters().length);
    expect(Array.from(txt.unet.classEmbedding.weight.data)).toEqual(Array.from(cls.unet.classEmbedding.weight.data));
    expect(Array.from(txt.promptReader!.out.weight.data)).toEqual(Array.from(readerBefore));
    const otherDir = join(dir, "unrelated");
    const tiny = new PromptReader({ hidden: 3 }, () => 0.5);
    saveImageModel(otherDir, { kind: "classifier", config: {}, model: tiny });
    expect(() => loadMatchingWeights(otherDir, txt)).toThrow(/no parameter/);
    // loadImageWeights stays strict.
    expect(() => loadImageWeights(clsDir, txt)).toThrow(GeneraError);
  });

  it("the generator checks prompts and digits against the kind of model", async () => {
    const classDir = join(dir, "class");
    const textDir = join(dir, "text");
    const cls = new DiffusionModel(tinyConfig("class"), 1);
    saveImageModel(classDir, { kind: "diffusion", config: cls.config, model: cls });
    const txt = new DiffusionModel(tinyConfig("text"), 1);
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
    await expect(byText.invoke({ n: 2, prompt: "?!" })).rejects.toThrow(/no words/);
    await expect(byText.invoke({ n: 2, prompt: "x".repeat(301) })).rejects.toThrow(/at most 300/);
    await expect(byText.invoke({ n: 2, digit: 3 })).rejects.toThrow(/prompt/);
    expect(() => byText.generate({ n: 2, prompt: "a seven" })).toThrow(/invoke/);
    expect(() =>
      byText.generate({ n: 2 }, { promptVectors: { vectors: new Float32Array(3), lengths: Int32Array.of(1) } }),
    ).toThrow(/512/);
    // Given word vectors draw (the USE encoder itself is exercised by the e2e test).
    const promptVectors = toyWords(["a", "seven"]).batch([["a", "seven"]]);
    const a = byText.generate({ n: 2, seed: 4, steps: 2 }, { promptVectors });
    const b = byText.generate({ n: 2, seed: 4, steps: 2 }, { promptVectors });
    expect(Array.from(a.images)).toEqual(Array.from(b.images));
    // No prompt draws too (the null condition).
    expect(byText.generate({ n: 2, seed: 4, steps: 2 }).count).toBe(2);
  });
});

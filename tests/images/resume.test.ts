import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Module } from "../../src/engine/index.js";
import { ConditionalGAN, ganRecipe } from "../../src/images/ConditionalGAN.js";
import { ConvVAE, vaeRecipe } from "../../src/images/ConvVAE.js";
import type { ImageRecipe } from "../../src/images/ImageRecipe.js";
import { trainImageModel } from "../../src/images/trainImageModel.js";

const dir = mkdtempSync(join(tmpdir(), "genera-image-resume-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Tiny models: the test is about what a checkpoint holds, not about learning.
const tinyVae = {
  ...vaeRecipe,
  create: (seed: number) => new ConvVAE({ latent: 4, channels1: 4, channels2: 8 }, seed),
} as unknown as ImageRecipe;
const tinyGan = {
  ...ganRecipe,
  create: (seed: number) => new ConditionalGAN({ latent: 4, channels1: 8, channels2: 8 }, seed),
  evaluate: () => ({}),
} as unknown as ImageRecipe;

const common = { steps: 8, batchSize: 8, trainLimit: 40, testLimit: 20, evalEvery: 3, checkpointEvery: 3, seed: 3 };

function maxWeightDiff(a: Module, b: Module): number {
  const other = new Map(b.namedParameters());
  let max = 0;
  for (const [name, p] of a.namedParameters()) {
    const q = other.get(name)!.data;
    for (let i = 0; i < p.size; i++) max = Math.max(max, Math.abs(p.data[i] - q[i]));
  }
  return max;
}

/** An uninterrupted run, and one stopped after step 4 (mid-epoch, between evaluations) and resumed. */
async function wholeAndResumed(recipe: ImageRecipe, name: string) {
  const whole = await trainImageModel({ ...common, recipe, outDir: join(dir, `${name}-whole`) });
  const split = join(dir, `${name}-split`);
  const stop = new AbortController();
  const first = await trainImageModel({
    ...common,
    recipe,
    outDir: split,
    signal: stop.signal,
    onProgress: (e) => {
      if (e.type === "step" && e.step === 4) stop.abort();
    },
  });
  expect(first.steps).toBe(4);
  // The resumed run is told nothing but the folder: settings come from trainer_state.json.
  const resumed = await trainImageModel({ recipe, outDir: split, resume: true, testLimit: common.testLimit });
  return { whole, resumed, split };
}

describe("resuming image-model training", () => {
  it("the VAE (whose evaluation draws noise) ends with exactly the weights of an uninterrupted run", async () => {
    const { whole, resumed, split } = await wholeAndResumed(tinyVae, "vae");
    expect(resumed.steps).toBe(8);
    expect(maxWeightDiff(whole.model, resumed.model)).toBe(0);
    expect(resumed.eval.test_nelbo).toBe(whole.eval.test_nelbo);
    // metrics.jsonl holds each step once: the steps after the checkpoint were not logged twice.
    const steps = readFileSync(join(split, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === "train")
      .map((m) => m.step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("the GAN (two optimizers, its own noise) ends with exactly the weights of an uninterrupted run", async () => {
    const { whole, resumed, split } = await wholeAndResumed(tinyGan, "gan");
    expect(maxWeightDiff(whole.model, resumed.model)).toBe(0);
    expect(existsSync(join(split, "optimizer.safetensors"))).toBe(true);
    expect(existsSync(join(split, "optimizer.1.safetensors"))).toBe(true);
  });

  it("refuses a folder without training state, of another kind, or none at all", async () => {
    const folder = join(dir, "vae-whole");
    await expect(trainImageModel({ recipe: tinyGan, outDir: folder, resume: true })).rejects.toMatchObject({
      code: "MODEL_MISMATCH",
    });
    rmSync(join(folder, "trainer_state.json"));
    await expect(trainImageModel({ recipe: tinyVae, outDir: folder, resume: true })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(
      trainImageModel({ recipe: tinyVae, outDir: join(dir, "nothing"), resume: true }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    // Without --resume, a folder that holds a model is not overwritten by default.
    await expect(trainImageModel({ ...common, recipe: tinyVae, outDir: folder })).rejects.toMatchObject({
      code: "CONFLICT",
    });
  });
});

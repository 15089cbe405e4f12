import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { vaeRecipe } from "../../src/images/ConvVAE.js";
import { ImageGenerator } from "../../src/images/ImageGenerator.js";
import { loadImageModel } from "../../src/images/imageModels.js";
import { classifierRecipe } from "../../src/images/LeNet.js";
import { decodePng } from "../../src/images/png.js";
import { trainImageModel } from "../../src/images/trainImageModel.js";

const dir = mkdtempSync(join(tmpdir(), "genera-images-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("image model training (short runs on real MNIST digits)", () => {
  it("a short run lowers the classifier's loss and saves a model that loads", async () => {
    const out = join(dir, "classifier");
    const r = await trainImageModel({
      recipe: classifierRecipe,
      outDir: out,
      steps: 40,
      batchSize: 32,
      trainLimit: 1024,
      testLimit: 200,
      evalEvery: 20,
    });
    expect(r.evals[0].test_loss).toBeGreaterThan(r.eval.test_loss);
    expect(r.eval.test_accuracy).toBeGreaterThan(0.5);
    const loaded = loadImageModel(out);
    expect(loaded.kind).toBe("classifier");
    expect(loaded.training?.steps).toBe(40);
  });

  it("a short run lowers the VAE's negative ELBO; the generator draws a PNG grid from it", async () => {
    const out = join(dir, "vae");
    const r = await trainImageModel({
      recipe: vaeRecipe,
      outDir: out,
      steps: 30,
      batchSize: 32,
      trainLimit: 512,
      testLimit: 100,
      evalEvery: 10,
    });
    expect(r.evals[0].test_nelbo).toBeGreaterThan(r.eval.test_nelbo + 20);
    const generator = new ImageGenerator({ model: out });
    const a = await generator.invoke({ n: 4, seed: 3 });
    const b = generator.generate({ n: 4, seed: 3 });
    expect(a.images).toEqual(b.images);
    expect(a.count).toBe(4);
    const png = decodePng(a.png);
    expect(png.width).toBeGreaterThan(56);
    expect(() => generator.generate({ n: 2, digit: 3 })).toThrow(/unconditional/);
    expect(() => generator.generate({ n: 0 })).toThrow(/from 1 to 64/);

    // The CLI writes the grid and, with --out-dir, one 28×28 PNG per sample.
    const grid = join(dir, "grid.png");
    const each = join(dir, "each");
    const { main } = await import("../../src/cli/main.js");
    await main([
      "node",
      "genera",
      "images",
      "sample",
      "--model",
      out,
      "--n",
      "3",
      "--seed",
      "1",
      "--out",
      grid,
      "--out-dir",
      each,
    ]);
    expect(decodePng(readFileSync(grid)).width).toBeGreaterThan(56);
    const files = readdirSync(each).sort();
    expect(files).toEqual(["sample-00.png", "sample-01.png", "sample-02.png"]);
    expect(decodePng(readFileSync(join(each, files[0])))).toMatchObject({ width: 28, height: 28 });
  });
});

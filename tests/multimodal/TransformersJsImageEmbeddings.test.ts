import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TransformersJsImageEmbeddings } from "../../src/multimodal/TransformersJsImageEmbeddings.js";
import { writeTinyClipModel } from "./fixtures/tinyClipModel.js";

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "genera-clip-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const unit = (v: number[]): number[] => {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};

function expectClose(actual: number[] | undefined, expected: number[], digits = 4): void {
  expect(actual).toHaveLength(expected.length);
  actual?.forEach((v, i) => {
    expect(v).toBeCloseTo(expected[i] as number, digits);
  });
}

function solidPng(rgb: [number, number, number], width = 12, height = 9): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toBuffer();
}

describe.each(["clip", "siglip"] as const)("TransformersJsImageEmbeddings on a generated %s model", (family) => {
  it("embeds texts and images (paths and bytes) into one normalised space", async () => {
    const tiny = writeTinyClipModel(join(root, family), { family });
    const e = new TransformersJsImageEmbeddings({ model: tiny.dir, batchSize: 2 });
    try {
      const texts = ["a photo of red", "green square", "blue"];
      const vectors = await e.embedDocuments(texts);
      texts.forEach((t, i) => {
        expectClose(vectors[i], unit(tiny.textVector(t)));
      });
      expectClose(await e.embedQuery("red square"), unit(tiny.textVector("red square")));

      const red: [number, number, number] = [200, 30, 40];
      const blue: [number, number, number] = [10, 20, 250];
      const redPath = join(root, `${family}-red.png`);
      writeFileSync(redPath, await solidPng(red));
      const images = await e.embedImages([redPath, await solidPng(blue, 8, 8), await solidPng(red, 8, 16)]);
      expect(images).toHaveLength(3);
      expectClose(images[0], unit(tiny.solidColourVector(red)), 4);
      expectClose(images[1], unit(tiny.solidColourVector(blue)), 4);
      expectClose(images[2], unit(tiny.solidColourVector(red)), 4);
      expect(e.dimension).toBe(tiny.dim);
      expect(e.modelId).toBe(`transformersjs-image:${tiny.dir}:fp32`);
    } finally {
      await e.close();
    }
  });
});

describe("TransformersJsImageEmbeddings failures", () => {
  it("fails fast with MODEL_NOT_FOUND for a hub id that is not on disk, without the network", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const e = new TransformersJsImageEmbeddings({
      model: "Xenova/clip-vit-base-patch32",
      localModelPath: join(root, "none"),
      cacheDir: join(root, "cache"),
    });
    try {
      await expect(e.embedQuery("a cat")).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
      await expect(e.embedImages([join(root, "x.png")])).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
      expect(e.searchedFolders()).toEqual([
        join(root, "none", "Xenova/clip-vit-base-patch32"),
        join(root, "cache", "Xenova/clip-vit-base-patch32"),
      ]);
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });

  it("names a corrupt image and a model of the wrong kind", async () => {
    const tiny = writeTinyClipModel(join(root, "clip-errors"));
    const e = new TransformersJsImageEmbeddings({ model: tiny.dir });
    try {
      const broken = join(root, "broken.png");
      writeFileSync(broken, "not a png at all");
      await expect(e.embedImages([broken])).rejects.toMatchObject({
        code: "FILE_UNREADABLE",
        details: { path: broken },
      });
      await expect(e.embedImages(["" as never, 3 as never])).rejects.toMatchObject({ code: "INVALID_INPUT" });
    } finally {
      await e.close();
    }
    const bert = join(root, "bert");
    writeTinyClipModel(bert);
    writeFileSync(join(bert, "config.json"), JSON.stringify({ model_type: "bert" }));
    await expect(new TransformersJsImageEmbeddings({ model: bert }).embedQuery("red")).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
  });
});

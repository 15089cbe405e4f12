import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { TransformersJsEmbeddings } from "../../src/embeddings/TransformersJsEmbeddings.js";
import { isGeneraError } from "../../src/errors.js";
import { type TinyOnnxModel, writeTinyOnnxModel } from "./fixtures/tinyOnnxModel.js";

let root: string;
let tiny: TinyOnnxModel;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "genera-tjs-"));
  tiny = writeTinyOnnxModel(join(root, "models", "genera", "tiny-bert"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => {
    expect(v).toBeCloseTo(expected[i] as number, 5);
  });
}

describe("TransformersJsEmbeddings on a generated ONNX model", () => {
  it("mean-pools and normalises exactly like the reference computation", async () => {
    const e = new TransformersJsEmbeddings({ model: tiny.dir, batchSize: 2 });
    try {
      const texts = ["The cat sat on the mat", "hello world", "stock market fell today", "a kitten"];
      const vectors = await e.embedDocuments(texts);
      expect(vectors).toHaveLength(texts.length);
      texts.forEach((t, i) => {
        expectClose(vectors[i] as number[], tiny.expectedMean(t, true));
      });
      expect(e.dimension).toBe(tiny.hiddenSize);
      expect(e.modelId).toBe(`transformersjs:${tiny.dir}:mean:fp32`);
      expectClose(await e.embedQuery("hello world"), tiny.expectedMean("hello world", true));
    } finally {
      await e.close();
    }
  });

  it("supports cls pooling without normalisation", async () => {
    const e = new TransformersJsEmbeddings({ model: tiny.dir, pooling: "cls", normalize: false });
    try {
      const [v] = await e.embedDocuments(["dog rose"]);
      const cls = tiny.ids("dog rose")[0] as number;
      expectClose(
        v as number[],
        Array.from(tiny.embedding.subarray(cls * tiny.hiddenSize, (cls + 1) * tiny.hiddenSize)),
      );
      expect(e.modelId).toContain(":cls:fp32:raw");
    } finally {
      await e.close();
    }
  });

  it('explains that pooling "none" gives token vectors, not one per text', async () => {
    const e = new TransformersJsEmbeddings({ model: tiny.dir, pooling: "none" });
    try {
      await expect(e.embedDocuments(["hello"])).rejects.toMatchObject({ code: "INVALID_INPUT" });
    } finally {
      await e.close();
    }
  });

  it("finds a hub id under localModelPath without any network access", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const e = new TransformersJsEmbeddings({ model: "genera/tiny-bert", localModelPath: join(root, "models") });
    try {
      expectClose(await e.embedQuery("the dog"), tiny.expectedMean("the dog", true));
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
      await e.close();
    }
  });
});

describe("TransformersJsEmbeddings from the download cache", () => {
  it("loads a hub id found in cacheDir, offline", async () => {
    const cacheDir = join(root, "hub-cache");
    const cachedModel = writeTinyOnnxModel(join(cacheDir, "genera", "tiny-cached"), { seed: 7, hiddenSize: 4 });
    const e = new TransformersJsEmbeddings({
      model: "genera/tiny-cached",
      cacheDir,
      localModelPath: join(root, "none"),
    });
    try {
      expect(e.searchedFolders()).toContain(cachedModel.dir);
      expectClose(await e.embedQuery("price rose"), cachedModel.expectedMean("price rose", true));
      expect(e.dimension).toBe(4);
    } finally {
      await e.close();
    }
  });
});

describe("TransformersJsEmbeddings when the model is missing", () => {
  it("fails fast with MODEL_NOT_FOUND naming the model and the folders searched", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const cacheDir = join(root, "hf-cache");
    const e = new TransformersJsEmbeddings({
      model: "nobody/no-such-model",
      localModelPath: join(root, "models"),
      cacheDir,
    });
    let error: unknown;
    try {
      await e.embedQuery("hello");
    } catch (err) {
      error = err;
    }
    expect(isGeneraError(error) && error.code).toBe("MODEL_NOT_FOUND");
    const message = (error as Error).message;
    expect(message).toContain("nobody/no-such-model");
    expect(message).toContain(join(root, "models", "nobody", "no-such-model"));
    expect(message).toContain(join(cacheDir, "nobody", "no-such-model"));
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
  });

  it("names the absolute folder when a relative path is missing", async () => {
    const e = new TransformersJsEmbeddings({ model: "./no/such/folder" });
    await expect(e.embedQuery("hello")).rejects.toMatchObject({
      code: "MODEL_NOT_FOUND",
      message: expect.stringContaining(join(process.cwd(), "no", "such", "folder")),
    });
  });

  it("reports missing weights for the requested dtype as MODEL_NOT_FOUND", async () => {
    const e = new TransformersJsEmbeddings({ model: tiny.dir, quantized: true });
    await expect(e.embedQuery("hello")).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
  });

  it("rejects bad options with INVALID_INPUT", () => {
    expect(() => new TransformersJsEmbeddings({ model: "" })).toThrow(/model/);
    expect(() => new TransformersJsEmbeddings({ model: "x/y", pooling: "max" as "mean" })).toThrow(/pooling/);
    expect(() => new TransformersJsEmbeddings({ model: "x/y", batchSize: 0 })).toThrow(/batchSize/);
  });
});

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OllamaEmbeddings } from "@langchain/ollama";
import { OpenAIEmbeddings } from "@langchain/openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import {
  CachedEmbeddings,
  createEmbeddings,
  embeddingsModelId,
  TransformersJsEmbeddings,
  UniversalSentenceEncoderEmbeddings,
} from "../../src/embeddings/index.js";
import { writeTinyOnnxModel } from "./fixtures/tinyOnnxModel.js";

let root: string;
let modelDir: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "genera-factory-"));
  modelDir = writeTinyOnnxModel(join(root, "tiny")).dir;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("createEmbeddings", () => {
  it("defaults to USE-lite behind the cache, one worker per core", async () => {
    const config = loadConfig({ env: {}, cwd: root });
    const e = createEmbeddings({ ...config.embeddings, cacheDir: join(root, "cache") });
    expect(e).toBeInstanceOf(CachedEmbeddings);
    expect(e.modelId).toBe("use-lite-512");
    const inner = (e as CachedEmbeddings).embeddings as UniversalSentenceEncoderEmbeddings;
    expect(inner).toBeInstanceOf(UniversalSentenceEncoderEmbeddings);
    expect(inner.workers).toBeGreaterThanOrEqual(1);
    expect((e as CachedEmbeddings).path).toBe(join(root, "cache", "embeddings.sqlite"));
    await e.close();
  });

  it("honours workers and cache: false", () => {
    const e = createEmbeddings({ provider: "use", workers: 3, cache: false });
    expect(e).toBeInstanceOf(UniversalSentenceEncoderEmbeddings);
    expect((e as UniversalSentenceEncoderEmbeddings).workers).toBe(3);
  });

  it("builds a cached transformers.js model whose re-embedding is skipped", async () => {
    const e = createEmbeddings({ provider: "transformersjs", model: modelDir, cacheDir: join(root, "cache-tjs") });
    expect(e.modelId).toBe(`transformersjs:${modelDir}:mean:fp32`);
    const texts = ["the cat sat", "hello world"];
    const first = await e.embedDocuments(texts);
    const second = await e.embedDocuments(texts);
    expect(second).toEqual(first);
    expect((e as CachedEmbeddings).stats).toEqual({ hits: 2, misses: 2 });
    await e.close();
  });

  it("needs a model name for transformersjs", () => {
    expect(() => createEmbeddings({ provider: "transformersjs" })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID" }),
    );
    expect(() => createEmbeddings({ provider: "nope" as "use" })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID" }),
    );
  });
});

describe("embeddingsModelId", () => {
  it("uses modelId when present", () => {
    expect(embeddingsModelId(new UniversalSentenceEncoderEmbeddings({ inProcess: true }))).toBe("use-lite-512");
    expect(embeddingsModelId(new TransformersJsEmbeddings({ model: "org/name", pooling: "cls" }))).toBe(
      "transformersjs:org/name:cls:fp32",
    );
  });

  it("names other LangChain integrations by class and model", () => {
    const openai = new OpenAIEmbeddings({ apiKey: "test-key", model: "text-embedding-3-small" });
    expect(embeddingsModelId(openai)).toBe("OpenAIEmbeddings:text-embedding-3-small");
    const ollama = new OllamaEmbeddings({ model: "nomic-embed-text" });
    expect(embeddingsModelId(ollama)).toBe("OllamaEmbeddings:nomic-embed-text");
    expect(embeddingsModelId({ embedDocuments: async () => [], embedQuery: async () => [] })).toBe("Object");
  });
});

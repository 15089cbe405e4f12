import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { OpenAIEmbeddings } from "@langchain/openai";
import { afterEach, describe, expect, it } from "vitest";
import { CachedEmbeddings } from "../../src/embeddings/CachedEmbeddings.js";
import { embeddingsModelId } from "../../src/embeddings/embeddingsModelId.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { HNSWVectorStore } from "../../vectorstores/hnsw.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "genera-modelid-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * The real OpenAIEmbeddings class (so the class name is exactly what the index used to record),
 * with its two calls answered locally: same class, the model named only in `model`.
 */
function openAiEmbeddings(model: string): OpenAIEmbeddings {
  const local = new HashEmbeddings({ dimension: 32 });
  const embeddings = new OpenAIEmbeddings({ model, apiKey: "not-used" });
  embeddings.embedDocuments = (texts: string[]) => local.embedDocuments(texts);
  embeddings.embedQuery = (text: string) => local.embedQuery(text);
  return embeddings;
}

describe("one model id for the index guard and the cache", () => {
  it("tells two models of one embeddings class apart", () => {
    const small = openAiEmbeddings("text-embedding-3-small");
    const large = openAiEmbeddings("text-embedding-3-large");
    expect(embeddingsModelId(small)).toBe("OpenAIEmbeddings:text-embedding-3-small");
    expect(embeddingsModelId(large)).not.toBe(embeddingsModelId(small));
    expect(embeddingsModelId(openAiEmbeddings("text-embedding-3-small"))).toBe(embeddingsModelId(small));
  });

  it("the knowledge base records the same id the cache keys on, and refuses the other model", async () => {
    const docs = join(tempDir(), "docs");
    mkdirSync(docs);
    writeFileSync(join(docs, "a.md"), "# Attention\n\nAttention weighs the values by query–key similarity.\n");
    const store = join(tempDir(), "store");
    const cache = new CachedEmbeddings({ embeddings: openAiEmbeddings("text-embedding-3-small"), dir: tempDir() });
    const kb = await KnowledgeBase.open({ dir: store, embeddings: cache });
    expect((await kb.stats()).model).toBe("OpenAIEmbeddings:text-embedding-3-small");
    expect((await kb.stats()).model).toBe(cache.modelId);
    expect(kb.vectorStore.modelId).toBe(cache.modelId);
    await kb.index([docs]);
    await kb.close();
    await cache.close();

    // Before, both were recorded as "OpenAIEmbeddings" and the large model's vectors were mixed in silently.
    const error = await KnowledgeBase.open({ dir: store, embeddings: openAiEmbeddings("text-embedding-3-large") }).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message?: string },
    );
    expect(error?.code).toBe("MODEL_MISMATCH");
    expect(error?.message).toContain("text-embedding-3-small");
    expect(error?.message).toContain("text-embedding-3-large");

    // The same model without the cache is the same id: the store opens and answers.
    const again = await KnowledgeBase.open({ dir: store, embeddings: openAiEmbeddings("text-embedding-3-small") });
    const hits = await again.asRetriever({ k: 1 }).invoke("attention values");
    expect(hits[0]?.metadata.source).toBe("a.md");
    await again.close();
  });

  it("a saved HNSW index refuses another model of the same class", async () => {
    const dir = tempDir();
    const store = new HNSWVectorStore(openAiEmbeddings("text-embedding-3-small"));
    await store.addDocuments([new Document({ pageContent: "hello world" })], { ids: ["a"] });
    await store.save(dir);
    await expect(HNSWVectorStore.load(dir, openAiEmbeddings("text-embedding-3-large"))).rejects.toMatchObject({
      code: "MODEL_MISMATCH",
    });
    const loaded = await HNSWVectorStore.load(dir, openAiEmbeddings("text-embedding-3-small"));
    expect(loaded.size).toBe(1);
  });
});

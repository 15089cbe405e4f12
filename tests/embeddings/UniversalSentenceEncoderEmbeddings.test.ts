import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  UniversalSentenceEncoderEmbeddings,
  USE_DIMENSION,
  USE_MAX_TOKENS,
} from "../../src/embeddings/UniversalSentenceEncoderEmbeddings.js";
import { isGeneraError } from "../../src/errors.js";
import { TS_NODE_FLAGS } from "../helpers/tsNode.js";

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * (b[i] as number), 0);
const norm = (a: number[]) => Math.sqrt(dot(a, a));

const SENTENCES = [
  "The cat sat quietly on the kitchen table.",
  "A kitten is resting on the table in the kitchen.",
  "Stock markets fell sharply after the central bank raised interest rates.",
  "Shares dropped when the bank increased the cost of borrowing.",
  "How do I bake sourdough bread at home?",
  "Recipe for making homemade sourdough loaves.",
];

describe("UniversalSentenceEncoderEmbeddings in the calling thread", () => {
  const use = new UniversalSentenceEncoderEmbeddings({ inProcess: true, batchSize: 8 });
  let vectors: number[][];

  beforeAll(async () => {
    vectors = await use.embedDocuments(SENTENCES);
  });
  afterAll(() => use.close());

  it("describes itself", () => {
    expect(use.modelId).toBe("use-lite-512");
    expect(use.dimension).toBe(512);
    expect(USE_DIMENSION).toBe(512);
    // A different truncation changes long texts' vectors, so caches must not share them.
    expect(new UniversalSentenceEncoderEmbeddings({ maxTokens: 64 }).modelId).toBe("use-lite-512:max64");
  });

  it("returns one unit-length 512-d vector per text", () => {
    expect(vectors).toHaveLength(SENTENCES.length);
    for (const v of vectors) {
      expect(v).toHaveLength(512);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
  });

  it("scores paraphrases above unrelated sentences", () => {
    for (let pair = 0; pair < SENTENCES.length; pair += 2) {
      const a = vectors[pair] as number[];
      const b = vectors[pair + 1] as number[];
      const related = dot(a, b);
      for (let other = 0; other < SENTENCES.length; other++) {
        if (other === pair || other === pair + 1) continue;
        expect(related).toBeGreaterThan(dot(a, vectors[other] as number[]) + 0.1);
      }
    }
  });

  it("gives the same vector for a text alone, in a batch, and as a query", async () => {
    const alone = await use.embedQuery(SENTENCES[2] as string);
    expect(dot(alone, vectors[2] as number[])).toBeCloseTo(1, 4);
  });

  it("keeps rows aligned around empty and whitespace-only texts", async () => {
    const mixed = await use.embedDocuments(["", SENTENCES[0] as string, "   \n\t", SENTENCES[4] as string, ""]);
    expect(mixed).toHaveLength(5);
    for (const i of [0, 2, 4]) expect((mixed[i] as number[]).every((x) => x === 0)).toBe(true);
    expect(dot(mixed[1] as number[], vectors[0] as number[])).toBeCloseTo(1, 4);
    expect(dot(mixed[3] as number[], vectors[4] as number[])).toBeCloseTo(1, 4);
    expect(await use.embedDocuments([])).toEqual([]);
  });

  it(`truncates beyond ${USE_MAX_TOKENS} tokens`, async () => {
    const head = "The quick brown fox jumps over the lazy dog. ".repeat(40);
    const [a, b] = await use.embedDocuments([
      head,
      `${head}${"Completely different words about finance. ".repeat(60)}`,
    ]);
    expect(dot(a as number[], b as number[])).toBeCloseTo(1, 4);
  });

  it("rejects non-string input with INVALID_INPUT", async () => {
    await expect(use.embedDocuments([1 as unknown as string])).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect(() => new UniversalSentenceEncoderEmbeddings({ batchSize: 0 })).toThrow(/batchSize/);
    try {
      new UniversalSentenceEncoderEmbeddings({ workers: -1 });
    } catch (error) {
      expect(isGeneraError(error) && error.code).toBe("INVALID_INPUT");
    }
  });

  it("reports a missing model folder as MODEL_NOT_FOUND", async () => {
    const broken = new UniversalSentenceEncoderEmbeddings({ inProcess: true, modelDir: "/nonexistent/use-model" });
    await expect(broken.embedQuery("hello")).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
  });

  describe("with a pool of two worker threads", () => {
    // The engine runtime runs one model per worker; onnxruntime uses one worker whose own pool has `workers` threads.
    const pooled = new UniversalSentenceEncoderEmbeddings({ workers: 2, batchSize: 8, runtime: "engine" });
    afterAll(() => pooled.close());

    it("matches the in-thread vectors row for row", async () => {
      const texts = [...SENTENCES, "", ...SENTENCES.map((s) => s.toUpperCase())];
      const fromPool = await pooled.embedDocuments(texts);
      expect(fromPool).toHaveLength(texts.length);
      SENTENCES.forEach((_, i) => {
        expect(dot(fromPool[i] as number[], vectors[i] as number[])).toBeCloseTo(1, 4);
      });
      expect((fromPool[SENTENCES.length] as number[]).every((x) => x === 0)).toBe(true);
      // The pool runs the batches in both workers.
      expect((pooled as unknown as { documentPool: { liveWorkers: number } }).documentPool.liveWorkers).toBe(2);
    });

    it("keeps onnxruntime to one worker thread, its threads inside it", async () => {
      const ort = new UniversalSentenceEncoderEmbeddings({ workers: 2 });
      try {
        const fromOrt = await ort.embedDocuments(SENTENCES);
        SENTENCES.forEach((_, i) => {
          expect(dot(fromOrt[i] as number[], vectors[i] as number[])).toBeCloseTo(1, 4);
        });
        expect((ort as unknown as { documentPool: { liveWorkers: number } }).documentPool.liveWorkers).toBe(1);
      } finally {
        await ort.close();
      }
    });

    it("serves concurrent calls and restarts after close()", async () => {
      const [a, b] = await Promise.all([
        pooled.embedDocuments(SENTENCES.slice(0, 3)),
        pooled.embedDocuments(SENTENCES.slice(3)),
      ]);
      expect([...(a as number[][]), ...(b as number[][])]).toHaveLength(SENTENCES.length);
      expect(dot((b as number[][])[0] as number[], vectors[3] as number[])).toBeCloseTo(1, 4);
      await pooled.close();
      const again = await pooled.embedQuery(SENTENCES[0] as string);
      expect(dot(again, vectors[0] as number[])).toBeCloseTo(1, 4);
    });

    it("fails a call with MODEL_NOT_FOUND when the workers cannot load the model", async () => {
      const broken = new UniversalSentenceEncoderEmbeddings({ workers: 1, modelDir: "/nonexistent/use-model" });
      await expect(broken.embedDocuments(["hello"])).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
      await broken.close();
    });
  });
});

describe("a script that never calls close()", () => {
  it("exits by itself when run from its TypeScript source", () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-use-exit-"));
    try {
      const script = join(dir, "embed.mts");
      const entry = pathToFileURL(resolve("src/embeddings/UniversalSentenceEncoderEmbeddings.ts")).href;
      writeFileSync(
        script,
        `import { UniversalSentenceEncoderEmbeddings } from ${JSON.stringify(entry)};
const use = new UniversalSentenceEncoderEmbeddings({ workers: 2 });
const vectors = await use.embedDocuments(["one sentence", "another sentence", "a third one"]);
console.log("embedded", vectors.length, vectors[0].length);
`,
      );
      const run = spawnSync(process.execPath, [...TS_NODE_FLAGS, script], {
        cwd: resolve("."),
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(run.error).toBeUndefined();
      expect(run.stderr).not.toMatch(/Error/);
      expect(run.stdout).toContain("embedded 3 512");
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  loadUseLiteModel,
  USE_LITE_RUNTIMES,
  type UseLiteRunner,
  type UseLiteRuntime,
} from "../../src/embeddings/loadUseLiteModel.js";
import { UniversalSentenceEncoderEmbeddings } from "../../src/embeddings/UniversalSentenceEncoderEmbeddings.js";
import { USE_DIMENSION, USE_MAX_TOKENS } from "../../src/embeddings/useLiteAssets.js";

// Texts that exercise every path: one token, punctuation and digits, unknown characters
// (token id 0), mixed lengths in one batch (the graph pads, the engine does not), and
// texts past the model's 128-token window. Their vectors were computed once by the model's
// own graph on stock TensorFlow.js (see the fixture's "source"), the reference both runtimes
// are held to; TensorFlow.js itself is not installed any more.
const REFERENCE = JSON.parse(readFileSync(new URL("./fixtures/useLiteReference.json", import.meta.url), "utf8")) as {
  texts: string[];
  vectors: string;
};
const TEXTS = REFERENCE.texts;
const referenceBytes = Buffer.from(REFERENCE.vectors, "base64");
const REFERENCE_VECTORS = new Float32Array(referenceBytes.buffer, referenceBytes.byteOffset, referenceBytes.length / 4);

describe("USE-lite's forward pass (UseLiteForward)", () => {
  const models = new Map<UseLiteRuntime, UseLiteRunner>();
  beforeAll(async () => {
    for (const runtime of USE_LITE_RUNTIMES) models.set(runtime, await loadUseLiteModel({ runtime }));
  });
  afterAll(() => {
    for (const m of models.values()) m.dispose();
  });
  const model = (runtime: UseLiteRuntime) => models.get(runtime) as UseLiteRunner;

  for (const runtime of ["onnxruntime", "engine"] as const) {
    it(`gives the TensorFlow.js graph's vectors to float rounding on ${runtime}, batched or alone`, async () => {
      const reference = REFERENCE_VECTORS;
      expect(reference).toHaveLength(TEXTS.length * USE_DIMENSION);
      const batched = await model(runtime).embedBatch(TEXTS);
      let worst = 0;
      for (let i = 0; i < reference.length; i++) {
        worst = Math.max(worst, Math.abs((reference[i] as number) - (batched[i] as number)));
      }
      expect(worst).toBeLessThan(2e-5);
      for (const [row, text] of TEXTS.entries()) {
        const alone = await model(runtime).embedBatch([text]);
        for (let j = 0; j < USE_DIMENSION; j++) {
          expect(Math.abs((alone[j] as number) - (batched[row * USE_DIMENSION + j] as number))).toBeLessThan(1e-5);
        }
      }
    });
  }

  it("returns unit rows, and zero rows for texts without tokens", async () => {
    const out = await model("onnxruntime").embedBatch(TEXTS);
    for (const [row, text] of TEXTS.entries()) {
      let sum = 0;
      for (let j = 0; j < USE_DIMENSION; j++) sum += (out[row * USE_DIMENSION + j] as number) ** 2;
      expect(sum).toBeCloseTo(text.trim() ? 1 : 0, 5);
    }
    expect(await model("onnxruntime").embedBatch([])).toHaveLength(0);
  });

  it(`reads at most ${USE_MAX_TOKENS} tokens, as the graph does`, () => {
    for (const m of models.values()) expect(m.maxTokens).toBe(USE_MAX_TOKENS);
    expect(() => new UniversalSentenceEncoderEmbeddings({ maxTokens: USE_MAX_TOKENS + 1 })).toThrow(/maxTokens/);
  });

  it("rejects an unknown runtime", async () => {
    expect(() => new UniversalSentenceEncoderEmbeddings({ runtime: "onnx" as "engine" })).toThrow(/runtime/);
    await expect(loadUseLiteModel({ runtime: "onnx" as "engine" })).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("serves the same vectors from worker threads on every runtime", async () => {
    const texts = TEXTS.slice(0, 6);
    const pools = USE_LITE_RUNTIMES.map((runtime) => new UniversalSentenceEncoderEmbeddings({ workers: 1, runtime }));
    try {
      const [first, ...others] = await Promise.all(pools.map((p) => p.embedDocuments(texts)));
      for (const other of others) {
        for (const [i, row] of (first as number[][]).entries()) {
          const o = (other as number[][])[i] as number[];
          expect(Math.max(...row.map((v, j) => Math.abs(v - (o[j] as number))))).toBeLessThan(2e-5);
        }
      }
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  });
});

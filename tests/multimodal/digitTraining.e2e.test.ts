import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "../../src/images/mnist.js";
import { HELD_OUT_TEMPLATES } from "../../src/multimodal/digits/digitCaptions.js";
import { loadDigitEncoder, saveDigitEncoder } from "../../src/multimodal/digits/digitEncoderCheckpoint.js";
import { trainDigitEncoder, zeroShotAccuracy } from "../../src/multimodal/digits/trainDigitEncoder.js";

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "genera-digit-training-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("training the digit dual encoder", () => {
  it("learns with the engine: loss falls and held-out phrasings classify digits; a checkpoint round-trips", () => {
    const train = loadMnist("train", { limit: 3000 });
    const validation = loadMnist("test", { limit: 300 });
    const { model, history, validationAccuracy } = trainDigitEncoder({
      train,
      validation,
      steps: 150,
      batchSize: 64,
      evalEvery: 150,
    });
    const first = history.slice(0, 10).reduce((s, e) => s + e.loss, 0) / 10;
    const last = history.slice(-10).reduce((s, e) => s + e.loss, 0) / 10;
    expect(last).toBeLessThan(first * 0.6);
    expect(validationAccuracy).toBeGreaterThan(0.5);

    const dir = join(root, "checkpoint");
    saveDigitEncoder(dir, model, { steps: 150 });
    const loaded = loadDigitEncoder(dir);
    expect(zeroShotAccuracy(loaded, validation, HELD_OUT_TEMPLATES)).toBeCloseTo(
      zeroShotAccuracy(model, validation, HELD_OUT_TEMPLATES),
      6,
    );
    expect(() => loadDigitEncoder(join(root, "nowhere"))).toThrow(expect.objectContaining({ code: "MODEL_NOT_FOUND" }));
  });
});

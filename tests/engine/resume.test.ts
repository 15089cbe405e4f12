import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { trainGPT } from "../../src/engine/training/trainGPT.js";
import { syntheticCorpus, TINY_CONFIG } from "./helpers/corpus.js";

const dir = mkdtempSync(join(tmpdir(), "genera-resume-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Dropout on (as in the `small` preset genera train uses): every step draws dropout masks
// from the model's generator, so a resume is exact only if that generator's state is restored.
const common = {
  corpus: syntheticCorpus(8_000),
  preset: "tiny",
  config: { ...TINY_CONFIG, dropout: 0.1 },
  batchSize: 4,
  lr: 3e-3,
  evalEvery: 4,
  evalBatches: 1,
  checkpointEvery: 4,
  seed: 5,
};

describe("resume with dropout on", () => {
  it("ends with exactly the weights of an uninterrupted run", async () => {
    const whole = await trainGPT({ ...common, outDir: join(dir, "whole"), steps: 12 });
    const split = join(dir, "split");
    // Stopped after step 6 (a checkpoint is written on the way out), then resumed to the end.
    const stop = new AbortController();
    const first = await trainGPT({
      ...common,
      outDir: split,
      steps: 12,
      signal: stop.signal,
      onProgress: (e) => {
        if (e.type === "step" && e.step === 6) stop.abort();
      },
    });
    expect(first.step).toBe(6);
    const resumed = await trainGPT({ ...common, outDir: split, steps: 12, resume: true });
    expect(resumed.resumedFrom).toBe(6);
    const a = whole.model.namedParameters();
    const b = new Map(resumed.model.namedParameters());
    let maxDiff = 0;
    for (const [name, p] of a) {
      const q = b.get(name)!.data;
      for (let i = 0; i < p.size; i++) maxDiff = Math.max(maxDiff, Math.abs(p.data[i] - q[i]));
    }
    expect(maxDiff).toBe(0);
    expect(resumed.valLoss).toBe(whole.valLoss);
  });
});

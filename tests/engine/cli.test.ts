import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, describe, expect, it, vi } from "vitest";
import { register as registerGenerate } from "../../src/cli/commands/generate.js";
import { register as registerTrain } from "../../src/cli/commands/train.js";
import { formatTrialTable, register as registerTune } from "../../src/cli/commands/tune.js";
import { tune } from "../../src/engine/training/tune.js";
import { syntheticCorpus, TINY_CONFIG } from "./helpers/corpus.js";

const dir = mkdtempSync(join(tmpdir(), "genera-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ out: string; err: string }> {
  const program = new Command("genera").exitOverride();
  registerTrain(program);
  registerGenerate(program);
  registerTune(program);
  let out = "";
  let err = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    await program.parseAsync(["node", "genera", ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  return { out, err };
}

describe("genera train / generate / tune", () => {
  const corpusDir = join(dir, "corpus");
  const model = join(dir, "model");
  const tiny = ["--preset", "tiny", "--block-size", "16", "--d-model", "32", "--n-layers", "1", "--n-heads", "2"];

  it("trains from a folder of .md/.txt files, then resumes to more steps", async () => {
    rmSync(corpusDir, { recursive: true, force: true });
    const text = syntheticCorpus(8000);
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(corpusDir, "sub"), { recursive: true });
    writeFileSync(join(corpusDir, "a.md"), text.slice(0, 4000));
    writeFileSync(join(corpusDir, "sub", "b.txt"), text.slice(4000));
    writeFileSync(join(corpusDir, "ignored.json"), "{}");
    const first = await run([
      "train",
      "--corpus",
      corpusDir,
      "--out",
      model,
      ...tiny,
      "--steps",
      "6",
      "--batch-size",
      "4",
      "--eval-every",
      "3",
    ]);
    expect(first.err).toContain("corpus: 2 file(s)");
    expect(first.err).toMatch(/unigram baseline \d\.\d{3}/);
    expect(first.out).toMatch(/^step 6: train loss \d/);
    const second = await run(["train", "--corpus", corpusDir, "--out", model, "--steps", "8", "--resume", "--json"]);
    expect(second.err).toContain("resuming at step 6");
    expect(JSON.parse(second.out).step).toBe(8);
    const metrics = readFileSync(join(model, "metrics.jsonl"), "utf8").trim().split("\n");
    expect(metrics.filter((l) => l.includes('"type":"train"'))).toHaveLength(8);
  });

  it("rejects bad flags with a message naming the flag", async () => {
    await expect(run(["train", "--corpus", corpusDir, "--out", model, "--steps", "zero"])).rejects.toThrow(
      /--steps must be an integer ≥ 1, got "zero"/,
    );
    await expect(run(["train", "--corpus", join(dir, "missing"), "--out", model])).rejects.toThrow(/does not exist/);
  });

  it("streams a continuation to stdout", async () => {
    const { out } = await run(["generate", "--model", model, "the cat", "--max-tokens", "12", "--seed", "4"]);
    expect(out.startsWith("the cat")).toBe(true);
    expect(out.length).toBeGreaterThan("the cat".length);
  });

  it("tunes over a small grid and prints a table sorted by validation loss", async () => {
    const result = await tune({
      corpus: syntheticCorpus(6000),
      preset: "tiny",
      config: TINY_CONFIG,
      space: { lr: [1e-4, 1e-2], dModel: [16, 32] },
      stepsPerTrial: 8,
      evalBatches: 2,
    });
    expect(result.trials).toHaveLength(4);
    const losses = result.trials.map((t) => t.valLoss);
    expect([...losses].sort((a, b) => a - b)).toEqual(losses);
    // A learning rate 100× larger makes far more progress in 8 steps.
    expect(result.best?.params.lr).toBe(1e-2);
    const table = formatTrialTable(result.trials, result.unigramBaseline);
    expect(table.split("\n")[0]).toMatch(/\| rank \| lr .*\| val loss \|/);
    expect(table).toContain("unigram baseline");
    // Random search draws distinct combinations from the same grid.
    const random = await tune({
      corpus: syntheticCorpus(6000),
      preset: "tiny",
      config: TINY_CONFIG,
      space: { lr: [1e-3, 3e-3], batchSize: [2, 4], nLayers: [1, 2] },
      mode: "random",
      trials: 3,
      stepsPerTrial: 2,
      evalBatches: 1,
    });
    expect(random.trials).toHaveLength(3);
    expect(new Set(random.trials.map((t) => JSON.stringify(t.params))).size).toBe(3);
  });
});

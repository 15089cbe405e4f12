import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { loadCheckpoint, loadTrainingState, saveCheckpoint } from "../../src/engine/checkpoints/checkpoint.js";
import { loadSafetensors } from "../../src/engine/checkpoints/safetensors.js";
import { GPT } from "../../src/engine/models/gpt.js";
import { CharTokenizer } from "../../src/engine/tokenizers/index.js";
import { readMetrics, trainGPT } from "../../src/engine/training/trainGPT.js";
import { TS_NODE_FLAGS } from "../helpers/tsNode.js";
import { syntheticCorpus, TINY_CONFIG } from "./helpers/corpus.js";

const dir = mkdtempSync(join(tmpdir(), "genera-train-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const child = fileURLToPath(new URL("./helpers/trainChild.ts", import.meta.url));

const common = {
  corpus: syntheticCorpus(),
  preset: "tiny",
  config: TINY_CONFIG,
  batchSize: 4,
  lr: 3e-3,
  evalEvery: 4,
  evalBatches: 1,
  checkpointEvery: 3,
  seed: 11,
};

describe("trainGPT", () => {
  it("lowers the loss below the unigram baseline and writes metrics, loss.svg and a loadable checkpoint", async () => {
    const out = join(dir, "run");
    const events: string[] = [];
    const r = await trainGPT({
      ...common,
      outDir: out,
      steps: 120,
      batchSize: 8,
      lr: 1e-2,
      evalEvery: 40,
      evalBatches: 4,
      checkpointEvery: 60,
      onProgress: (e) => events.push(e.type),
    });
    expect(r.evals[0].valLoss).toBeGreaterThan(r.valLoss);
    expect(r.trainCurve[0][1]).toBeGreaterThan(r.trainLoss + 0.5);
    expect(r.valLoss).toBeLessThan(r.unigramBaseline);
    expect(events[0]).toBe("start");
    expect(events.at(-1)).toBe("done");
    expect(events).toContain("checkpoint");
    const metrics = readMetrics(join(out, "metrics.jsonl"));
    expect(metrics[0].type).toBe("meta");
    expect(metrics.filter((m) => m.type === "train")).toHaveLength(120);
    expect(metrics.filter((m) => m.type === "eval").map((m) => m.step)).toEqual([40, 80, 120]);
    const svg = readFileSync(join(out, "loss.svg"), "utf8");
    expect(svg).toContain("<svg");
    expect(svg).toContain("unigram baseline");
    const ck = loadCheckpoint(out);
    expect(ck.config.model_type).toBe("gpt");
    expect(ck.config.training?.step).toBe(120);
    const gpt = ck.model as GPT;
    // The loaded model computes the same validation loss as the trained one.
    const ids = Int32Array.from(ck.tokenizer.encode(common.corpus.slice(0, 17)));
    const a = r.model
      .forward({ ids: ids.subarray(0, 16), batchSize: 1, seqLen: 16, targets: ids.subarray(1, 17) })
      .loss!.item();
    const b = gpt
      .forward({ ids: ids.subarray(0, 16), batchSize: 1, seqLen: 16, targets: ids.subarray(1, 17) })
      .loss!.item();
    expect(b).toBeCloseTo(a, 5);
  });

  it("fits the learning-rate decay to a time budget", async () => {
    const lr = 3e-3;
    const rates: number[] = [];
    const r = await trainGPT({
      ...common,
      steps: 100_000,
      lr,
      maxSeconds: 2.5,
      fitScheduleToTime: true,
      evalEvery: 1000,
      onProgress: (e) => {
        if (e.type === "step") rates.push(e.lr!);
      },
    });
    expect(r.step).toBeLessThan(100_000);
    // Decayed to near minLr (lr / 10) by the end rather than cut off at the peak.
    expect(rates.at(-1)!).toBeLessThan(lr * 0.3);
  });

  it("refuses to overwrite an existing checkpoint unless told to resume or overwrite", async () => {
    await expect(trainGPT({ ...common, outDir: join(dir, "run"), steps: 2 })).rejects.toThrow(
      /already holds a checkpoint/,
    );
  });

  it("resumes after SIGKILL and ends with exactly the weights of an uninterrupted run", async () => {
    const steps = 30;
    const ref = await trainGPT({ ...common, outDir: join(dir, "ref"), steps });
    const out = join(dir, "killed");
    // Start a real child process and SIGKILL it mid-run.
    const killedAt = await new Promise<number>((resolve, reject) => {
      const p = spawn(process.execPath, [...TS_NODE_FLAGS, child, out, String(steps)], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let buf = "";
      let stderr = "";
      let last = 0;
      p.stdout.on("data", (d) => {
        buf += d;
        for (const line of buf.split("\n")) {
          const m = /^step (\d+)/.exec(line);
          if (m) last = Number(m[1]);
        }
        if (last >= 8 && !p.killed) p.kill("SIGKILL");
      });
      p.stderr.on("data", (d) => {
        stderr += d;
      });
      p.on("exit", (code, signal) =>
        signal === "SIGKILL" ? resolve(last) : reject(new Error(`child exited ${code}: ${stderr}`)),
      );
    });
    expect(killedAt).toBeLessThan(steps);
    const saved = loadTrainingState(out)!;
    expect(saved.trainerState.step % 3).toBe(0);
    expect(saved.trainerState.step).toBeLessThanOrEqual(killedAt);
    const resumed = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, [...TS_NODE_FLAGS, child, out, String(steps)], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let s = "";
      p.stdout.on("data", (d) => {
        s += d;
      });
      p.stderr.on("data", (d) => {
        s += d;
      });
      p.on("exit", (code) => (code === 0 ? resolve(s) : reject(new Error(s))));
    });
    expect(resumed).toContain("finished");
    // The resumed run starts right after the checkpoint, not from step 1.
    expect(resumed).toContain(`step ${saved.trainerState.step + 1}\n`);
    expect(resumed).not.toMatch(/^step 1$/m);
    const a = loadSafetensors(join(out, "model.safetensors")).tensors;
    for (const [name, t] of ref.model.namedParameters()) {
      expect(Array.from(a.get(name)!.data), name).toEqual(Array.from(t.data));
    }
    // One metrics line per step, none duplicated by the replayed steps.
    const steps1 = readMetrics(join(out, "metrics.jsonl"))
      .filter((m) => m.type === "train")
      .map((m) => m.step);
    expect(steps1).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
  }, 90_000);
});

describe("checkpoint folder", () => {
  const tok = CharTokenizer.fromCorpus("abc ");
  const config = { ...TINY_CONFIG, vocabSize: tok.vocabSize };

  it("finishes a committed save interrupted mid-rename and ignores an uncommitted one", () => {
    const out = join(dir, "staged");
    const m1 = new GPT(config, 1);
    saveCheckpoint(out, { model: m1, modelType: "gpt", config, tokenizer: tok, training: { step: 1 } });
    // Simulate a crash after the COMMIT marker: a newer model still sits in .staging.
    const m2 = new GPT(config, 2);
    const staging = join(out, ".staging");
    saveCheckpoint(join(dir, "other"), { model: m2, modelType: "gpt", config, tokenizer: tok, training: { step: 2 } });
    mkdirSync(staging);
    writeFileSync(join(staging, "model.safetensors"), readFileSync(join(dir, "other", "model.safetensors")));
    writeFileSync(join(staging, "COMMIT"), JSON.stringify({ files: ["config.json", "model.safetensors"], step: 2 }));
    const loaded = loadCheckpoint(out).model as GPT;
    expect(Array.from(loaded.namedParameters()[0][1].data)).toEqual(Array.from(m2.namedParameters()[0][1].data));
    expect(existsSync(staging)).toBe(false);
    // A torn save (no COMMIT) is invisible to readers: the previous weights stay.
    mkdirSync(staging);
    writeFileSync(join(staging, "model.safetensors"), "garbage");
    const again = loadCheckpoint(out).model as GPT;
    expect(Array.from(again.namedParameters()[0][1].data)).toEqual(Array.from(m2.namedParameters()[0][1].data));
  });

  it("reports missing and damaged files with NOT_FOUND / INDEX_CORRUPT", () => {
    const out = join(dir, "damaged");
    saveCheckpoint(out, { model: new GPT(config, 1), modelType: "gpt", config, tokenizer: tok });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
      return "ok";
    };
    expect(code(() => loadCheckpoint(join(dir, "absent")))).toMatch(/^NOT_FOUND/);
    const weights = readFileSync(join(out, "model.safetensors"));
    writeFileSync(join(out, "model.safetensors"), weights.subarray(0, weights.length - 100));
    expect(code(() => loadCheckpoint(out))).toMatch(/^INDEX_CORRUPT: .*model\.safetensors/);
    writeFileSync(join(out, "model.safetensors"), weights);
    writeFileSync(join(out, "config.json"), "{ broken");
    expect(code(() => loadCheckpoint(out))).toMatch(/^INDEX_CORRUPT: .*config\.json/);
    rmSync(join(out, "config.json"));
    expect(code(() => loadCheckpoint(out))).toMatch(/^NOT_FOUND: .*config\.json is missing/);
  });
});

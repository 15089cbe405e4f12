import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RequestVocabulary } from "../../src/agents/toolModel/requestTokens.js";
import { ToolCallTagger } from "../../src/agents/toolModel/ToolCallTagger.js";
import { batchRequests, ToolModel } from "../../src/agents/toolModel/ToolModel.js";
import { INTENTS } from "../../src/agents/toolModel/toolPlan.js";
import { noGrad } from "../../src/engine/index.js";

// Tiny untrained taggers without pretrained vectors: the ensemble's arithmetic and the
// checkpoint format, not the trained model's accuracy (bench:agent measures that).
const texts = ["search the notes for adam", "what is 12 times 7", "list the files in docs", "hello there"];
const vocab = RequestVocabulary.build(texts, 1);
const config = { vocabSize: vocab.size, maxLen: 16, dModel: 16, nHeads: 2, nLayers: 1, dFF: 32, dropout: 0 };
const tagger = (seed: number) => new ToolCallTagger(config, seed);
const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "genera-toolmodel-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function logSoftmax(row: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(row));
  const lse = max + Math.log(Array.from(row).reduce((s, v) => s + Math.exp(v - max), 0));
  return Array.from(row, (v) => v - lse);
}

describe("ToolModel ensembles", () => {
  it("an ensemble of one tagger twice decodes exactly as that tagger alone", async () => {
    const one = tagger(3);
    const single = await new ToolModel(one, vocab).predictBatch(texts);
    const twice = await new ToolModel([one, one], vocab).predictBatch(texts);
    expect(twice.map((p) => p.plan)).toEqual(single.map((p) => p.plan));
    for (const [i, p] of twice.entries()) expect(p.confidence).toBeCloseTo(single[i]?.confidence as number, 5);
  });

  it("averages the members' intent log-probabilities (the confidence is the mean's softmax)", async () => {
    const members = [tagger(1), tagger(2), tagger(5)];
    const model = new ToolModel(members, vocab);
    const predictions = await model.predictBatch(texts);
    const batch = batchRequests(texts.map((t) => model.encode(t)));
    const logps = members.map((m) => noGrad(() => m.forward(batch)).intentLogits.data);
    predictions.forEach((p, b) => {
      const mean = INTENTS.map(
        (_i, k) =>
          logps.reduce(
            (s, data) => s + (logSoftmax(data.subarray(b * INTENTS.length, (b + 1) * INTENTS.length))[k] as number),
            0,
          ) / members.length,
      );
      const k = INTENTS.indexOf(p.plan.intent);
      expect(p.confidence).toBeCloseTo(Math.exp(logSoftmax(mean)[k] as number), 5);
    });
    expect(model.numParameters()).toBe(3 * (members[0] as ToolCallTagger).numParameters());
  });

  it("a single model saves as before (no members key) and loads back", async () => {
    const dir = scratch();
    const model = new ToolModel(tagger(4), vocab);
    model.save(dir);
    const saved = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    expect(saved.members).toBeUndefined();
    expect(existsSync(join(dir, "model-1.safetensors"))).toBe(false);
    const loaded = ToolModel.load(dir);
    expect(loaded.members).toHaveLength(1);
    expect(await loaded.predictBatch(texts)).toEqual(await model.predictBatch(texts));
  });

  it("an ensemble saves one weights file per member and loads back to the same predictions", async () => {
    const dir = scratch();
    const model = new ToolModel([tagger(1), tagger(2), tagger(3)], vocab);
    model.save(dir, { note: "three seeds" });
    const saved = JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;
    expect(saved.members).toBe(3);
    expect(saved.note).toBe("three seeds");
    for (const f of ["model.safetensors", "model-1.safetensors", "model-2.safetensors"]) {
      expect(existsSync(join(dir, f))).toBe(true);
    }
    const loaded = ToolModel.load(dir);
    expect(loaded.members).toHaveLength(3);
    const [a, b] = [await loaded.predictBatch(texts), await model.predictBatch(texts)];
    expect(a.map((p) => p.plan)).toEqual(b.map((p) => p.plan));
    for (const [i, p] of a.entries()) expect(p.confidence).toBeCloseTo(b[i]?.confidence as number, 6);
  });

  it("refuses a missing member file and members that do not share their inputs", () => {
    const dir = scratch();
    new ToolModel([tagger(1), tagger(2)], vocab).save(dir);
    rmSync(join(dir, "model-1.safetensors"));
    expect(() => ToolModel.load(dir)).toThrow(expect.objectContaining({ code: "MODEL_NOT_FOUND" }));
    const wider = new ToolCallTagger({ ...config, vocabSize: vocab.size + 1 }, 1);
    expect(() => new ToolModel([tagger(1), wider], vocab)).toThrow(expect.objectContaining({ code: "MODEL_MISMATCH" }));
    expect(() => new ToolModel([], vocab)).toThrow(expect.objectContaining({ code: "INVALID_INPUT" }));
  });
});

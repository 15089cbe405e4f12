import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateAnswers, readQaFile } from "../../src/eval/evaluateAnswers.js";

const NO = "The indexed documents do not answer this question.";

describe("evaluateAnswers", () => {
  it("scores answers, first citations and declines, counting a declined unanswerable question as right", async () => {
    const replies: Record<string, { answer: string; sources: Array<{ source: string }> }> = {
      "default port?": { answer: "The default is 5432. [1]", sources: [{ source: "docs/conn.html" }] },
      "bigint size?": { answer: "A bigint is stored in 4 bytes. [1]", sources: [{ source: "other.html" }] },
      "capital of France?": { answer: NO, sources: [] },
      "default of no_such_setting?": { answer: "Something else entirely. [1]", sources: [{ source: "conn.html" }] },
      "max_connections default?": { answer: NO, sources: [] },
    };
    const chain = { invoke: async ({ question }: { question: string }) => replies[question]! };
    const result = await evaluateAnswers(
      chain,
      [
        { question: "default port?", answer: "5432", sources: ["conn.html"] },
        { question: "bigint size?", answer: "8 bytes", sources: ["numeric.html"] },
        { question: "capital of France?", unanswerable: true },
        { question: "default of no_such_setting?", unanswerable: true },
        { question: "max_connections default?", answer: "100", sources: ["conn.html"] },
      ],
      { noAnswerText: NO, concurrency: 2 },
    );
    expect(result.withAnswer).toBe(3);
    expect(result.containsAnswer).toBeCloseTo(1 / 3);
    expect(result.citedFirst).toBeCloseTo(1 / 3); // a declined answer cites nothing
    expect(result.unanswerable).toBe(2);
    expect(result.declineRecall).toBeCloseTo(1 / 2);
    expect(result.declinePrecision).toBeCloseTo(1 / 2);
    expect(result.falseDeclineRate).toBeCloseTo(1 / 3);
    expect(result.correct).toBeCloseTo(2 / 5);
    expect(result.details[2]).toMatchObject({ unanswerable: true, declined: true });
  });

  it("reads unanswerable questions and rejects one that also has an answer", () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-qa-"));
    const good = join(dir, "good.jsonl");
    writeFileSync(good, '{"question":"a?","answer":"x","sources":["a.md"]}\n{"question":"b?","unanswerable":true}\n');
    expect(readQaFile(good)).toEqual([
      { question: "a?", answer: "x", sources: ["a.md"] },
      { question: "b?", unanswerable: true, answer: undefined, sources: undefined },
    ]);
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, '{"question":"b?","unanswerable":true,"answer":"x"}\n');
    expect(() => readQaFile(bad)).toThrow(/unanswerable/);
  });
});

import { describe, expect, it } from "vitest";
import { checkQaFile, shippedSets } from "../../examples/eval/check.js";

// Keeps hand edits of the shipped QA sets honest: every answer must appear in its cited source.
describe("shipped evaluation sets", () => {
  it("cite existing sources that contain each answer", async () => {
    const sets = shippedSets();
    expect(sets.length).toBeGreaterThanOrEqual(2);
    for (const [qa, corpus] of sets) {
      const result = await checkQaFile(qa, corpus);
      expect(result.errors, `${qa}: ${result.errors.slice(0, 3).join("; ")}`).toEqual([]);
    }
  });
});

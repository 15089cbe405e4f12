import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import { ExtractiveAnswerer } from "../../src/llms/ExtractiveAnswerer.js";
import { countedUnit, statesCount } from "../../src/llms/questionAnalysis.js";

/** A made-up database manual: the type's own page has a syntax sentence with digits, its size is in a table. */
const flagPage = new Document({
  pageContent: [
    "# Flag type",
    "",
    "The flag type stores a yes-or-no value in Quarry.",
    "A flag value can be written as on, off, yes, no, 1 or 0 in any letter case.",
  ].join("\n"),
  metadata: { source: "flag.md", title: "Flag type", headings: ["Flag type"], startChar: 0 },
});
const sizes = new Document({
  pageContent: [
    "# Storage of Quarry types",
    "",
    "| Name | Storage Size | Description |",
    "|---|---|---|",
    "| flag | 1 byte | yes or no |",
    "| stamp | 12 bytes | a moment in time |",
  ].join("\n"),
  metadata: {
    source: "sizes.md",
    title: "Storage of Quarry types",
    headings: ["Storage of Quarry types"],
    startChar: 0,
  },
});

describe("How many <unit> …?", () => {
  it("reads the unit a question counts in, singular", () => {
    expect(countedUnit("How many bytes does a flag value take?")).toBe("byte");
    expect(countedUnit("How many training steps did the run take?")).toBe("step");
    expect(countedUnit("How many GPUs, and of which model, were used?")).toBe("gpu");
    expect(countedUnit("Unless told otherwise, how many passes does wipe make?")).toBe("pass");
    expect(countedUnit("How long is the river?")).toBeUndefined();
  });

  it("tells a count in that unit from any digit", () => {
    expect(statesCount("Storage Size: 1 byte", "byte")).toBe(true);
    expect(statesCount("a path takes 16+16n bytes", "byte")).toBe(true);
    expect(statesCount("trained on 8 NVIDIA P100 GPUs", "gpu")).toBe(true);
    expect(statesCount("model: Zeta-L\nparameters: 530B", "parameter")).toBe(true);
    expect(statesCount("values can be written as 1 or 0", "byte")).toBe(false);
    expect(statesCount("model: Vis-H/14\nlayers: 32", "parameter")).toBe(false);
  });

  it("answers with the unit that counts in the asked unit, not a sentence that merely has a digit", async () => {
    const answerer = new ExtractiveAnswerer();
    const out = await answerer.invoke({
      question: "How many bytes does a flag value take?",
      documents: [flagPage, sizes],
    });
    expect(out.citations[0]?.sentence).toContain("1 byte");
  });
});

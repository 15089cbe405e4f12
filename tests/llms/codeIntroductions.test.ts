import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import { ExtractiveAnswerer } from "../../src/llms/ExtractiveAnswerer.js";
import { answerUnits } from "../../src/llms/textUnits.js";

/** A made-up language's FAQ entry: the answer is the code line its sentence introduces. */
const entry = [
  "### Does Quill have a conditional expression?",
  "",
  "Yes, it has one. The syntax is as follows:",
  "",
  "```",
  "<then> when <test> otherwise <else>",
  "",
  "small = a when a < b otherwise b",
  "```",
  "",
  "Older code used a pair of logical operators for the same thing.",
  "",
  "A long example follows here:",
  "",
  "```",
  `quill run --with-a-very-long-flag-name=${"x".repeat(80)}`,
  "```",
].join("\n");

describe("a sentence that introduces a code line", () => {
  it("carries the block's first line when it ends with a colon right above it", () => {
    const units = answerUnits(entry);
    const intro = units.find((u) => u.text.startsWith("The syntax is as follows:"));
    expect(intro?.text).toBe("The syntax is as follows: <then> when <test> otherwise <else>");
    expect(intro?.code).toBe("<then> when <test> otherwise <else>");
    // The rest of the block, and a line too long to quote, stay out.
    expect(units.some((u) => u.text.includes("small = a"))).toBe(false);
    expect(units.find((u) => u.text.startsWith("A long example"))?.text).toBe("A long example follows here:");
    expect(units.find((u) => u.text.startsWith("Older code"))?.code).toBeUndefined();
  });

  it("answers with the introduced line", async () => {
    const doc = new Document({
      pageContent: entry,
      metadata: { source: "quill-faq.md", title: "Quill FAQ", headings: ["Quill FAQ"], startChar: 0 },
    });
    const out = await new ExtractiveAnswerer().invoke({
      question: "What is the syntax of Quill's conditional expression?",
      documents: [doc],
    });
    expect(out.answer).toContain("<then> when <test> otherwise <else>");
  });

  it("reads a sentence that refers back to a one-line block as being about that line", async () => {
    const text = [
      "While the run goes on, you can watch it with:",
      "",
      "```",
      "quill-watch --stack",
      "```",
      "",
      "This will print out the current call stack. Other options exist.",
      "",
      "```",
      "quill-watch --heap",
      "```",
      "",
      "The heap view is slower.",
    ].join("\n");
    const units = answerUnits(text);
    expect(units.find((u) => u.text.startsWith("This will print"))?.topic).toBe("quill-watch --stack");
    expect(units.find((u) => u.text.startsWith("Other options"))?.topic).toBeUndefined();
    // A sentence that does not refer back is not about the block.
    expect(units.find((u) => u.text.startsWith("The heap view"))?.topic).toBeUndefined();
    const doc = new Document({
      pageContent: text,
      metadata: { source: "watch.md", title: "Watching a run", headings: ["Watching a run"], startChar: 0 },
    });
    const out = await new ExtractiveAnswerer().invoke({
      question: "Which command prints the current call stack of a run?",
      documents: [doc],
    });
    expect(out.answer).toContain("quill-watch --stack: This will print out the current call stack.");
  });
});

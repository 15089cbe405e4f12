import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import { ExtractiveAnswerer, NO_ANSWER_TEXT } from "../../src/llms/ExtractiveAnswerer.js";
import { operatorsOf } from "../../src/llms/questionAnalysis.js";

/** A made-up language's FAQ entry about its operators: it names "+=" and "," but never "**". */
const faq = new Document({
  pageContent: [
    "## Why is the comma not an operator in Quill?",
    "",
    "The comma is not an operator in Quill: it separates expressions in a list.",
    "The assignment operators of Quill (=, += and -=) are statements, not expressions.",
  ].join("\n"),
  metadata: { source: "quill-faq.md", title: "Quill FAQ", headings: ["Quill FAQ"], startChar: 0 },
});

describe("operators a question names", () => {
  it("finds runs of symbols that stand as words, not options, signs or brackets", () => {
    expect(operatorsOf("Why does Quill have no ** operator?")).toEqual(["**"]);
    expect(operatorsOf("What does := do in Quill?")).toEqual([":="]);
    expect(operatorsOf("What is the --verbose option of quill?")).toEqual([]);
    expect(operatorsOf("Why does 3 - 1 give 2?")).toEqual([]);
    expect(operatorsOf("What does [ x ] mean?")).toEqual([]);
  });

  it("declines when no passage writes the operator the question asks about", async () => {
    const answerer = new ExtractiveAnswerer();
    const missing = await answerer.invoke({ question: "Why does Quill have no ** operator?", documents: [faq] });
    expect(missing.answer).toBe(NO_ANSWER_TEXT);
    // The same question about an operator the passage does write is still answered.
    const present = await answerer.invoke({ question: "Is += an operator in Quill?", documents: [faq] });
    expect(present.answer).toContain("+=");
  });
});

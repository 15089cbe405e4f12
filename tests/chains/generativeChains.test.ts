import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { RunnableLambda } from "@langchain/core/runnables";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { createDocumentQaChain } from "../../chains/documentQa.js";
import { createSummarizeChain, summarizeFile, summarizeQueryResults } from "../../chains/summarize.js";
import { createTranslateChain, splitParagraphs } from "../../chains/translate.js";
import { createChatModel } from "../../src/llms/createChatModel.js";
import { ExtractiveAnswerer } from "../../src/llms/ExtractiveAnswerer.js";
import { CORPUS, corpusRetriever } from "./corpus.js";
import { FakeEmbeddings } from "./fakeEmbeddings.js";

/** A model that records each prompt and answers with a short tag naming the call. */
function recordingModel() {
  const prompts: string[] = [];
  const model = RunnableLambda.from(async (value: { toString(): string }) => {
    const text = value.toString();
    prompts.push(text);
    if (text.includes("Part summaries:")) return `REDUCED(${(text.match(/PART-\d+/g) ?? []).length} parts)`;
    if (text.includes("Part:\n")) return `PART-${prompts.length}`;
    return `SUMMARY of ${text.length} chars`;
  });
  return { model, prompts };
}

describe("summarisation", () => {
  it("stuffs a short text into one call", async () => {
    const { model, prompts } = recordingModel();
    const chain = createSummarizeChain({ llm: model });
    const summary = await chain.invoke(CORPUS["aurora-lab.md"] as string);
    expect(prompts).toHaveLength(1);
    expect(prompts[0]).toContain("Write a concise summary");
    expect(prompts[0]).toContain("founded in 1987");
    expect(summary).toMatch(/^SUMMARY of/);
  });

  it("map-reduces a long text", async () => {
    const { model, prompts } = recordingModel();
    const long = Array.from(
      { length: 30 },
      (_, i) => `Paragraph ${i}. ${"The lab measures the aurora. ".repeat(8)}`,
    ).join("\n\n");
    const chain = createSummarizeChain({ llm: model, chunkSize: 1000, chunkOverlap: 0 });
    const summary = await chain.invoke({ text: long });
    const maps = prompts.filter((p) => p.includes("Part:\n"));
    expect(maps.length).toBeGreaterThanOrEqual(long.length / 1000);
    expect(prompts.at(-1)).toContain("Part summaries:");
    expect(summary).toMatch(/^REDUCED\(\d+ parts\)$/);
  });

  it("streams the final call's tokens", async () => {
    const chain = createSummarizeChain({ llm: new FakeListChatModel({ responses: ["A lab in Tromsø."] }) });
    const pieces: string[] = [];
    for await (const piece of await chain.stream([new Document({ pageContent: CORPUS["aurora-lab.md"] as string })])) {
      pieces.push(piece);
    }
    expect(pieces.join("")).toBe("A lab in Tromsø.");
    expect(pieces.length).toBeGreaterThan(3);
  });

  it("summarises a file through the loaders and query results through a retriever", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-sum-"));
    const file = join(dir, "notes.md");
    writeFileSync(file, CORPUS["velora-river.md"] as string);
    const { model, prompts } = recordingModel();
    expect(await summarizeFile(file, { llm: model })).toMatch(/^SUMMARY/);
    expect(prompts[0]).toContain("820 kilometres");
    expect(await summarizeQueryResults(corpusRetriever(2), "kettle heating coil", { llm: model })).toMatch(/^SUMMARY/);
    expect(prompts[1]).toContain("kanthal");
    await expect(summarizeFile(join(dir, "missing.md"), { llm: model })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("needs a generator: NO_GENERATOR with the extractive answerer", async () => {
    const model = await createChatModel({ provider: "extractive" });
    expect(() => createSummarizeChain({ llm: model })).toThrow(/generative model/);
    expect(() => createSummarizeChain({ llm: new ExtractiveAnswerer() })).toThrowError(
      expect.objectContaining({ code: "NO_GENERATOR" }),
    );
    expect(() => createSummarizeChain({ llm: undefined })).toThrowError(
      expect.objectContaining({ code: "NO_GENERATOR" }),
    );
  });

  it("rejects empty input", async () => {
    const { model } = recordingModel();
    await expect(createSummarizeChain({ llm: model }).invoke("   ")).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });
});

describe("translation", () => {
  it("fills the prompt with the languages and returns the model's text", async () => {
    const prompts: string[] = [];
    const model = RunnableLambda.from(async (value: { toString(): string }) => {
      prompts.push(value.toString());
      return "Hallo Welt";
    });
    const chain = createTranslateChain({ llm: model });
    expect(await chain.invoke({ text: "Hello world", to: "German", from: "English" })).toBe("Hallo Welt");
    expect(prompts[0]).toContain("from English into German");
    expect(prompts[0]).toContain("Human: Hello world");
    await chain.invoke({ text: "Bonjour", to: "en" });
    expect(prompts[1]).toContain("from the source language into en");
  });

  it("translates long texts paragraph group by group and streams", async () => {
    const paragraphs = Array.from({ length: 6 }, (_, i) => `Paragraph ${i} ${"word ".repeat(40)}`.trim());
    expect(splitParagraphs(paragraphs.join("\n\n"), 500).length).toBe(3);
    const model = new FakeListChatModel({ responses: ["Eins.", "Zwei.", "Drei."] });
    const chain = createTranslateChain({ llm: model, chunkSize: 500 });
    const pieces: string[] = [];
    for await (const piece of await chain.stream({ text: paragraphs.join("\n\n"), to: "German" })) pieces.push(piece);
    expect(pieces.join("")).toBe("Eins.\n\nZwei.\n\nDrei.");
  });

  it("validates input and needs a generator", async () => {
    const chain = createTranslateChain({ llm: new FakeListChatModel({ responses: ["x"] }) });
    await expect(chain.invoke({ text: "", to: "de" })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(chain.invoke({ text: "hi", to: " " })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect(() => createTranslateChain({ llm: new ExtractiveAnswerer() })).toThrowError(
      expect.objectContaining({ code: "NO_GENERATOR" }),
    );
  });
});

describe("single-document QA", () => {
  const longDoc = [
    "# Station manual",
    "The pump room is on level two. ".repeat(20),
    "The backup generator starts automatically after 12 seconds without mains power.",
    "Visitors must sign in at the front desk. ".repeat(20),
  ].join("\n\n");

  it("answers extractively with citations into the document's passages", async () => {
    const chain = createDocumentQaChain({ embeddings: new FakeEmbeddings(), chunkSize: 300, chunkOverlap: 0 });
    const result = await chain.invoke({ question: "When does the backup generator start?", document: longDoc });
    expect(result.answer).toContain("12 seconds");
    expect(result.sources[0]?.source).toBe("document");
    expect(result.answer).toMatch(/\[1\]/);
  });

  it("streams with a generator", async () => {
    const chain = createDocumentQaChain({
      llm: new FakeListChatModel({ responses: ["After 12 seconds [1]."] }),
      chunkSize: 300,
      chunkOverlap: 0,
    });
    const chunks = [];
    for await (const c of await chain.stream({
      question: "When does the backup generator start?",
      document: new Document({ pageContent: longDoc, metadata: { source: "manual.md" } }),
    })) {
      chunks.push(c);
    }
    expect(chunks[0]?.sources?.[0]?.source).toBe("manual.md");
    expect(chunks.map((c) => c.answer ?? "").join("")).toBe("After 12 seconds [1].");
  });

  it("rejects an empty document", async () => {
    await expect(createDocumentQaChain().invoke({ question: "q?", document: "  " })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
  });
});

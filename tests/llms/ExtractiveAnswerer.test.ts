import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import {
  type ExtractiveAnswerChunk,
  ExtractiveAnswerer,
  isExtractiveAnswerer,
  NO_ANSWER_TEXT,
} from "../../src/llms/ExtractiveAnswerer.js";
import { FakeEmbeddings } from "../chains/fakeEmbeddings.js";

const docs = [
  new Document({
    pageContent: `# Paris

Paris is the capital of France. It has about two million inhabitants.

- The Eiffel Tower was built in 1889 for the World Fair.
- The Louvre is the most visited museum in the world.

\`\`\`js
console.log("the Eiffel Tower was built in code")
\`\`\`

| city | tower |
|------|-------|
| Paris | Eiffel |`,
    metadata: { source: "paris.md", title: "Paris", headings: ["Paris"], score: 0.9, id: "p1" },
  }),
  new Document({
    pageContent:
      "Berlin is the capital of Germany, e.g. the seat of the Bundestag. The city has 3.7 million inhabitants.",
    metadata: { source: "berlin.md", title: "Berlin", headings: [], page: 2, id: "b1" },
  }),
  new Document({
    // An overlapping chunk repeating a sentence of the first one.
    pageContent: "The Eiffel Tower was built in 1889 for the World Fair. It is 330 metres tall.",
    metadata: { source: "paris.md", title: "Paris", headings: ["Paris"], id: "p2" },
  }),
];

describe("ExtractiveAnswerer", () => {
  const answerer = new ExtractiveAnswerer({ embeddings: new FakeEmbeddings() });

  it("quotes the best sentence with a citation numbered by first use", async () => {
    const result = await answerer.invoke({ question: "When was the Eiffel Tower built?", documents: docs });
    expect(result.answer.startsWith("The Eiffel Tower was built in 1889 for the World Fair. [1]")).toBe(true);
    expect(result.sources[0]).toMatchObject({ index: 1, id: "p1", source: "paris.md", title: "Paris", score: 0.9 });
    expect(result.citations[0]).toMatchObject({
      index: 1,
      sentence: "The Eiffel Tower was built in 1889 for the World Fair.",
    });
    // The duplicate sentence of the overlapping chunk is not quoted twice.
    expect(result.answer.match(/built in 1889/g)).toHaveLength(1);
  });

  it("answers from a section's opening sentence when the question names its heading", async () => {
    const sections = [
      new Document({
        pageContent:
          "## HNSW\n\nHierarchical Navigable Small World graphs are the most widely used approximate nearest-neighbour index. Each vector is a node linked to its near neighbours.",
        metadata: { source: "indexes.md", id: "i1" },
      }),
      new Document({
        pageContent:
          "## A worked example\n\nSuppose the single relevant document is ranked third. It works as well in practice.",
        metadata: { source: "metrics.md", id: "m1" },
      }),
    ];
    for (const question of ["What is HNSW?", "How does HNSW work?"]) {
      const result = await answerer.invoke({ question, documents: sections });
      // The heading's word counts for the sentences under it, the opening one most; "work" only
      // frames the question, so the worked example is not quoted.
      const sentences = result.citations.map((c) => c.sentence);
      expect(sentences[0]).toBe(
        "Hierarchical Navigable Small World graphs are the most widely used approximate nearest-neighbour index.",
      );
      expect(sentences.join(" ")).not.toMatch(/worked|ranked third/);
    }
  });

  it("keeps Markdown structure and code out of the answer", async () => {
    const result = await answerer.invoke({
      question: "Eiffel Tower built code console log",
      documents: [docs[0] as Document],
    });
    expect(result.answer).not.toMatch(/console|```|\||^#|^- /);
  });

  it("uses the chunk's context to pick between similar sentences", async () => {
    const result = await answerer.invoke({ question: "How many inhabitants does Berlin have?", documents: docs });
    expect(result.citations.some((c) => c.sentence === "The city has 3.7 million inhabitants.")).toBe(true);
    expect(result.sources.find((s) => s.source === "berlin.md")?.page).toBe(2);
  });

  it("answers the fixed sentence when nothing passes minScore", async () => {
    expect(await answerer.invoke({ question: "How do volcanoes erupt?", documents: docs })).toEqual({
      answer: NO_ANSWER_TEXT,
      sources: [],
      citations: [],
    });
    expect(await answerer.invoke({ question: "Anything?", documents: [] })).toMatchObject({ answer: NO_ANSWER_TEXT });
    const strict = new ExtractiveAnswerer({ embeddings: new FakeEmbeddings(), minScore: 0.99 });
    // (A passage that covers every word of the question still answers below minScore: see the next test.)
    const question = "When was the Eiffel Tower built, and by which engineer?";
    expect((await strict.invoke({ question, documents: docs })).answer).toBe(NO_ANSWER_TEXT);
  });

  it("limits the number of sentences and skips redundant ones", async () => {
    const many = new ExtractiveAnswerer({ embeddings: new FakeEmbeddings(), maxSentences: 1 });
    const result = await many.invoke({ question: "What is the capital of Germany?", documents: docs });
    expect(result.citations).toHaveLength(1);
    const loose = new ExtractiveAnswerer({
      embeddings: new FakeEmbeddings(),
      relativeCutoff: 0,
      minScore: 0.01,
      maxSentences: 5,
    });
    const twins = [
      new Document({ pageContent: "The red pump starts at night.", metadata: { source: "a.md" } }),
      new Document({ pageContent: "The red pump starts at night!", metadata: { source: "b.md" } }),
    ];
    const out = await loose.invoke({ question: "When does the red pump start?", documents: twins });
    expect(out.citations).toHaveLength(1);
  });

  it("works lexically without embeddings", async () => {
    const lexical = new ExtractiveAnswerer();
    const result = await lexical.invoke({ question: "Which museum is the most visited?", documents: docs });
    expect(result.answer).toContain("The Louvre is the most visited museum in the world. [1]");
  });

  it("streams sources first, then words; concatenated it equals invoke", async () => {
    const input = { question: "What is the capital of France?", documents: docs };
    const chunks: ExtractiveAnswerChunk[] = [];
    for await (const chunk of await answerer.stream(input)) chunks.push(chunk);
    const invoked = await answerer.invoke(input);
    expect(chunks[0]?.sources).toEqual(invoked.sources);
    expect(chunks[0]?.citations).toEqual(invoked.citations);
    expect(
      chunks
        .slice(1)
        .map((c) => c.answer)
        .join(""),
    ).toBe(invoked.answer);
    expect(chunks.length).toBeGreaterThan(4);
  });

  it("rejects a missing question and bad options", async () => {
    await expect(answerer.invoke({ question: "", documents: docs })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect(() => new ExtractiveAnswerer({ minScore: 2 })).toThrowError(
      expect.objectContaining({ code: "INVALID_INPUT" }),
    );
    expect(() => new ExtractiveAnswerer({ maxSentences: 0 })).toThrowError(
      expect.objectContaining({ code: "INVALID_INPUT" }),
    );
  });

  it("is recognised as the extractive answerer", () => {
    expect(isExtractiveAnswerer(answerer)).toBe(true);
    expect(isExtractiveAnswerer({ kind: "extractive", answerer })).toBe(false);
  });
});

import { RunnableLambda } from "@langchain/core/runnables";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { createRagChain, type RagChunk } from "../../chains/createRagChain.js";
import { GeneraError } from "../../src/errors.js";
import { citedNumbers } from "../../src/llms/citedSource.js";
import { ExtractiveAnswerer, NO_ANSWER_TEXT } from "../../src/llms/ExtractiveAnswerer.js";
import { CORPUS, corpusRetriever, corpusWords } from "./corpus.js";
import { FakeEmbeddings } from "./fakeEmbeddings.js";

function markersMatchSources(answer: string, sources: Array<{ index: number }>): void {
  const used = citedNumbers(answer);
  expect(used.length).toBeGreaterThan(0);
  expect(new Set(used)).toEqual(new Set(sources.map((s) => s.index)));
}

describe("createRagChain with the extractive answerer (default)", () => {
  const chain = createRagChain({ retriever: corpusRetriever(), embeddings: new FakeEmbeddings() });

  it("answers with quoted sentences and matching citations", async () => {
    const result = await chain.invoke({ question: "When was the Aurora Lab founded?" });
    expect(result.answer).toContain("1987");
    expect(result.sources[0]?.source).toBe("aurora-lab.md");
    expect(result.sources.map((s) => s.index)).toEqual(result.sources.map((_, i) => i + 1));
    markersMatchSources(result.answer, result.sources);
    const first = result.sources[0];
    expect(first?.id).toBe("aurora-lab.md#0");
    expect(first?.headings).toEqual(["Aurora Lab"]);
    expect(typeof first?.score).toBe("number");
    expect(typeof first?.denseScore).toBe("number");
    expect(typeof first?.keywordScore).toBe("number");
    expect(first?.text).toContain("Tromsø");
  });

  it("accepts a plain string and strips Markdown from quotes", async () => {
    const result = await chain.invoke("How fast does the Quantum Kettle boil water?");
    expect(result.answer).toContain("The Quantum Kettle boils one litre of water in 40 seconds. [1]");
    expect(result.answer).not.toContain("**");
  });

  it("says plainly when the documents do not answer", async () => {
    const result = await chain.invoke("Which composer wrote the opera Lakmé?");
    expect(result).toEqual({ answer: NO_ANSWER_TEXT, sources: [] });
  });

  it("batches", async () => {
    const results = await chain.batch([
      "How long is the Velora River?",
      "Which Node version is required?",
      { question: "What is the annual budget of the lab?" },
    ]);
    expect(results[0]?.answer).toContain("820 kilometres");
    expect(results[1]?.answer).toContain("Node 20");
    expect(results[2]?.answer).toContain("12 million kroner");
    for (const r of results) markersMatchSources(r.answer, r.sources);
  });

  it("streams sources first, then the answer word by word; the stream equals invoke", async () => {
    const question = "What heating coil does the kettle use?";
    const chunks: RagChunk[] = [];
    for await (const chunk of await chain.stream(question)) chunks.push(chunk);
    expect(Object.keys(chunks[0] ?? {})).toEqual(["sources"]);
    const answerChunks = chunks.slice(1);
    expect(answerChunks.length).toBeGreaterThan(3);
    expect(answerChunks.every((c) => Object.keys(c).join() === "answer")).toBe(true);
    const streamed = answerChunks.map((c) => c.answer).join("");
    const invoked = await chain.invoke(question);
    expect(streamed).toBe(invoked.answer);
    expect(chunks[0]?.sources).toEqual(invoked.sources);
  });

  it("reports its steps through streamEvents", async () => {
    const names = new Set<string>();
    const streamed: unknown[] = [];
    for await (const event of chain.streamEvents("How long is the Velora River?", { version: "v2" })) {
      names.add(`${event.event}:${event.name}`);
      if (event.event === "on_chain_stream" && event.name === "RagChain") streamed.push(event.data.chunk);
    }
    expect(names).toContain("on_chain_start:RagChain");
    expect(names).toContain("on_retriever_end:InMemoryRetriever");
    expect(names).toContain("on_chain_end:RagChain");
    expect(streamed.length).toBeGreaterThan(2);
  });

  it("uses only the top k passages", async () => {
    const seen: number[] = [];
    const answerer = new ExtractiveAnswerer();
    const spy = RunnableLambda.from(async (input: { question: string; documents: unknown[] }) => {
      seen.push(input.documents.length);
      return answerer.invoke(input as never);
    });
    const wrapped = Object.assign(spy, { kind: "extractive" as const, answer: answerer.answer.bind(answerer) });
    const one = createRagChain({ retriever: corpusRetriever(4), llm: wrapped as never, k: 1 });
    await one.invoke("How long is the Velora River?");
    expect(seen).toEqual([1]);
  });

  it("rejects an empty question with INVALID_INPUT", async () => {
    await expect(chain.invoke({ question: "  " })).rejects.toBeInstanceOf(GeneraError);
    await expect(chain.invoke({ question: "  " })).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("never writes a word that is not in the sources", async () => {
    const vocabulary = [...corpusWords()];
    const allowed = new Set([...vocabulary, ...(NO_ANSWER_TEXT.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])]);
    // Deterministic pseudo-random questions mixing corpus words with unrelated ones.
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const extra = ["why", "how", "many", "purple", "elephants", "when", "does", "the", "what", "where"];
    const questions = Array.from({ length: 40 }, () =>
      Array.from({ length: 3 + Math.floor(rand() * 5) }, () =>
        rand() < 0.6 ? vocabulary[Math.floor(rand() * vocabulary.length)] : extra[Math.floor(rand() * extra.length)],
      ).join(" "),
    );
    const results = await chain.batch(questions.map((q) => `${q}?`));
    let answered = 0;
    for (const result of results) {
      const prose = result.answer.replace(/\s\[\d+\]/g, "");
      for (const word of prose.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) expect(allowed).toContain(word);
      if (result.answer === NO_ANSWER_TEXT) continue;
      answered++;
      // Each quoted sentence appears word for word in the source it cites.
      for (const part of result.answer.split(/(?<=\[\d+\])\s*/).filter(Boolean)) {
        const n = Number(/\[(\d+)\]$/.exec(part)?.[1]);
        const sentenceWords =
          part
            .replace(/\s\[\d+\]$/, "")
            .toLowerCase()
            .match(/[\p{L}\p{N}]+/gu) ?? [];
        const sourceText = result.sources.find((s) => s.index === n)?.text ?? "";
        const sourceWords = (sourceText.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).join(" ");
        expect(sourceWords).toContain(sentenceWords.join(" "));
      }
    }
    expect(answered).toBeGreaterThan(5);
  });
});

describe("createRagChain with a generator", () => {
  it("numbers the passages in the prompt and keeps the cited ones", async () => {
    const prompts: string[] = [];
    const model = RunnableLambda.from(async (value: { toString(): string }) => {
      prompts.push(value.toString());
      return "It was founded in 1987 [2].";
    });
    const chain = createRagChain({ retriever: corpusRetriever(3), llm: model });
    const result = await chain.invoke("When was the Aurora Lab founded?");
    expect(result.answer).toBe("It was founded in 1987 [2].");
    expect(result.sources.map((s) => s.index)).toEqual([2]);
    expect(prompts[0]).toMatch(/\[1\] \(Aurora Lab.*aurora-lab\.md\)/);
    expect(prompts[0]).toContain("[2]");
    expect(prompts[0]).toContain("When was the Aurora Lab founded?");
    expect(prompts[0]).toContain("[2] (Aurora Lab › Funding — aurora-lab.md)\n## Funding");
  });

  it("keeps every passage when the answer cites none", async () => {
    const chain = createRagChain({
      retriever: corpusRetriever(3),
      llm: new FakeListChatModel({ responses: ["Salmon migrate in autumn."] }),
    });
    const result = await chain.invoke("When do salmon migrate up the Velora River?");
    expect(result.answer).toBe("Salmon migrate in autumn.");
    expect(result.sources.length).toBeGreaterThan(1);
    expect(result.sources.map((s) => s.index)).toEqual(result.sources.map((_, i) => i + 1));
  });

  it("streams the passages first, then tokens", async () => {
    const chain = createRagChain({
      retriever: corpusRetriever(2),
      llm: new FakeListChatModel({ responses: ["The river is 820 kilometres long [1]."] }),
    });
    const chunks: RagChunk[] = [];
    for await (const chunk of await chain.stream({ question: "How long is the Velora River?" })) chunks.push(chunk);
    expect(chunks[0]?.sources?.[0]?.source).toBe("velora-river.md");
    const text = chunks
      .slice(1)
      .map((c) => c.answer)
      .join("");
    expect(text).toBe("The river is 820 kilometres long [1].");
    expect(chunks.length).toBeGreaterThan(5);
  });

  it("does not call the model when nothing is retrieved", async () => {
    let called = false;
    const model = RunnableLambda.from(async () => {
      called = true;
      return "x";
    });
    const chain = createRagChain({ retriever: RunnableLambda.from(async () => []), llm: model });
    expect(await chain.invoke("anything?")).toEqual({ answer: NO_ANSWER_TEXT, sources: [] });
    expect(called).toBe(false);
  });

  it("covers every corpus document in the fixture", () => {
    expect(Object.keys(CORPUS).length).toBe(4);
  });
});

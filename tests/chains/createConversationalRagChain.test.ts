import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { RunnableLambda } from "@langchain/core/runnables";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { createConversationalRagChain } from "../../chains/createConversationalRagChain.js";
import type { RagChunk } from "../../chains/createRagChain.js";
import { citedNumbers } from "../../src/llms/citedSource.js";
import { corpusRetriever } from "./corpus.js";
import { FakeEmbeddings } from "./fakeEmbeddings.js";

/** The retriever, recording every query it receives. */
function recordingRetriever() {
  const inner = corpusRetriever(3);
  const queries: string[] = [];
  const retriever = RunnableLambda.from(async (query: string) => {
    queries.push(query);
    return inner.invoke(query);
  });
  return { retriever, queries };
}

describe("createConversationalRagChain with a generator", () => {
  it("rewrites a follow-up into a standalone question and retrieves with it", async () => {
    const { retriever, queries } = recordingRetriever();
    const prompts: string[] = [];
    const llm = new FakeListChatModel({
      responses: ['Standalone question: "When was the Aurora Lab founded?"', "It was founded in 1987 [1]."],
    });
    const spy = RunnableLambda.from(async (value: { toString(): string }) => {
      prompts.push(value.toString());
      return llm.invoke(value.toString());
    });
    const chain = createConversationalRagChain({ retriever, llm: spy });
    const result = await chain.invoke({
      question: "When was it founded?",
      chatHistory: [
        { role: "user", content: "Tell me about the Aurora Lab." },
        { role: "assistant", content: "It studies the northern lights [1]." },
      ],
    });
    expect(result.standaloneQuestion).toBe("When was the Aurora Lab founded?");
    expect(queries).toEqual(["When was the Aurora Lab founded?"]);
    expect(prompts[0]).toContain("User: Tell me about the Aurora Lab.");
    expect(prompts[0]).toContain("Assistant: It studies the northern lights [1].");
    expect(prompts[0]).toContain("Follow-up question: When was it founded?");
    expect(result.answer).toBe("It was founded in 1987 [1].");
    expect(result.sources.map((s) => s.index)).toEqual([1]);
    expect(result.sources[0]?.source).toBe("aurora-lab.md");
  });

  it("does not rewrite the first question", async () => {
    const { retriever, queries } = recordingRetriever();
    const chain = createConversationalRagChain({
      retriever,
      llm: new FakeListChatModel({ responses: ["The river is 820 kilometres long [1]."] }),
    });
    const result = await chain.invoke({ question: "How long is the Velora River?", chatHistory: [] });
    expect(queries).toEqual(["How long is the Velora River?"]);
    expect(result.standaloneQuestion).toBeUndefined();
    expect(result.answer).toContain("820");
  });

  it("streams the standalone question, the passages, then tokens", async () => {
    const { retriever } = recordingRetriever();
    const chain = createConversationalRagChain({
      retriever,
      llm: new FakeListChatModel({
        responses: ["What is the annual budget of the Aurora Lab?", "12 million kroner [1]."],
      }),
    });
    const chunks: RagChunk[] = [];
    const stream = await chain.stream({
      question: "And its budget?",
      chatHistory: [
        new HumanMessage("Who funds the Aurora Lab?"),
        new AIMessage("The Norwegian Research Council [1]."),
      ],
    });
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]).toEqual({ standaloneQuestion: "What is the annual budget of the Aurora Lab?" });
    expect(chunks[1]?.sources?.length).toBeGreaterThan(0);
    expect(
      chunks
        .slice(2)
        .map((c) => c.answer)
        .join(""),
    ).toBe("12 million kroner [1].");
  });
});

describe("createConversationalRagChain with the extractive answerer", () => {
  const embeddings = new FakeEmbeddings();

  it("adds the earlier user turn's terms to a follow-up", async () => {
    const { retriever, queries } = recordingRetriever();
    const chain = createConversationalRagChain({ retriever, embeddings });
    const result = await chain.invoke({
      question: "When was it founded?",
      chatHistory: [
        { role: "user", content: "Tell me about the Aurora Lab" },
        { role: "assistant", content: "The Aurora Lab studies the northern lights. [1]" },
      ],
    });
    expect(queries[0]).toMatch(/^When was it founded\? .*aurora.*lab/i);
    expect(result.answer).toContain("1987");
    expect(result.sources[0]?.source).toBe("aurora-lab.md");
    expect(new Set(citedNumbers(result.answer))).toEqual(new Set(result.sources.map((s) => s.index)));
  });

  it("leaves a self-contained question alone", async () => {
    const { retriever, queries } = recordingRetriever();
    const chain = createConversationalRagChain({ retriever, embeddings });
    await chain.invoke({
      question: "How long is the Velora River?",
      chatHistory: [{ role: "user", content: "Tell me about the Quantum Kettle" }],
    });
    expect(queries).toEqual(["How long is the Velora River?"]);
  });

  it("batches conversations", async () => {
    const { retriever } = recordingRetriever();
    const chain = createConversationalRagChain({ retriever, embeddings });
    const results = await chain.batch([
      {
        question: "How fast does it boil water?",
        chatHistory: [{ role: "user", content: "What is the Quantum Kettle?" }],
      },
      { question: "Where does it flow to?", chatHistory: [{ role: "human", content: "Describe the Velora River" }] },
    ]);
    expect(results[0]?.answer).toContain("40 seconds");
    expect(results[1]?.answer).toContain("Sel Sea");
  });

  it("rejects malformed history with INVALID_INPUT", async () => {
    const { retriever } = recordingRetriever();
    const chain = createConversationalRagChain({ retriever, embeddings });
    await expect(
      chain.invoke({ question: "and then?", chatHistory: [{ role: "robot", content: "x" }] as never }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });
});

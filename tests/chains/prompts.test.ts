import { AIMessage, HumanMessage } from "@langchain/core/messages";
import { FakeVectorStore } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import {
  CHAIN_OF_THOUGHT_PROMPT,
  CONDENSE_QUESTION_PROMPT,
  createFewShotPrompt,
  DOCUMENT_QA_PROMPT,
  RAG_PROMPT,
  ROLE_PROMPT,
  SUMMARIZE_MAP_PROMPT,
  SUMMARIZE_REDUCE_PROMPT,
  SUMMARIZE_STUFF_PROMPT,
  TRANSLATE_PROMPT,
} from "../../chains/prompts.js";
import { FakeEmbeddings } from "./fakeEmbeddings.js";

describe("prompt library", () => {
  it("declares the documented input variables", () => {
    const vars = (p: { inputVariables: string[] }) => [...p.inputVariables].sort();
    expect(vars(RAG_PROMPT)).toEqual(["context", "question"]);
    expect(vars(DOCUMENT_QA_PROMPT)).toEqual(["context", "question"]);
    expect(vars(CONDENSE_QUESTION_PROMPT)).toEqual(["chat_history", "question"]);
    expect(vars(CHAIN_OF_THOUGHT_PROMPT)).toEqual(["context", "question"]);
    expect(vars(ROLE_PROMPT)).toEqual(["history", "input", "role"]);
    expect(vars(SUMMARIZE_STUFF_PROMPT)).toEqual(["text"]);
    expect(vars(SUMMARIZE_MAP_PROMPT)).toEqual(["text"]);
    expect(vars(SUMMARIZE_REDUCE_PROMPT)).toEqual(["summaries"]);
    expect(vars(TRANSLATE_PROMPT)).toEqual(["source_language", "target_language", "text"]);
  });

  it("renders the role prompt with history", async () => {
    const messages = await ROLE_PROMPT.formatMessages({
      role: "a patient physics tutor",
      history: [new HumanMessage("What is inertia?"), new AIMessage("Resistance to changes in motion.")],
      input: "Give an example.",
    });
    expect(messages.map((m) => m.getType())).toEqual(["system", "human", "ai", "human"]);
    expect(String(messages[0]?.content)).toContain("You are a patient physics tutor.");
    const withoutHistory = await ROLE_PROMPT.formatMessages({ role: "a poet", input: "Hi" });
    expect(withoutHistory).toHaveLength(2);
  });

  it("few-shot prompt picks the examples closest to the input", async () => {
    const embeddings = new FakeEmbeddings();
    const prompt = await createFewShotPrompt({
      examples: [
        { input: "convert 5 kilometres to miles", output: "3.1 miles" },
        { input: "convert 10 kilometres to miles", output: "6.2 miles" },
        { input: "translate cat into French", output: "chat" },
        { input: "translate dog into French", output: "chien" },
      ],
      embeddings,
      vectorStore: new FakeVectorStore(embeddings),
      k: 2,
    });
    const text = await prompt.format({ input: "translate bird into French" });
    expect(text).toContain("Output: chat");
    expect(text).toContain("Output: chien");
    expect(text).not.toContain("miles");
    expect(text.trim().endsWith("Input: translate bird into French\nOutput:")).toBe(true);
  });

  it("few-shot prompt rejects examples without the input key", async () => {
    const embeddings = new FakeEmbeddings();
    await expect(
      createFewShotPrompt({
        examples: [{ question: "x" }],
        embeddings,
        vectorStore: new FakeVectorStore(embeddings),
      }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });
});

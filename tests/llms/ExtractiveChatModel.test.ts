import { Document } from "@langchain/core/documents";
import { type AIMessageChunk, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { RunnableLambda } from "@langchain/core/runnables";
import { concat } from "@langchain/core/utils/stream";
import { describe, expect, it } from "vitest";
import { createRagChain } from "../../chains/createRagChain.js";
import { RAG_PROMPT } from "../../chains/prompts.js";
import { createSummarizeChain } from "../../chains/summarize.js";
import { toCitedSource } from "../../src/llms/citedSource.js";
import { NO_ANSWER_TEXT } from "../../src/llms/ExtractiveAnswerer.js";
import {
  type ExtractiveChatCitation,
  ExtractiveChatModel,
  isExtractiveChatModel,
} from "../../src/llms/ExtractiveChatModel.js";
import { formatContext, parseNumberedPassages } from "../../src/llms/numberedPassages.js";

const DOCS = [
  new Document({
    pageContent:
      "Paris is the capital of France. The city is known for its museums. About 2.1 million people live in Paris.",
    metadata: { source: "cities/paris.md", title: "Paris", headings: ["Paris", "Overview"] },
  }),
  new Document({
    pageContent:
      "Berlin is the capital of Germany. Berlin has about 3.7 million inhabitants. The Spree flows through the city.",
    metadata: { source: "cities/berlin.pdf", page: 4, headings: ["Germany", "Berlin"] },
  }),
  new Document({
    pageContent: "The Rhine rises in the Swiss Alps. It flows into the North Sea near Rotterdam after 1,230 km.",
    metadata: { source: "rivers.md" },
  }),
];
const PASSAGES = DOCS.map((doc, i) => toCitedSource(doc, i + 1));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

describe("parseNumberedPassages", () => {
  it("reads formatContext's passages back, labels included", () => {
    const { passages } = parseNumberedPassages(`Passages:\n${formatContext(PASSAGES)}`);
    expect(passages.map((p) => p.index)).toEqual([1, 2, 3]);
    expect(passages[0]).toMatchObject({ source: "cities/paris.md", headings: ["Paris", "Overview"] });
    expect(passages[1]).toMatchObject({ source: "cities/berlin.pdf", page: 4, headings: ["Germany", "Berlin"] });
    expect(passages[2]).toMatchObject({ source: "rivers.md", headings: [], text: DOCS[2]?.pageContent });
  });

  it("keeps out-of-sequence [n] lines inside their passage and stops at a Question: line", () => {
    const text =
      "Context:\n[1] Attention is all you need.\n[7] Vaswani et al., 2017.\n[2] Second one.\n\nQuestion: what?";
    const parsed = parseNumberedPassages(text);
    expect(parsed.passages.map((p) => [p.index, p.text])).toEqual([
      [1, "Attention is all you need.\n[7] Vaswani et al., 2017."],
      [2, "Second one."],
    ]);
    expect(parsed.before).toBe("Context:");
    expect(parsed.after).toBe("Question: what?");
  });
});

describe("ExtractiveChatModel", () => {
  it("answers RAG_PROMPT from its numbered passages, citing their own numbers, with the answerer's sentences", async () => {
    const model = new ExtractiveChatModel();
    const question = "How many inhabitants does Berlin have?";
    const reply = await RAG_PROMPT.pipe(model).invoke({ context: formatContext(PASSAGES), question });
    expect(reply.content).toBe("Berlin has about 3.7 million inhabitants. [2]");
    // The same sentences ExtractiveAnswerer picks from the documents themselves: it is wrapped, not re-scored.
    const direct = await model.answerer.answer({ question, documents: DOCS });
    const citations = reply.response_metadata.citations as ExtractiveChatCitation[];
    expect(citations.map((c) => c.sentence)).toEqual(direct.citations.map((c) => c.sentence));
    expect(citations[0]).toMatchObject({ passage: 2 });
  });

  it("reads hand-written contexts, and the other messages when nothing is numbered", async () => {
    const model = new ExtractiveChatModel();
    const inline = await model.invoke(
      "Answer from these.\n[1] The Nile is the longest river in Africa.\n[2] Kilimanjaro is the highest mountain in Africa.\n\nQuestion: What is the highest mountain in Africa?",
    );
    expect(inline.content).toBe("Kilimanjaro is the highest mountain in Africa. [2]");
    const plain = await model.invoke([
      new SystemMessage("The Danube flows through ten countries. It ends in the Black Sea."),
      new HumanMessage("Where does the Danube end?"),
    ]);
    expect(plain.content).toContain("It ends in the Black Sea. [1]");
    expect((plain.response_metadata.citations as ExtractiveChatCitation[]).every((c) => c.passage === 1)).toBe(true);
    expect((await model.invoke("Who painted the Mona Lisa?")).content).toBe(NO_ANSWER_TEXT);
  });

  it("streams word by word; the chunks add up to invoke's message, usage and citations included", async () => {
    const model = new ExtractiveChatModel();
    const messages = [
      new SystemMessage(`Passages:\n${formatContext(PASSAGES)}`),
      new HumanMessage("Where does the Rhine rise?"),
    ];
    const invoked = await model.invoke(messages);
    let streamed: AIMessageChunk | undefined;
    let chunks = 0;
    for await (const chunk of await model.stream(messages)) {
      chunks++;
      streamed = streamed ? concat(streamed, chunk) : chunk;
    }
    expect(invoked.content).toBe("The Rhine rises in the Swiss Alps. [3]");
    expect(streamed?.content).toBe(invoked.content);
    expect(chunks).toBeGreaterThan(3);
    // Words of the prompt in, words of the answer out ("[3]" counts as the word "3").
    const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu)?.length ?? 0;
    const input = words(messages[0]?.text ?? "") + words(messages[1]?.text ?? "");
    expect(invoked.usage_metadata).toEqual({ input_tokens: input, output_tokens: 8, total_tokens: input + 8 });
    expect(streamed?.usage_metadata).toMatchObject(invoked.usage_metadata as object);
    expect(streamed?.response_metadata.citations).toEqual(invoked.response_metadata.citations);
  });

  it("honours stop sequences and reports LangChain's tracing params", async () => {
    const model = new ExtractiveChatModel();
    const reply = await model.invoke(
      "[1] Berlin is the capital of Germany.\nQuestion: What is the capital of Germany?",
      {
        stop: [" ["],
      },
    );
    expect(reply.content).toBe("Berlin is the capital of Germany.");
    expect(model.getLsParams({ stop: ["x"] } as never)).toEqual({
      ls_provider: "genera",
      ls_model_name: "extractive",
      ls_model_type: "chat",
      ls_temperature: 0,
      ls_max_tokens: undefined,
      ls_stop: ["x"],
    });
  });

  it("rejects with an abort error when aborted before or during a stream", async () => {
    const model = new ExtractiveChatModel();
    const prompt = `${formatContext(PASSAGES)}\nQuestion: How many people live in Paris and in Berlin?`;
    expect(await rejection(model.invoke(prompt, { signal: AbortSignal.abort() }))).toMatchObject({
      name: "AbortError",
    });
    const controller = new AbortController();
    const reason = new Error("closed");
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const chunk of await model.stream(prompt, { signal: controller.signal })) {
          seen.push(chunk.text);
          controller.abort(reason);
        }
      })(),
    );
    expect(error).toBe(reason);
    expect(seen).toHaveLength(1);
  });

  it("in a RAG chain it quotes the retrieved documents themselves; it cannot summarise", async () => {
    const retriever = RunnableLambda.from(async (_q: string) => DOCS);
    const model = new ExtractiveChatModel();
    expect(isExtractiveChatModel(model)).toBe(true);
    const result = await createRagChain({ retriever, llm: model }).invoke("Where does the Rhine rise?");
    expect(result.answer).toBe("The Rhine rises in the Swiss Alps. [1]");
    expect(result.sources).toEqual([toCitedSource(DOCS[2] as Document, 1)]);
    expect(() => createSummarizeChain({ llm: model })).toThrowError(expect.objectContaining({ code: "NO_GENERATOR" }));
    const aborted = createRagChain({ retriever, llm: model }).invoke("Where does the Rhine rise?", {
      signal: AbortSignal.abort(),
    });
    expect(await rejection(aborted)).toMatchObject({ name: "AbortError" });
  });
});

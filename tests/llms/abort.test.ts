import { Document } from "@langchain/core/documents";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { RunnableLambda } from "@langchain/core/runnables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRagChain } from "../../chains/createRagChain.js";
import { OllamaChatModel } from "../../src/llms/OllamaChatModel.js";
import { OpenAICompatibleChatModel } from "../../src/llms/OpenAICompatibleChatModel.js";
import { type FakeServer, replyFor, startOllamaServer, startOpenAiServer } from "./fakeServers.js";

/** A question whose echoed answer is 42 pieces: at 20 ms a piece the reply takes ~0.8 s to finish. */
const LONG = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
const PIECE_MS = 20;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection, got a result");
    },
    (e: unknown) => e,
  );
}

/** Reads a stream, aborting with `reason` once `after` chunks have arrived. */
async function abortStreamAfter(model: BaseChatModel, after: number, reason?: unknown) {
  const controller = new AbortController();
  let chunks = 0;
  const error = await rejection(
    (async () => {
      for await (const _ of await model.stream(LONG, { signal: controller.signal })) {
        if (++chunks === after) controller.abort(reason);
      }
    })(),
  );
  return { error, chunks };
}

let openai: FakeServer;
let ollama: FakeServer;
beforeAll(async () => {
  openai = await startOpenAiServer(["m"], { pieceDelayMs: PIECE_MS });
  ollama = await startOllamaServer(["m"], { pieceDelayMs: PIECE_MS });
});
afterAll(async () => {
  await openai.close();
  await ollama.close();
});

const providers: Array<[string, () => BaseChatModel, () => FakeServer]> = [
  [
    "OpenAICompatibleChatModel",
    () => new OpenAICompatibleChatModel({ baseURL: `${openai.url}/v1`, model: "m", apiKey: "x", maxRetries: 1 }),
    () => openai,
  ],
  ["OllamaChatModel", () => new OllamaChatModel({ baseUrl: ollama.url, model: "m", maxRetries: 1 }), () => ollama],
];

describe.each(providers)("%s: an aborted signal rejects with an abort error", (_name, make, server) => {
  it("already aborted: invoke and stream reject before any request", async () => {
    const model = make();
    const requests = server().requests.length;
    expect(await rejection(model.invoke(LONG, { signal: AbortSignal.abort() }))).toMatchObject({ name: "AbortError" });
    const streamed = rejection(
      (async () => {
        for await (const _ of await model.stream(LONG, { signal: AbortSignal.abort() })) {
          throw new Error("no chunk may arrive");
        }
      })(),
    );
    expect(await streamed).toMatchObject({ name: "AbortError" });
    expect(server().requests.length).toBe(requests);
  });

  it("aborted during invoke: rejects instead of returning the (partial) answer", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 3 * PIECE_MS);
    const error = await rejection(make().invoke(LONG, { signal: controller.signal }));
    expect(error).toMatchObject({ name: "AbortError" });
  });

  it("aborted during a stream: rejects with the caller's reason or an abort error", async () => {
    const reason = new Error("stop pressed");
    const withReason = await abortStreamAfter(make(), 2, reason);
    expect(withReason.error).toBe(reason);
    expect(withReason.chunks).toBeLessThan(10);
    const plain = await abortStreamAfter(make(), 2);
    expect(plain.error).toMatchObject({ name: "AbortError" });
  });
});

describe("OllamaChatModel: one call's abort", () => {
  it("leaves the other calls of the same model running", async () => {
    const model = new OllamaChatModel({ baseUrl: ollama.url, model: "m", maxRetries: 1 });
    const other = model.invoke(LONG);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 3 * PIECE_MS);
    expect(await rejection(model.invoke(LONG, { signal: controller.signal }))).toMatchObject({ name: "AbortError" });
    const reply = await other;
    expect(reply.content).toBe(replyFor([{ role: "user", content: LONG }]));
  });
});

describe("a RAG chain over a model", () => {
  const retriever = RunnableLambda.from(async (_q: string) => [
    new Document({ pageContent: "Berlin has about 3.7 million inhabitants.", metadata: { source: "berlin.md" } }),
  ]);
  const model = () => new OpenAICompatibleChatModel({ baseURL: `${openai.url}/v1`, model: "m", apiKey: "x" });

  it("rejects invoke and stream with an abort error, already aborted or mid-answer", async () => {
    const chain = createRagChain({ retriever, llm: model() });
    expect(await rejection(chain.invoke(LONG, { signal: AbortSignal.abort() }))).toMatchObject({ name: "AbortError" });
    const during = new AbortController();
    setTimeout(() => during.abort(), 3 * PIECE_MS);
    expect(await rejection(chain.invoke(LONG, { signal: during.signal }))).toMatchObject({ name: "AbortError" });

    const reader = new AbortController();
    const answered: string[] = [];
    const streamed = rejection(
      (async () => {
        for await (const chunk of await chain.stream(LONG, { signal: reader.signal })) {
          if (chunk.answer) answered.push(chunk.answer);
          if (answered.length === 2) reader.abort();
        }
      })(),
    );
    expect(await streamed).toMatchObject({ name: "AbortError" });
    expect(answered.length).toBeLessThan(10);
  });
});

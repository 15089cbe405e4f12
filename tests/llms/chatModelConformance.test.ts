import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { concat } from "@langchain/core/utils/stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OfflineToolChatModel } from "../../src/agents/toolModel/OfflineToolChatModel.js";
import { ToolModel } from "../../src/agents/toolModel/ToolModel.js";
import { ExtractiveChatModel } from "../../src/llms/ExtractiveChatModel.js";
import { OllamaChatModel } from "../../src/llms/OllamaChatModel.js";
import { OpenAICompatibleChatModel } from "../../src/llms/OpenAICompatibleChatModel.js";
import { type ChatTokenizerLike, TransformersJsChatModel } from "../../src/llms/TransformersJsChatModel.js";
import { type FakeServer, startOllamaServer, startOpenAiServer } from "./fakeServers.js";
import { encode, fakePipeline, streamerFactory } from "./fakeTextGeneration.js";

/**
 * LangChain's standard chat-model tests (@langchain/standard-tests, which is not published to
 * npm), written against our chat models: the unit tests (construction with the standard params,
 * `getLsParams` keys) and the integration tests that need no tools or images (invoke, stream,
 * batch, streamEvents, conversations, usage metadata on invoke and on streams). The HTTP models
 * talk to the loopback fake servers; the transformers.js one to a stand-in pipeline.
 */

/** What ChatModelUnitTests passes to every constructor. */
const STANDARD_PARAMS = { temperature: 0, maxTokens: 100, timeout: 60, stopSequences: [], maxRetries: 2 };
/** The keys ChatModelUnitTests.expectedLsParams() requires of getLsParams({}). */
const LS_KEYS = ["ls_max_tokens", "ls_model_name", "ls_model_type", "ls_provider", "ls_stop", "ls_temperature"];

let toolModel: ToolModel | undefined;
let openai: FakeServer;
let ollama: FakeServer;
beforeAll(async () => {
  openai = await startOpenAiServer(["tiny-chat"]);
  ollama = await startOllamaServer(["tiny-llama"]);
});
afterAll(async () => {
  await openai.close();
  await ollama.close();
});

const tokenizer: ChatTokenizerLike = { apply_chat_template: () => "", encode };

interface Case {
  make: (extra?: Record<string, unknown>) => BaseChatModel;
  /** Values getLsParams must report (with STANDARD_PARAMS), beyond the keys. */
  ls: Record<string, unknown>;
}

const cases: Record<string, Case> = {
  ExtractiveChatModel: {
    make: (extra) => new ExtractiveChatModel({ ...STANDARD_PARAMS, ...extra }),
    ls: { ls_provider: "genera", ls_model_name: "extractive", ls_temperature: 0 },
  },
  TransformersJsChatModel: {
    make: (extra) =>
      new TransformersJsChatModel({
        ...STANDARD_PARAMS,
        ...extra,
        model: "onnx-community/tiny-chat",
        pipelineFactory: async () => fakePipeline(["Hello", " to", " you", " too."], tokenizer).pipeline,
        streamerFactory,
      }),
    ls: {
      ls_provider: "transformersjs",
      ls_model_name: "onnx-community/tiny-chat",
      ls_temperature: 0,
      ls_max_tokens: 100,
    },
  },
  OpenAICompatibleChatModel: {
    make: (extra) =>
      new OpenAICompatibleChatModel({
        ...STANDARD_PARAMS,
        apiKey: "not-needed",
        ...extra,
        baseURL: `${openai.url}/v1`,
        model: "tiny-chat",
      }),
    ls: { ls_provider: "openai", ls_model_name: "tiny-chat", ls_temperature: 0, ls_max_tokens: 100 },
  },
  OfflineToolChatModel: {
    // The shipped planner, loaded once; without tools bound it answers what it can do.
    make: () => {
      toolModel ??= ToolModel.load();
      return new OfflineToolChatModel({ model: toolModel });
    },
    ls: { ls_provider: "genera", ls_model_name: "tool-model", ls_temperature: 0 },
  },
  OllamaChatModel: {
    make: (extra) =>
      new OllamaChatModel({ ...STANDARD_PARAMS, numPredict: 100, ...extra, baseUrl: ollama.url, model: "tiny-llama" }),
    ls: { ls_provider: "ollama", ls_model_name: "tiny-llama", ls_temperature: 0, ls_max_tokens: 100 },
  },
};

function expectUsage(message: AIMessage | AIMessageChunk | undefined) {
  const usage = message?.usage_metadata;
  expect(usage).toBeDefined();
  expect(usage?.input_tokens).toBeGreaterThan(0);
  expect(usage?.output_tokens).toBeGreaterThan(0);
  expect(usage?.total_tokens).toBe((usage?.input_tokens ?? 0) + (usage?.output_tokens ?? 0));
}

describe.each(Object.entries(cases))("%s meets LangChain's standard chat-model tests", (_name, { make, ls }) => {
  it("unit: constructs with the standard params, an apiKey and streaming", () => {
    expect(make()).toBeDefined();
    expect(make({ apiKey: "test" })).toBeDefined();
    expect(make({ streaming: true })).toBeDefined();
  });

  it("unit: getLsParams reports exactly the standard keys, with the model's settings", () => {
    const params = make().getLsParams({} as never);
    expect(Object.keys(params).sort()).toEqual(LS_KEYS);
    expect(params).toMatchObject({ ls_model_type: "chat", ...ls });
    expect(make().getLsParams({ stop: ["\n\n"] } as never).ls_stop).toEqual(["\n\n"]);
  });

  it("invoke, batch and conversations give non-empty AIMessages", async () => {
    const model = make();
    const reply = await model.invoke("Hello");
    expect(reply).toBeInstanceOf(AIMessage);
    expect(reply.text).not.toBe("");
    const batch = await model.batch(["Hello", "Hey"]);
    expect(batch).toHaveLength(2);
    for (const r of batch) expect(r.text).not.toBe("");
    const conversation = [new HumanMessage("hello"), new AIMessage("hello"), new HumanMessage("how are you")];
    expect((await model.invoke(conversation)).text).not.toBe("");
    const doubled = [
      new SystemMessage("hello"),
      new SystemMessage("hello"),
      new HumanMessage("hello"),
      new HumanMessage("hello"),
      new AIMessage("hello"),
      new AIMessage("hello"),
      new HumanMessage("how are you"),
    ];
    expect((await model.invoke(doubled)).text).not.toBe("");
  });

  it("streams AIMessageChunks with content, and streamEvents v2 starts, streams and ends consistently", async () => {
    const model = make();
    let chunks = 0;
    let text = "";
    for await (const chunk of await model.stream("Hello")) {
      expect(chunk).toBeInstanceOf(AIMessageChunk);
      expect(typeof chunk.content).toBe("string");
      text += chunk.content;
      chunks++;
    }
    expect(chunks).toBeGreaterThan(0);
    expect(text).not.toBe("");

    const events = [];
    for await (const event of model.streamEvents("Hello", { version: "v2" })) events.push(event);
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events[0]?.event).toBe("on_chat_model_start");
    expect(events.at(-1)?.event).toBe("on_chat_model_end");
    expect(events[Math.floor(events.length / 2)]?.event).toBe("on_chat_model_stream");
    const streamed = events
      .filter((e) => e.event === "on_chat_model_stream")
      .map((e) => String((e.data.chunk as AIMessageChunk).content))
      .join("");
    const output = events.at(-1)?.data.output as AIMessageChunk | undefined;
    expect(String(output?.content)).toBe(streamed);
  });

  it("reports usage_metadata on invoke and on a concatenated stream", async () => {
    const model = make();
    expectUsage(await model.invoke("Hello"));
    let whole: AIMessageChunk | undefined;
    for await (const chunk of await model.stream("Hello")) whole = whole ? concat(whole, chunk) : chunk;
    expectUsage(whole);
  });
});

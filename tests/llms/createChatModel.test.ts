import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { GeneraError } from "../../src/errors.js";
import { checkProvider, createChatModel } from "../../src/llms/createChatModel.js";
import { ExtractiveAnswerer } from "../../src/llms/ExtractiveAnswerer.js";
import { ExtractiveChatModel } from "../../src/llms/ExtractiveChatModel.js";
import { OpenAICompatibleChatModel } from "../../src/llms/OpenAICompatibleChatModel.js";
import {
  closedPort,
  type FakeServer,
  replyFor,
  startOllamaServer,
  startOpenAiServer,
  tokenPieces,
} from "./fakeServers.js";

async function expectCode(promise: Promise<unknown>, code: string): Promise<GeneraError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GeneraError);
  expect((error as GeneraError).code).toBe(code);
  return error as GeneraError;
}

function textOf(content: unknown): string {
  return typeof content === "string" ? content : JSON.stringify(content);
}

describe("createChatModel: openai-compatible server", () => {
  let server: FakeServer;
  beforeAll(async () => {
    server = await startOpenAiServer(["tiny-chat"]);
  });
  afterAll(() => server.close());

  it("probes /v1/models and lists the models", async () => {
    const status = await checkProvider({ provider: "openai", baseUrl: `${server.url}/v1`, model: "tiny-chat" });
    expect(status.models).toEqual(["tiny-chat"]);
    expect(server.requests.at(-1)?.url).toBe("/v1/models");
  });

  it("invokes with the configured model, temperature, max tokens and a placeholder key", async () => {
    const model = await createChatModel({
      provider: "openai",
      baseUrl: `${server.url}/v1/`,
      model: "tiny-chat",
      temperature: 0.5,
      maxTokens: 42,
    });
    expect(model).toBeInstanceOf(OpenAICompatibleChatModel);
    expect((model as OpenAICompatibleChatModel).where.url).toBe(`${server.url}/v1`);
    const reply = await model.invoke([new SystemMessage("Be brief."), new HumanMessage("hello there")]);
    expect(textOf(reply.content)).toBe(replyFor([{ role: "user", content: "hello there" }]));
    const request = server.requests.at(-1);
    expect(request?.url).toBe("/v1/chat/completions");
    expect(request?.body?.model).toBe("tiny-chat");
    expect(request?.body?.temperature).toBe(0.5);
    expect(request?.body?.max_tokens ?? request?.body?.max_completion_tokens).toBe(42);
    expect(request?.headers.authorization).toBe("Bearer not-needed");
    expect(((request?.body?.messages ?? []) as Array<{ role: string }>).map((m) => m.role)).toEqual(["system", "user"]);

    // Bound tools reach the server, on the same model settings.
    const tool = { name: "now", description: "the time", schema: z.object({ tz: z.string() }) };
    const withTools = (
      model as unknown as { bindTools(t: unknown[]): { invoke(i: string): Promise<unknown> } }
    ).bindTools([tool]);
    await withTools.invoke("what time is it?");
    const toolRequest = server.requests.at(-1);
    expect(toolRequest?.body?.model).toBe("tiny-chat");
    const tools = (toolRequest?.body?.tools ?? []) as Array<{ function: { name: string } }>;
    expect(tools.map((t) => t.function.name)).toEqual(["now"]);
  });

  it("streams token by token over SSE", async () => {
    const model = await createChatModel({ provider: "openai", baseUrl: `${server.url}/v1`, model: "tiny-chat" });
    const pieces: string[] = [];
    for await (const chunk of await model.stream("stream me please")) pieces.push(textOf(chunk.content));
    const text = pieces.join("");
    expect(text).toBe(replyFor([{ role: "user", content: "stream me please" }]));
    expect(pieces.filter((p) => p !== "").length).toBeGreaterThanOrEqual(4);
    expect(server.requests.at(-1)?.body?.stream).toBe(true);
  });

  it("batches", async () => {
    const model = await createChatModel({ provider: "openai", baseUrl: `${server.url}/v1`, model: "tiny-chat" });
    const replies = await model.batch(["one", "two"]);
    expect(replies.map((r) => textOf(r.content))).toEqual(["You said: one", "You said: two"]);
  });

  it("reports an unknown model as an error from the server, not as unreachable", async () => {
    const model = await createChatModel({ provider: "openai", baseUrl: `${server.url}/v1`, model: "missing" });
    const error = await model.invoke("hi").then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as GeneraError).code).not.toBe("PROVIDER_UNAVAILABLE");
    expect(String((error as Error).message)).toMatch(/missing/);
  });
});

describe("createChatModel: ollama server", () => {
  let server: FakeServer;
  beforeAll(async () => {
    server = await startOllamaServer(["tiny-llama"]);
  });
  afterAll(() => server.close());

  it("probes /api/tags", async () => {
    const status = await checkProvider({ provider: "ollama", baseUrl: server.url, model: "tiny-llama" });
    expect(status.models).toEqual(["tiny-llama:latest"]);
  });

  it("invokes and streams NDJSON", async () => {
    const model = await createChatModel({
      provider: "ollama",
      baseUrl: server.url,
      model: "tiny-llama",
      maxTokens: 9,
    });
    const reply = await model.invoke("what is up");
    expect(textOf(reply.content)).toBe("You said: what is up");
    const request = server.requests.at(-1);
    expect(request?.url).toBe("/api/chat");
    expect(((request?.body?.options ?? {}) as { num_predict?: number }).num_predict).toBe(9);
    const pieces: string[] = [];
    for await (const chunk of await model.stream("stream this")) pieces.push(textOf(chunk.content));
    expect(pieces.join("")).toBe("You said: stream this");
    expect(pieces.filter((p) => p !== "")).toEqual(tokenPieces("You said: stream this"));
  });
});

describe("createChatModel: unreachable providers fail fast", () => {
  it("checkProvider → PROVIDER_UNAVAILABLE naming the URL", async () => {
    const port = await closedPort();
    const error = await expectCode(
      checkProvider({ provider: "openai", baseUrl: `http://127.0.0.1:${port}/v1`, model: "x" }),
      "PROVIDER_UNAVAILABLE",
    );
    expect(error.message).toContain(`http://127.0.0.1:${port}/v1`);
    const ollama = await expectCode(
      checkProvider({ provider: "ollama", baseUrl: `http://127.0.0.1:${port}`, model: "x" }),
      "PROVIDER_UNAVAILABLE",
    );
    expect(ollama.message).toContain(`http://127.0.0.1:${port}`);
  });

  it("a call to an unreachable server → PROVIDER_UNAVAILABLE", async () => {
    const port = await closedPort();
    for (const provider of ["openai", "ollama"] as const) {
      const baseUrl = provider === "openai" ? `http://127.0.0.1:${port}/v1` : `http://127.0.0.1:${port}`;
      const model = await createChatModel({ provider, baseUrl, model: "x" });
      const error = await expectCode(model.invoke("hi"), "PROVIDER_UNAVAILABLE");
      expect(error.message).toContain(baseUrl);
      const streamed = (async () => {
        for await (const _ of await model.stream("hi")) {
          // draining: the error surfaces while streaming
        }
      })();
      await expectCode(streamed, "PROVIDER_UNAVAILABLE");
      // Still mapped once tools or options are bound (agents call models this way).
      const tool = { name: "now", description: "the time", schema: z.object({ tz: z.string() }) };
      const bound = model as unknown as {
        bindTools(tools: unknown[]): { invoke(input: string): Promise<unknown> };
        withConfig(config: object): { invoke(input: string): Promise<unknown> };
      };
      await expectCode(bound.bindTools([tool]).invoke("hi"), "PROVIDER_UNAVAILABLE");
      await expectCode(bound.withConfig({ tags: ["t"] }).invoke("hi"), "PROVIDER_UNAVAILABLE");
    }
  });
});

describe("createChatModel: local providers", () => {
  it("defaults to the extractive answerer, as a chat model", async () => {
    const model = await createChatModel();
    expect(model).toBeInstanceOf(ExtractiveChatModel);
    expect((model as ExtractiveChatModel).answerer).toBeInstanceOf(ExtractiveAnswerer);
    expect(await checkProvider()).toEqual({ provider: "extractive" });
  });

  it("asks for a model name when an HTTP provider has none", async () => {
    const error = await expectCode(
      createChatModel({ provider: "openai", baseUrl: "http://127.0.0.1:1/v1" }),
      "CONFIG_INVALID",
    );
    expect(error.message).toMatch(/llm\.model/);
  });

  it("rejects invalid settings with CONFIG_INVALID", async () => {
    await expectCode(createChatModel({ provider: "openai", model: "m", temperature: 7 }), "CONFIG_INVALID");
  });

  it("transformer: a missing checkpoint folder → MODEL_NOT_FOUND naming it", async () => {
    const missing = join(tmpdir(), "genera-no-such-checkpoint");
    const error = await expectCode(createChatModel({ provider: "transformer", model: missing }), "MODEL_NOT_FOUND");
    expect(error.message).toContain(missing);
  });

  it("transformer: without the engine module → NOT_IMPLEMENTED; with it → a generator", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-ckpt-"));
    const absent = pathToFileURL(join(dir, "NoSuchTransformerLLM.js")).href;
    const error = await expectCode(
      createChatModel({ provider: "transformer", model: dir }, { transformerModule: absent }),
      "NOT_IMPLEMENTED",
    );
    expect(error.message).toMatch(/TransformerLLM/);
    const standIn = new URL("./fixtures/standInTransformerLLM.ts", import.meta.url).href;
    const model = await createChatModel(
      { provider: "transformer", model: dir, temperature: 0.7, maxTokens: 11 },
      { transformerModule: standIn },
    );
    expect((model as unknown as { fields: Record<string, unknown> }).fields).toEqual({
      modelPath: dir,
      modelDir: dir,
      temperature: 0.7,
      maxTokens: 11,
    });
    expect(await model.invoke("hello")).toBe("continued: hello");
  });

  it("transformersjs: a missing model folder → MODEL_NOT_FOUND naming it", async () => {
    const missing = join(tmpdir(), "genera-no-such-onnx-model");
    const error = await expectCode(createChatModel({ provider: "transformersjs", model: missing }), "MODEL_NOT_FOUND");
    expect(error.message).toContain(missing);
    await expectCode(checkProvider({ provider: "transformersjs", model: missing }), "MODEL_NOT_FOUND");
  });
});

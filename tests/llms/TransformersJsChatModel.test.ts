import { type AIMessageChunk, HumanMessage, SystemMessage } from "@langchain/core/messages";
import { concat } from "@langchain/core/utils/stream";
import { describe, expect, it } from "vitest";
import {
  type ChatTokenizerLike,
  type TextGenerationPipelineLike,
  TransformersJsChatModel,
} from "../../src/llms/TransformersJsChatModel.js";
import { encode, fakePipeline, streamerFactory } from "./fakeTextGeneration.js";

describe("TransformersJsChatModel", () => {
  it("applies the model's chat template and streams pieces", async () => {
    const tokenizer: ChatTokenizerLike = {
      chat_template: "{% for m in messages %}...{% endfor %}",
      apply_chat_template: (conversation, options) =>
        `${conversation.map((m) => `<|${m.role}|>${m.content}`).join("")}${options.add_generation_prompt ? "<|assistant|>" : ""}`,
      encode,
    };
    const { pipeline, calls } = fakePipeline(["Hel", "lo", " there"], tokenizer);
    const model = new TransformersJsChatModel({
      model: "onnx-community/tiny",
      temperature: 0,
      maxTokens: 7,
      pipelineFactory: async () => pipeline,
      streamerFactory,
    });
    const pieces: string[] = [];
    for await (const chunk of await model.stream([new SystemMessage("Be kind."), new HumanMessage("Hi")])) {
      pieces.push(String(chunk.content));
    }
    // The last chunk carries the token counts and no text.
    expect(pieces).toEqual(["Hel", "lo", " there", ""]);
    expect(calls[0]?.prompt).toBe("<|system|>Be kind.<|user|>Hi<|assistant|>");
    expect(calls[0]?.options).toMatchObject({ max_new_tokens: 7, do_sample: false, return_full_text: false });
    const reply = await model.invoke("Again");
    expect(reply.content).toBe("Hello there");
  });

  it("falls back to a plain transcript and honours stop sequences", async () => {
    const tokenizer: ChatTokenizerLike = { apply_chat_template: () => "unused", encode };
    const { pipeline, calls, state } = fakePipeline(
      ["Paris", " is big.", "\nUser:", " more", " and", " more", " and", " more"],
      tokenizer,
    );
    const model = new TransformersJsChatModel({ model: "x/y", pipelineFactory: async () => pipeline, streamerFactory });
    const reply = await model.invoke("Tell me about Paris", { stop: ["\nUser:"] });
    expect(reply.content).toBe("Paris is big.");
    // Generation is interrupted at the stop sequence (the criteria see it one token later, as
    // transformers.js asks them right after streaming a token) instead of running to the end.
    expect(state.generated).toBeLessThanOrEqual(4);
    expect(calls[0]?.prompt).toBe("User: Tell me about Paris\nAssistant:");
    expect(calls[0]?.options).toMatchObject({ do_sample: true, temperature: 0.2 });
  });

  it("reports generation failures", async () => {
    const tokenizer: ChatTokenizerLike = { apply_chat_template: () => "", encode };
    const failing = Object.assign(
      async () => {
        throw new Error("onnx session failed");
      },
      { tokenizer },
    ) as TextGenerationPipelineLike;
    const model = new TransformersJsChatModel({ model: "x/y", pipelineFactory: async () => failing, streamerFactory });
    await expect(model.invoke("hi")).rejects.toThrow("onnx session failed");
  });

  it("reports usage_metadata counted by the model's tokenizer, and LangChain's tracing params", async () => {
    const tokenizer: ChatTokenizerLike = { apply_chat_template: () => "", encode };
    const { pipeline } = fakePipeline(["Paris", " is", " big."], tokenizer);
    const model = new TransformersJsChatModel({
      model: "onnx-community/tiny",
      temperature: 0.3,
      maxTokens: 9,
      pipelineFactory: async () => pipeline,
      streamerFactory,
    });
    // The prompt is "User: Tell me about Paris\nAssistant:": 6 words, so 6 stand-in tokens.
    const reply = await model.invoke("Tell me about Paris");
    expect(reply.usage_metadata).toEqual({ input_tokens: 6, output_tokens: 3, total_tokens: 9 });
    let streamed: AIMessageChunk | undefined;
    for await (const chunk of await model.stream("Tell me about Paris"))
      streamed = streamed ? concat(streamed, chunk) : chunk;
    expect(streamed?.content).toBe("Paris is big.");
    expect(streamed?.usage_metadata).toMatchObject({ input_tokens: 6, output_tokens: 3, total_tokens: 9 });

    expect(model.getLsParams({ stop: ["\n"] } as never)).toEqual({
      ls_provider: "transformersjs",
      ls_model_name: "onnx-community/tiny",
      ls_model_type: "chat",
      ls_temperature: 0.3,
      ls_max_tokens: 9,
      ls_stop: ["\n"],
    });
  });

  it("rejects with the abort error when aborted before or during generation, and stops the model", async () => {
    const tokenizer: ChatTokenizerLike = { apply_chat_template: () => "", encode };
    const pieces = Array.from({ length: 50 }, (_, i) => ` w${i}`);
    const { pipeline, state } = fakePipeline(pieces, tokenizer);
    const model = new TransformersJsChatModel({ model: "x/y", pipelineFactory: async () => pipeline, streamerFactory });

    await expect(model.invoke("hi", { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
    expect(state.generated).toBe(0);

    // invoke: aborted after the third token.
    const controller = new AbortController();
    let tokens = 0;
    const onToken = { handleLLMNewToken: () => (++tokens === 3 ? controller.abort() : undefined) };
    await expect(model.invoke("hi", { signal: controller.signal, callbacks: [onToken] })).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(state.generated).toBeLessThan(pieces.length);

    // stream: aborted by the reader with its own reason after the first chunk.
    state.generated = 0;
    const reader = new AbortController();
    const reason = new Error("user pressed stop");
    const error = await (async () => {
      for await (const _ of await model.stream("hi", { signal: reader.signal })) reader.abort(reason);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBe(reason);
    expect(state.generated).toBeLessThan(pieces.length);
  });
});

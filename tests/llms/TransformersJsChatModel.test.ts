import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import {
  type ChatTokenizerLike,
  type TextGenerationPipelineLike,
  TransformersJsChatModel,
} from "../../src/llms/TransformersJsChatModel.js";

/** A stand-in pipeline that "generates" fixed pieces through the streamer it is given. */
function fakePipeline(pieces: string[], tokenizer: ChatTokenizerLike) {
  const calls: Array<{ prompt: string; options: Record<string, unknown> }> = [];
  const run = async (prompt: string, options: Record<string, unknown>) => {
    calls.push({ prompt, options });
    const streamer = options.streamer as { onText: (t: string) => void };
    for (const p of pieces) {
      await new Promise((r) => setTimeout(r, 1));
      streamer.onText(p);
    }
    return [{ generated_text: pieces.join("") }];
  };
  const pipeline = Object.assign(run, { tokenizer }) as TextGenerationPipelineLike;
  return { pipeline, calls };
}

const streamerFactory = async (_t: ChatTokenizerLike, onText: (t: string) => void) => ({ onText });

describe("TransformersJsChatModel", () => {
  it("applies the model's chat template and streams pieces", async () => {
    const tokenizer: ChatTokenizerLike = {
      chat_template: "{% for m in messages %}...{% endfor %}",
      apply_chat_template: (conversation, options) =>
        `${conversation.map((m) => `<|${m.role}|>${m.content}`).join("")}${options.add_generation_prompt ? "<|assistant|>" : ""}`,
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
    expect(pieces).toEqual(["Hel", "lo", " there"]);
    expect(calls[0]?.prompt).toBe("<|system|>Be kind.<|user|>Hi<|assistant|>");
    expect(calls[0]?.options).toMatchObject({ max_new_tokens: 7, do_sample: false, return_full_text: false });
    const reply = await model.invoke("Again");
    expect(reply.content).toBe("Hello there");
  });

  it("falls back to a plain transcript and honours stop sequences", async () => {
    const tokenizer: ChatTokenizerLike = { apply_chat_template: () => "unused" };
    const { pipeline, calls } = fakePipeline(["Paris", " is big.", "\nUser:", " more"], tokenizer);
    const model = new TransformersJsChatModel({ model: "x/y", pipelineFactory: async () => pipeline, streamerFactory });
    const reply = await model.invoke("Tell me about Paris", { stop: ["\nUser:"] });
    expect(reply.content).toBe("Paris is big.");
    expect(calls[0]?.prompt).toBe("User: Tell me about Paris\nAssistant:");
    expect(calls[0]?.options).toMatchObject({ do_sample: true, temperature: 0.2 });
  });

  it("reports generation failures", async () => {
    const tokenizer: ChatTokenizerLike = { apply_chat_template: () => "" };
    const failing = Object.assign(
      async () => {
        throw new Error("onnx session failed");
      },
      { tokenizer },
    ) as TextGenerationPipelineLike;
    const model = new TransformersJsChatModel({ model: "x/y", pipelineFactory: async () => failing, streamerFactory });
    await expect(model.invoke("hi")).rejects.toThrow("onnx session failed");
  });
});

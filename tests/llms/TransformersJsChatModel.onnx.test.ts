import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TextStreamer } from "@huggingface/transformers";
import { afterAll, describe, expect, it } from "vitest";
import { type ChatTokenizerLike, TransformersJsChatModel } from "../../src/llms/TransformersJsChatModel.js";
import { CYCLE, writeTinyCausalLm } from "./fixtures/tinyCausalLm.js";

const dir = mkdtempSync(join(tmpdir(), "genera-tiny-lm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeTinyCausalLm(dir);

/** transformers.js's own TextStreamer, counting what the generate loop produced (read or not). */
function countingStreamer() {
  const counter = { pieces: 0 };
  const streamerFactory = async (tokenizer: ChatTokenizerLike, onText: (text: string) => void) =>
    new TextStreamer(tokenizer as never, {
      skip_prompt: true,
      skip_special_tokens: true,
      callback_function: (text: string) => {
        counter.pieces++;
        onText(text);
      },
    });
  return { counter, streamerFactory };
}

const words = (n: number) => Array.from({ length: n }, (_, i) => CYCLE[i % CYCLE.length]).join(" ");

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

describe("TransformersJsChatModel on a real transformers.js pipeline (a tiny bigram ONNX model)", () => {
  it("generates, streams and counts tokens with the model's tokenizer", async () => {
    const model = new TransformersJsChatModel({ model: dir, temperature: 0, maxTokens: 12 });
    const reply = await model.invoke("hello");
    expect(String(reply.content).trim()).toBe(words(12));
    // "User: hello\nAssistant:" is user, :, hello, assistant, : for this WordPiece tokenizer.
    expect(reply.usage_metadata).toEqual({ input_tokens: 5, output_tokens: 12, total_tokens: 17 });
    let streamed = "";
    for await (const chunk of await model.stream("hello")) streamed += chunk.content;
    expect(streamed).toBe(reply.content);
  });

  it("interrupts generation at a stop sequence", async () => {
    const { counter, streamerFactory } = countingStreamer();
    const model = new TransformersJsChatModel({ model: dir, temperature: 0, maxTokens: 200, streamerFactory });
    const reply = await model.invoke("hello", { stop: ["epsilon"] });
    expect(String(reply.content).trim()).toBe(words(4));
    expect(counter.pieces).toBeLessThan(20);
  });

  it("an abort mid-generation rejects and stops the generate loop", async () => {
    const { counter, streamerFactory } = countingStreamer();
    const model = new TransformersJsChatModel({ model: dir, temperature: 0, maxTokens: 400, streamerFactory });
    const controller = new AbortController();
    let tokens = 0;
    const abortAtThird = { handleLLMNewToken: () => (++tokens === 3 ? controller.abort() : undefined) };
    const error = await rejection(model.invoke("hello", { signal: controller.signal, callbacks: [abortAtThird] }));
    expect(error).toMatchObject({ name: "AbortError" });
    // The call settles only after the generate loop has stopped: it stopped near the abort, not at 400.
    expect(counter.pieces).toBeLessThan(20);
  });
});

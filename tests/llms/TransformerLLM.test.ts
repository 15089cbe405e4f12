import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PromptTemplate } from "@langchain/core/prompts";
import { afterAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../../src/engine/checkpoints/checkpoint.js";
import { GPT } from "../../src/engine/models/gpt.js";
import { CharTokenizer } from "../../src/engine/tokenizers/index.js";
import { TransformerLLM } from "../../src/llms/TransformerLLM.js";

// An untrained character GPT without an end-of-text token: it always writes maxTokens characters,
// so an abort lands mid-generation. Building it takes milliseconds; no training is needed here.
const dir = mkdtempSync(join(tmpdir(), "genera-transformer-llm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tokenizer = new CharTokenizer([..." abcdefghij"], { specialTokens: [] });
const config = {
  vocabSize: tokenizer.vocabSize,
  blockSize: 16,
  dModel: 16,
  nHeads: 2,
  nLayers: 1,
  dFF: 32,
  dropout: 0,
  positional: "learned" as const,
  tieWeights: true,
};
saveCheckpoint(dir, { model: new GPT(config, 3), modelType: "gpt", config, tokenizer });

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

describe("TransformerLLM: aborts and token usage", () => {
  const llm = new TransformerLLM({ modelPath: dir, maxTokens: 200, seed: 1 });

  it("writes maxTokens characters when nothing aborts it, and reports token usage", async () => {
    expect(await llm.invoke("abc")).toHaveLength(200);
    const result = await llm.generate(["abc", "de fg"]);
    expect(result.generations.map((g) => g[0]?.text.length)).toEqual([200, 200]);
    expect(result.llmOutput?.tokenUsage).toEqual({ promptTokens: 3 + 5, completionTokens: 400, totalTokens: 408 });
  });

  it("rejects an already aborted signal before generating", async () => {
    const error = await rejection(llm.invoke("abc", { signal: AbortSignal.abort() }));
    expect(error).toMatchObject({ name: "AbortError" });
    const streamed = await rejection(
      (async () => {
        for await (const _ of await llm.stream("abc", { signal: AbortSignal.abort() })) {
          // nothing may arrive
        }
      })(),
    );
    expect(streamed).toMatchObject({ name: "AbortError" });
  });

  it("rejects (not a truncated text) when aborted during invoke", async () => {
    const controller = new AbortController();
    let tokens = 0;
    const abortAtThird = { handleLLMNewToken: () => (++tokens === 3 ? controller.abort() : undefined) };
    const error = await rejection(llm.invoke("abc", { signal: controller.signal, callbacks: [abortAtThird] }));
    expect(error).toMatchObject({ name: "AbortError" });
    // It stopped where it was aborted instead of writing the remaining ~197 tokens.
    expect(tokens).toBeLessThan(10);
  });

  it("rejects a stream aborted mid-way with the caller's reason, also through a chain", async () => {
    const controller = new AbortController();
    const reason = new Error("stop pressed");
    const seen: string[] = [];
    const error = await rejection(
      (async () => {
        for await (const piece of await llm.stream("abc", { signal: controller.signal })) {
          seen.push(piece);
          if (seen.length === 2) controller.abort(reason);
        }
      })(),
    );
    expect(error).toBe(reason);
    expect(seen.length).toBeLessThan(10);

    const chain = PromptTemplate.fromTemplate("{x}").pipe(llm);
    const chained = new AbortController();
    let tokens = 0;
    const abortAtFirst = { handleLLMNewToken: () => (++tokens === 1 ? chained.abort() : undefined) };
    expect(
      await rejection(chain.invoke({ x: "abc" }, { signal: chained.signal, callbacks: [abortAtFirst] })),
    ).toMatchObject({ name: "AbortError" });
  });
});

import { tmpdir } from "node:os";
import { Document } from "@langchain/core/documents";
import { HumanMessage } from "@langchain/core/messages";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { beforeAll, describe, expect, it } from "vitest";
import { ToolCallingAgent } from "../../src/agents/ToolCallingAgent.js";
import { OfflineToolChatModel } from "../../src/agents/toolModel/OfflineToolChatModel.js";
import { ToolModel } from "../../src/agents/toolModel/ToolModel.js";
import { calculatorTool } from "../../src/agents/tools/calculator.js";
import { createCurrentDateTool } from "../../src/agents/tools/currentDate.js";
import { createSearchTool } from "../../src/agents/tools/documentTools.js";
import { createGenerateImageTool } from "../../src/agents/tools/imageTool.js";

// The checkpoint genera ships (models/tool-model), as `genera agent` uses it.
let model: OfflineToolChatModel;
beforeAll(() => {
  model = new OfflineToolChatModel({ model: ToolModel.load() });
});

const passages = [
  new Document({
    pageContent: "The base model uses 8 attention heads, each of dimension 64. Smaller models use fewer heads.",
    metadata: { source: "attention.md", id: "a1", headings: ["Multi-head attention"] },
  }),
  new Document({
    pageContent: "Dropout is applied to the output of each sub-layer.",
    metadata: { source: "dropout.md", id: "d1", headings: ["Dropout"] },
  }),
];
const retriever = { invoke: async () => passages };
const search = createSearchTool({ retriever });
const date = createCurrentDateTool({ now: () => new Date("2026-12-06T10:00:00Z") });

function agent(tools: StructuredToolInterface[] = [search, calculatorTool, date]) {
  return new ToolCallingAgent({ model, tools });
}

describe("OfflineToolChatModel", () => {
  it("rejects with the signal's abort error, aborted before or during the call", async () => {
    const bound = model.bindTools([calculatorTool]);
    const request = [new HumanMessage("What is 17 times 23?")];
    await expect(bound.invoke(request, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
    const controller = new AbortController();
    const pending = bound.invoke(request, { signal: controller.signal });
    controller.abort(new Error("user left"));
    await expect(pending).rejects.toThrow("user left");
    // The model still answers the next call.
    expect((await bound.invoke(request)).tool_calls).toHaveLength(1);
  });

  it("streams its reply as one AIMessageChunk that keeps the tool calls and usage", async () => {
    const chunks = [];
    for await (const chunk of await model
      .bindTools([calculatorTool])
      .stream([new HumanMessage("What is 17 times 23?")])) {
      chunks.push(chunk);
    }
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.tool_calls).toMatchObject([{ name: "calculator", args: { expression: "17 * 23" } }]);
    expect(chunks[0]?.usage_metadata?.input_tokens).toBeGreaterThan(0);
  });

  it("binds tools and answers with tool_calls whose arguments are copied from the request", async () => {
    const reply = await model.bindTools([calculatorTool]).invoke([new HumanMessage("What is 17 times 23?")]);
    expect(reply.tool_calls).toMatchObject([{ name: "calculator", args: { expression: "17 * 23" } }]);
  });

  it("runs in createAgent: a calculation", async () => {
    const result = await agent().invoke("calculate (12 + 30) / 7");
    expect(result.steps.find((s) => s.type === "tool_call")).toMatchObject({
      tool: "calculator",
      args: { expression: "(12 + 30) / 7" },
    });
    expect(result.answer).toBe("(12 + 30) / 7 = 6.");
  });

  it("runs in createAgent: a search answered with quoted, cited sentences", async () => {
    const result = await agent().invoke("What do the documents say about attention heads?");
    expect(result.steps.find((s) => s.type === "tool_call")).toMatchObject({
      tool: "search_documents",
      args: { query: "attention heads" },
    });
    expect(result.answer).toContain("The base model uses 8 attention heads, each of dimension 64. [1]");
    expect(result.sources[0]).toMatchObject({ index: 1, source: "attention.md" });
  });

  it("runs in createAgent: a search, then a calculation with the figure it found", async () => {
    const result = await agent().invoke("Look up the number of attention heads, then multiply it by 64");
    const calls = result.steps.filter((s) => s.type === "tool_call");
    expect(calls).toMatchObject([
      { tool: "search_documents", args: { query: "the number of attention heads" } },
      { tool: "calculator", args: { expression: "8 * 64" } },
    ]);
    expect(result.answer).toContain("[1]");
    expect(result.answer).toContain("8 * 64 = 512.");
  });

  it("tells the date from the tool", async () => {
    const result = await agent().invoke("what's the date today?");
    expect(result.answer).toMatch(/^It is Sunday(,)? 6 December 2026/);
  });

  it("says honestly when no tool serves the request", async () => {
    const result = await agent().invoke("Book a flight to Tokyo for tomorrow");
    expect(result.steps).toEqual([]);
    expect(result.answer).toMatch(/^I can't do that with these tools\./);
  });

  it("calls generate_image with the generator, count and digit copied from the request", async () => {
    const seen: unknown[] = [];
    const images = createGenerateImageTool({
      models: ["vae", "gan"],
      outDir: tmpdir(),
      open: (name) => ({
        invoke: async (request) => {
          seen.push({ name, ...request, seed: undefined });
          return {
            images: new Float32Array(0),
            count: request.n ?? 4,
            rows: 28,
            cols: 28,
            png: Buffer.alloc(0),
            model: name,
          };
        },
      }),
    });
    const result = await agent([images]).invoke("Please draw 3 sevens with the gan");
    expect(result.steps.find((s) => s.type === "tool_call")).toMatchObject({
      tool: "generate_image",
      args: { model: "gan", n: 3, digit: 7 },
    });
    expect(seen).toEqual([{ name: "gan", n: 3, digit: 7, seed: undefined }]);
    expect(result.answer).toMatch(/^Drew 3 images of the digit 7 with gan: .*\.png$/);
    const without = await agent([date]).invoke("Please draw 3 sevens with the gan");
    expect(without.answer).toContain("needs generate_image, which I was not given");
  });

  it("reaches only the tools it was given", async () => {
    const result = await agent([date]).invoke("compute 2 + 2");
    expect(result.steps).toEqual([]);
    expect(result.answer).toMatch(/needs calculator, which I was not given/);
  });
});

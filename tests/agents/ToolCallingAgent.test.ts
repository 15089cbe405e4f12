import { Document } from "@langchain/core/documents";
import { AIMessage } from "@langchain/core/messages";
import { fakeModel } from "@langchain/core/testing";
import { type StructuredToolInterface, tool } from "@langchain/core/tools";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { AgentEvent } from "../../src/agents/AgentRunner.js";
import { ToolCallingAgent } from "../../src/agents/ToolCallingAgent.js";
import { calculatorTool } from "../../src/agents/tools/calculator.js";
import { createSearchTool } from "../../src/agents/tools/documentTools.js";

const retriever = {
  invoke: async (query: string) => [
    new Document({
      pageContent: `The base model uses 8 heads (${query}).`,
      metadata: { source: "attention.md", id: "c1", headings: ["Heads"] },
    }),
  ],
};

function agentWith(
  model: ReturnType<typeof fakeModel>,
  tools: StructuredToolInterface[] = [calculatorTool],
  limits = {},
) {
  return new ToolCallingAgent({ model: model as never, tools, limits });
}

describe("ToolCallingAgent (createAgent)", () => {
  it("runs a multi-step plan and streams its steps in order", async () => {
    const model = fakeModel()
      .respondWithTools([{ name: "search_documents", args: { query: "attention heads" }, id: "s1" }])
      .respondWithTools([{ name: "calculator", args: { expression: "8 * 64" }, id: "c1" }])
      .respond(new AIMessage("8 heads [1] × 64 = 512."));
    const agent = agentWith(model, [createSearchTool({ retriever }), calculatorTool]);
    const events: AgentEvent[] = [];
    for await (const e of agent.streamRun("heads times 64?")) events.push(e);
    const steps = events.filter((e) => e.type === "step").map((e) => (e.type === "step" ? e.step : null));
    expect(steps.filter((s) => s?.type !== "thought").map((s) => s?.type)).toEqual([
      "tool_call",
      "observation",
      "tool_call",
      "observation",
    ]);
    const done = events.at(-1);
    expect(done?.type).toBe("done");
    if (done?.type !== "done") return;
    expect(done.result.answer).toBe("8 heads [1] × 64 = 512.");
    expect(done.result.sources).toMatchObject([{ index: 1, source: "attention.md" }]);
    expect(done.result.steps.find((s) => s.type === "observation" && s.tool === "calculator")).toMatchObject({
      content: "8 * 64 = 512",
    });
  });

  it("gives a tool's exception back to the model as an observation", async () => {
    const broken = tool(
      async () => {
        throw new Error("disk on fire");
      },
      { name: "broken", description: "fails", schema: z.object({}) },
    );
    const model = fakeModel()
      .respondWithTools([{ name: "broken", args: {}, id: "b1" }])
      .respondWithTools([{ name: "calculator", args: { expression: "constructor.constructor('x')()" }, id: "c1" }])
      .respond(new AIMessage("Both tools failed."));
    const result = await agentWith(model, [broken, calculatorTool]).invoke("try");
    const observations = result.steps.filter((s) => s.type === "observation");
    expect(observations).toHaveLength(2);
    expect(observations[0]).toMatchObject({ error: true, content: expect.stringContaining("disk on fire") });
    expect(observations[1]).toMatchObject({ error: true, content: expect.stringContaining("INVALID_INPUT") });
    expect(result.answer).toBe("Both tools failed.");
  });

  it("abandons a tool that hangs and goes on", async () => {
    const hang = tool(() => new Promise<string>(() => {}), {
      name: "hang",
      description: "never returns",
      schema: z.object({}),
    });
    const model = fakeModel()
      .respondWithTools([{ name: "hang", args: {}, id: "h1" }])
      .respond(new AIMessage("The tool timed out."));
    const result = await agentWith(model, [hang], { toolTimeoutMs: 100 }).invoke("hang");
    expect(result.steps.find((s) => s.type === "observation")).toMatchObject({
      error: true,
      content: expect.stringContaining("did not finish within 100 ms"),
    });
    expect(result.answer).toBe("The tool timed out.");
  });

  it("stops after maxSteps tool turns with an honest answer", async () => {
    let model = fakeModel();
    for (let i = 0; i < 10; i++)
      model = model.respondWithTools([{ name: "calculator", args: { expression: `${i}+1` }, id: `c${i}` }]);
    const result = await agentWith(model, [calculatorTool], { maxSteps: 2 }).invoke("loop");
    expect(result.stoppedBy).toBe("steps");
    expect(result.steps.filter((s) => s.type === "tool_call")).toHaveLength(2);
    expect(result.answer).toMatch(/stopped after 2 tool steps/);
    expect(result.answer).toContain("1+1 = 2");
  });

  it("stops at the time limit", async () => {
    const slow = tool(() => new Promise<string>((r) => setTimeout(() => r("late"), 400)), {
      name: "slow",
      description: "slow",
      schema: z.object({}),
    });
    let model = fakeModel();
    for (let i = 0; i < 10; i++) model = model.respondWithTools([{ name: "slow", args: {}, id: `s${i}` }]);
    const result = await agentWith(model, [slow], { timeoutMs: 250 }).invoke("slow");
    expect(result.stoppedBy).toBe("time");
    expect(result.answer).toMatch(/ran out of time/);
  });

  it("cuts long tool output", async () => {
    const chatty = tool(async () => "y".repeat(10_000), { name: "chatty", description: "talks", schema: z.object({}) });
    const model = fakeModel()
      .respondWithTools([{ name: "chatty", args: {}, id: "t1" }])
      .respond(new AIMessage("ok"));
    const result = await agentWith(model, [chatty], { maxObservationChars: 100 }).invoke("talk");
    const obs = result.steps.find((s) => s.type === "observation");
    expect(obs?.type === "observation" && obs.content.length).toBeLessThan(200);
  });

  it("reaches only the tools it was given", async () => {
    const model = fakeModel()
      .respondWithTools([{ name: "read_file", args: { path: "/etc/passwd" }, id: "r1" }])
      .respond(new AIMessage("I cannot read files."));
    const result = await agentWith(model).invoke("read /etc/passwd");
    expect(result.steps.find((s) => s.type === "observation")).toMatchObject({ error: true });
    expect(JSON.stringify(result.steps)).not.toContain("root:x:0");
  });

  it("shows steps in streamEvents and fires callbacks", async () => {
    const model = fakeModel()
      .respondWithTools([{ name: "calculator", args: { expression: "1+1" }, id: "c1" }])
      .respond(new AIMessage("2"));
    const names: string[] = [];
    for await (const e of agentWith(model).streamEvents("1+1", { version: "v2" })) names.push(`${e.event}:${e.name}`);
    expect(names).toContain("on_chain_start:ToolCallingAgent");
    expect(names).toContain("on_tool_start:calculator");
    expect(names).toContain("on_custom_event:agent_step");
    expect(names).toContain("on_chain_end:ToolCallingAgent");

    const seen: string[] = [];
    const model2 = fakeModel()
      .respondWithTools([{ name: "calculator", args: { expression: "2+2" }, id: "c1" }])
      .respond(new AIMessage("4"));
    await agentWith(model2).invoke("2+2", {
      callbacks: [{ handleToolStart: () => void seen.push("tool"), handleChainEnd: () => void seen.push("chain") }],
    });
    expect(seen).toContain("tool");
    expect(seen).toContain("chain");
  });

  it("refuses a model without bindTools", () => {
    expect(() => new ToolCallingAgent({ model: {} as never, tools: [] })).toThrow(/ReActAgent/);
  });
});

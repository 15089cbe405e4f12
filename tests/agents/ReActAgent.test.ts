import { FakeStreamingLLM } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { parseReAct, ReActAgent } from "../../src/agents/ReActAgent.js";
import { calculatorTool } from "../../src/agents/tools/calculator.js";
import { createCurrentDateTool } from "../../src/agents/tools/currentDate.js";

const tools = [calculatorTool, createCurrentDateTool({ now: () => new Date("2026-03-04T05:06:07Z") })];

describe("parseReAct", () => {
  it.each([
    [
      'Thought: add\nAction: calculator\nAction Input: {"expression": "1+2"}',
      { tool: "calculator", args: { expression: "1+2" } },
    ],
    ["**Action:** Calculator\n**Action Input:** 1+2", { tool: "calculator", args: { expression: "1+2" } }],
    [
      'action: `calculator`\naction input: ```json\n{"expression":"3*3"}\n```',
      { tool: "calculator", args: { expression: "3*3" } },
    ],
    [
      'Action: calculator\nAction Input: "7/7"\nObservation: 1\nFinal Answer: 1',
      { tool: "calculator", args: { expression: "7/7" } },
    ],
    ["Action: current_date\nAction Input:", { tool: "current_date", args: {} }],
  ])("reads an action from %j", (text, expected) => {
    expect(parseReAct(text, tools)).toMatchObject({ kind: "action", ...expected });
  });

  it("reads a final answer and reports what it cannot read", () => {
    expect(parseReAct("Thought: done\nFinal Answer: 42", tools)).toMatchObject({
      kind: "final",
      answer: "42",
      thought: "done",
    });
    expect(parseReAct("Action: launch_rockets\nAction Input: now", tools)).toMatchObject({
      kind: "invalid",
      reason: /no tool/,
    });
    expect(parseReAct('Action: calculator\nAction Input: {"expression": ', tools)).toMatchObject({ kind: "invalid" });
    expect(parseReAct("I think the answer is 4", tools)).toMatchObject({ kind: "invalid" });
  });
});

describe("ReActAgent", () => {
  it("acts, observes and answers over a text-only LLM", async () => {
    const llm = new FakeStreamingLLM({
      sleep: 0,
      responses: [
        ' I need to compute.\nAction: calculator\nAction Input: {"expression": "6*7"}',
        " I know it.\nFinal Answer: 6 × 7 = 42",
      ],
    });
    const result = await new ReActAgent({ llm, tools }).invoke("What is 6 times 7?");
    expect(result.answer).toBe("6 × 7 = 42");
    expect(result.steps.map((s) => s.type)).toEqual(["thought", "tool_call", "observation", "thought"]);
    expect(result.steps[2]).toMatchObject({ content: "6*7 = 42", error: false });
  });

  it("sends one correcting message after an unparsable reply", async () => {
    const prompts: string[] = [];
    const llm = new FakeStreamingLLM({
      sleep: 0,
      responses: ["Action: nosuchtool\nAction Input: x", " ok\nFinal Answer: fine"],
    });
    const result = await new ReActAgent({ llm, tools }).invoke("x", {
      callbacks: [{ handleLLMStart: (_l, p) => void prompts.push(p[0] as string) }],
    });
    expect(result.answer).toBe("fine");
    expect(prompts).toHaveLength(2);
    expect(prompts[1]).toMatch(/could not be used: there is no tool "nosuchtool"/);
  });

  it("takes a second unparsable reply as the answer", async () => {
    const llm = new FakeStreamingLLM({ sleep: 0, responses: ["blah", "The answer is 4."] });
    const result = await new ReActAgent({ llm, tools }).invoke("2+2?");
    expect(result.answer).toBe("The answer is 4.");
  });

  it("stops at the step limit", async () => {
    const llm = new FakeStreamingLLM({
      sleep: 0,
      responses: Array(10).fill('Action: calculator\nAction Input: {"expression": "1"}'),
    });
    const result = await new ReActAgent({ llm, tools, limits: { maxSteps: 3 } }).invoke("loop");
    expect(result.stoppedBy).toBe("steps");
    expect(result.steps.filter((s) => s.type === "tool_call")).toHaveLength(3);
  });

  it("streams final-answer tokens and steps", async () => {
    const llm = new FakeStreamingLLM({ sleep: 0, responses: ["Final Answer: hello there"] });
    const events = [];
    for await (const e of new ReActAgent({ llm, tools }).streamRun("hi")) events.push(e);
    expect(
      events
        .filter((e) => e.type === "token")
        .map((e) => (e.type === "token" ? e.text : ""))
        .join(""),
    ).toBe("hello there");
    expect(events.at(-1)).toMatchObject({ type: "done", result: { answer: "hello there" } });
  });
});

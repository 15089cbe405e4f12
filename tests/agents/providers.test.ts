import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentRunner } from "../../src/agents/createAgentRunner.js";
import { calculatorTool } from "../../src/agents/tools/calculator.js";
import { createChatModel } from "../../src/llms/createChatModel.js";
import { closedPort } from "../llms/fakeServers.js";
import { startOllamaToolServer, startOpenAiToolServer, type ToolServer } from "./toolServers.js";

let openai: ToolServer;
let ollama: ToolServer;

beforeAll(async () => {
  [openai, ollama] = await Promise.all([startOpenAiToolServer(), startOllamaToolServer()]);
});
afterAll(async () => {
  await Promise.all([openai.close(), ollama.close()]);
});

describe("agents over tool-calling servers", () => {
  it("runs createAgent over an OpenAI-compatible server's tool_calls", async () => {
    const model = await createChatModel({ provider: "openai", baseUrl: `${openai.url}/v1`, model: "tool-chat" });
    const agent = createAgentRunner({ model, tools: [calculatorTool] });
    const result = await agent.invoke("calc: (2 + 3) * 4");
    expect(result.steps.filter((s) => s.type !== "thought")).toMatchObject([
      { type: "tool_call", tool: "calculator", args: { expression: "(2 + 3) * 4" } },
      { type: "observation", tool: "calculator", content: "(2 + 3) * 4 = 20", error: false },
    ]);
    expect(result.answer).toBe("Result: (2 + 3) * 4 = 20");
    // The tools went to the server as OpenAI function specs, and the result came back as a tool message.
    const first = openai.bodies.find((b) => Array.isArray(b.tools)) as { tools: Array<{ function: { name: string } }> };
    expect(first.tools.map((t) => t.function.name)).toEqual(["calculator"]);
    const second = openai.bodies.at(-1) as { messages: Array<{ role: string; tool_call_id?: string }> };
    expect(second.messages.at(-1)).toMatchObject({ role: "tool", tool_call_id: expect.stringMatching(/^call_/) });
  });

  it("runs createAgent over Ollama's tool_calls", async () => {
    const model = await createChatModel({ provider: "ollama", baseUrl: ollama.url, model: "tool-llama" });
    const agent = createAgentRunner({ model, tools: [calculatorTool] });
    const result = await agent.invoke("calc: 2^10");
    expect(result.steps.find((s) => s.type === "observation")).toMatchObject({ content: "2^10 = 1024" });
    expect(result.answer).toBe("Result: 2^10 = 1024");
    const sent = ollama.bodies.find((b) => Array.isArray(b.tools)) as { tools: Array<{ function: { name: string } }> };
    expect(sent.tools[0]?.function.name).toBe("calculator");
  });

  it("still maps a dead server to PROVIDER_UNAVAILABLE after bindTools", async () => {
    const port = await closedPort();
    const model = await createChatModel({ provider: "openai", baseUrl: `http://127.0.0.1:${port}/v1`, model: "x" });
    const agent = createAgentRunner({ model, tools: [calculatorTool] });
    await expect(agent.invoke("calc: 1+1")).rejects.toMatchObject({ code: "PROVIDER_UNAVAILABLE" });
    const ollamaModel = await createChatModel({ provider: "ollama", baseUrl: `http://127.0.0.1:${port}`, model: "x" });
    await expect(
      createAgentRunner({ model: ollamaModel, tools: [calculatorTool] }).invoke("calc: 1"),
    ).rejects.toMatchObject({
      code: "PROVIDER_UNAVAILABLE",
    });
  });
});

import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { ToolCallingAgent } from "../../src/agents/ToolCallingAgent.js";
import { OfflineToolChatModel } from "../../src/agents/toolModel/OfflineToolChatModel.js";
import { calculatorTool } from "../../src/agents/tools/calculator.js";
import { formatStep, runAgent } from "../../src/cli/commands/agent.js";

function capture() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d) => {
    text += String(d);
  });
  return { stream, text: () => text };
}

const agent = () => new ToolCallingAgent({ model: new OfflineToolChatModel(), tools: [calculatorTool] });

describe("genera agent", () => {
  it("prints each step on stderr and the answer on stdout", async () => {
    const out = capture();
    const err = capture();
    await runAgent(agent(), "What is 21 times 2?", { out: out.stream, err: err.stream });
    expect(err.text()).toBe('→ calculator {"expression":"21 * 2"}\n← calculator: 21 * 2 = 42\n');
    expect(out.text()).toBe("21 * 2 = 42.\n");
  });

  it("prints one JSON object with --json", async () => {
    const out = capture();
    const err = capture();
    await runAgent(agent(), "What is 21 times 2?", { json: true, out: out.stream, err: err.stream });
    expect(err.text()).toBe("");
    const body = JSON.parse(out.text()) as { task: string; answer: string; steps: unknown[] };
    expect(body).toMatchObject({ task: "What is 21 times 2?", answer: "21 * 2 = 42." });
    expect(body.steps).toHaveLength(2);
  });

  it("formats failed steps and long results on one line", () => {
    expect(formatStep({ type: "observation", id: "1", tool: "read_file", content: "nope", error: true })).toBe(
      "✗ read_file: nope",
    );
    expect(
      formatStep({ type: "observation", id: "1", tool: "x", content: "a\n".repeat(200), error: false }).length,
    ).toBeLessThan(170);
  });
});

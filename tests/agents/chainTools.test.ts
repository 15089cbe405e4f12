import { FakeListChatModel } from "@langchain/core/utils/testing";
import { describe, expect, it } from "vitest";
import { createChainTools } from "../../src/agents/tools/chainTools.js";
import { createAgentTools } from "../../src/agents/tools/createAgentTools.js";

describe("summarize / translate tools", () => {
  it("run the existing chains on the configured generator", async () => {
    const llm = new FakeListChatModel({ responses: ["A short summary.", "Bonjour le monde."] });
    const { summarize, translate } = createChainTools(llm);
    expect(await summarize.invoke({ text: "A long text about many things." })).toBe("A short summary.");
    expect(await translate.invoke({ text: "Hello world", to: "French" })).toBe("Bonjour le monde.");
  });

  it("exist only when a generator is configured", () => {
    const names = (tools: { name: string }[]) => tools.map((t) => t.name);
    expect(names(createAgentTools())).toEqual(["calculator", "current_date"]);
    expect(names(createAgentTools({ generator: new FakeListChatModel({ responses: ["x"] }) }))).toEqual([
      "calculator",
      "current_date",
      "summarize",
      "translate",
    ]);
    expect(() => createAgentTools({ names: ["summarize"] })).toThrow(/not available with this configuration/);
  });
});

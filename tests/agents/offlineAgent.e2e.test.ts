import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentRunner } from "../../src/agents/createAgentRunner.js";
import { createAgentTools } from "../../src/agents/tools/createAgentTools.js";
import { createReadDocumentTool } from "../../src/agents/tools/documentTools.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { createChatModel } from "../../src/llms/createChatModel.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";

// The offline agent end to end: the shipped tool model, createAgent, and the real tools
// over examples/knowledge (hash embeddings keep indexing fast; BM25 does the finding).
const dir = mkdtempSync(join(tmpdir(), "genera-agent-e2e-"));
let kb: KnowledgeBase;

beforeAll(async () => {
  kb = await KnowledgeBase.open({ dir: join(dir, "index"), embeddings: new HashEmbeddings() });
  await kb.index(["examples/knowledge"]);
}, 120_000);
afterAll(async () => {
  await kb.close();
  rmSync(dir, { recursive: true, force: true });
});

async function agent() {
  const model = await createChatModel({ provider: "extractive" });
  return createAgentRunner({ model, tools: createAgentTools({ knowledgeBase: kb, roots: ["examples/knowledge"] }) });
}

describe("the offline agent over examples/knowledge", () => {
  it("answers a request that needs a search with quoted, cited sentences", async () => {
    const result = await (await agent()).invoke("What do the documents say about the KV cache?");
    expect(result.steps.find((s) => s.type === "tool_call")).toMatchObject({
      tool: "search_documents",
      args: { query: "the KV cache" },
    });
    expect(result.answer).toMatch(/\[\d\]/);
    const cited = Number(/\[(\d)\]/.exec(result.answer)?.[1]);
    expect(result.sources.find((s) => s.index === cited)?.source).toMatch(/kv-cache\.md$/);
    // Every sentence of the answer is quoted from a passage the search returned.
    for (const sentence of result.answer.split(/ \[\d+\] ?/).filter(Boolean)) {
      expect(result.sources.some((s) => s.text.includes(sentence.trim()))).toBe(true);
    }
  });

  it("answers a request that needs a calculation", async () => {
    const result = await (await agent()).invoke("Calculate 4096 * 2 / 8");
    expect(result.steps.find((s) => s.type === "tool_call")).toMatchObject({
      tool: "calculator",
      args: { expression: "4096 * 2 / 8" },
    });
    expect(result.answer).toBe("4096 * 2 / 8 = 1024.");
  });

  it("answers a request that needs both: a figure from the documents, then arithmetic on it", async () => {
    const result = await (await agent()).invoke(
      "Find the number of layers of BERT-Large in the documents and double it",
    );
    const calls = result.steps.filter((s) => s.type === "tool_call");
    expect(calls).toMatchObject([
      { tool: "search_documents", args: { query: "the number of layers of BERT-Large" } },
      { tool: "calculator", args: { expression: "24 * 2" } },
    ]);
    expect(result.answer).toContain("BERT-Large has 24 layers");
    expect(result.answer).toMatch(/\[\d\]/);
    expect(result.answer).toContain("24 * 2 = 48.");
  });

  it("reads a whole indexed document, or one section of it", async () => {
    const read = createReadDocumentTool({ knowledgeBase: kb });
    const whole = await read.invoke({ id: "kv-cache.md" });
    expect(whole).toMatch(/^kv-cache\.md:\n/);
    expect(whole).toContain("0.5 MiB per token");
    const all = await read.invoke({ id: "kv-cache" });
    expect(all).toBe(whole);
    const section = await read.invoke({ id: "kv-cache.md", section: "How big is the cache" });
    expect(section).toContain("0.5 MiB per token");
    expect(section.length).toBeLessThan(whole.length);
    await expect(read.invoke({ id: "no-such-document.md" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(read.invoke({ id: "kv-cache.md", section: "no such heading" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("lists and reads files inside its root, and refuses paths outside it", async () => {
    const a = await agent();
    const listing = await a.invoke("list the files in the root folder");
    expect(listing.answer).toContain("kv-cache.md");
    const outside = await a.invoke("read ../package.json");
    expect(outside.steps.find((s) => s.type === "observation")).toMatchObject({ error: true });
    expect(outside.answer).not.toContain('"name": "genera"');
  });
});

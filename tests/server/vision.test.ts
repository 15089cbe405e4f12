import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRagChain } from "../../chains/createRagChain.js";
import { loadConfig } from "../../src/config.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { type RunningServer, startServer } from "../../src/server/startServer.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { type FakeServer, startOpenAiServer } from "../llms/fakeServers.js";

const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);
const dataUrl = `data:image/png;base64,${png.toString("base64")}`;
const content = [
  { type: "text", text: "What does the lighthouse picture show?" },
  { type: "image_url", image_url: { url: dataUrl } },
];

let dir: string;
let kb: KnowledgeBase;
let provider: FakeServer;
let refusing: Server;
let seeing: RunningServer;
let blind: RunningServer;

/** The image_url parts of the last user message a fake provider was sent. */
function sentImages(): string[] {
  const body = provider.requests.at(-1)?.body as { messages: Array<{ role: string; content: unknown }> };
  const last = [...body.messages].reverse().find((m) => m.role === "user");
  return Array.isArray(last?.content)
    ? (last.content as Array<{ type: string; image_url?: { url: string } }>)
        .filter((p) => p.type === "image_url")
        .map((p) => p.image_url?.url as string)
    : [];
}

// A server whose OpenAI-compatible provider reads images (llm.vision), and one whose provider
// answers any request with a 400, as a text-only model behind a vision setting would.
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "genera-vision-"));
  mkdirSync(join(dir, "docs"));
  writeFileSync(join(dir, "docs", "lighthouse.md"), "# Lighthouse\n\nThe lighthouse picture shows a red tower.\n");
  kb = await KnowledgeBase.open({ dir: join(dir, "index"), embeddings: new HashEmbeddings() });
  await kb.index([join(dir, "docs")]);
  provider = await startOpenAiServer();
  refusing = createServer((_req, res) => {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: "this model does not accept image input", type: "invalid_request" } }));
  });
  refusing.listen(0, "127.0.0.1");
  await once(refusing, "listening");
  const config = (baseUrl: string) =>
    loadConfig({
      env: {},
      cwd: dir,
      overrides: {
        dataDir: dir,
        server: { port: 0, folders: [] },
        llm: { provider: "openai", baseUrl, model: "tiny-chat", vision: true },
      },
    });
  seeing = await startServer({ config: config(`${provider.url}/v1`), kb, log: () => {} });
  const port = (refusing.address() as AddressInfo).port;
  blind = await startServer({ config: config(`http://127.0.0.1:${port}/v1`), kb, log: () => {} });
});
afterAll(async () => {
  await seeing?.close();
  await blind?.close();
  await kb?.close();
  await provider?.close();
  refusing?.closeAllConnections();
  refusing?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (server: RunningServer, path: string, body: unknown) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });

describe("images passed through to a vision-capable chat model", () => {
  it("sends a chat message's image to the model as an image_url part beside the question", async () => {
    const chat = await post(seeing, "/api/chat", { message: content });
    expect(chat.status).toBe(200);
    expect(sentImages()).toEqual([dataUrl]);
    const body = (await chat.json()) as { sources: Array<{ source: string }> };
    expect(body.sources.map((s) => s.source)).toContain("lighthouse.md");

    const streamed = await post(seeing, "/api/chat/stream", { message: content });
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toContain("event: done");
    expect(sentImages()).toEqual([dataUrl]);

    const completion = await post(seeing, "/v1/chat/completions", {
      model: "genera-rag",
      messages: [{ role: "user", content }],
    });
    expect(completion.status).toBe(200);
    expect(sentImages()).toEqual([dataUrl]);
  });

  it("answers 400 when the model refuses images, and when an image is not an inline data: URL", async () => {
    const refused = await post(blind, "/api/chat", { message: content });
    expect(refused.status).toBe(400);
    const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.message).toMatch(/refused the image.*llm\.vision/);

    const remote = await post(seeing, "/api/chat", {
      message: [content[0], { type: "image_url", image_url: { url: "https://example.com/a.png" } }],
    });
    expect(remote.status).toBe(400);
  });

  it("refuses vision for a provider that reads text only, and images for the extractive answerer", async () => {
    expect(() =>
      loadConfig({ env: { GENERA_LLM_VISION: "true" }, cwd: dir, overrides: { llm: { provider: "extractive" } } }),
    ).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("llm.vision") }));
    const chain = createRagChain({ retriever: kb.asRetriever({ k: 2 }) });
    await expect(chain.invoke({ question: "What is shown?", images: [dataUrl] })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("cannot look at images"),
    });
  });
});

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { loadMnist } from "../../src/images/mnist.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { DigitImageEmbeddings } from "../../src/multimodal/digits/DigitImageEmbeddings.js";
import { ImageIndex } from "../../src/multimodal/ImageIndex.js";
import { type RunningServer, startServer } from "../../src/server/startServer.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";

let dir: string;
let running: RunningServer;
let kb: KnowledgeBase;
let images: ImageIndex;

async function digitPng(index: number): Promise<{ label: number; png: Buffer }> {
  const test = loadMnist("test", { limit: index + 1 });
  const grey = Buffer.from(
    Array.from(test.images.subarray(index * 784, (index + 1) * 784), (v) => Math.round(v * 255)),
  );
  const png = await sharp(grey, { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toBuffer();
  return { label: test.labels[index] as number, png };
}

// A real server over loopback with an image index of MNIST digits beside the text index.
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "genera-images-server-"));
  const folder = join(dir, "digits");
  mkdirSync(folder);
  const files = [];
  for (let i = 0; i < 60; i++) {
    const { label, png } = await digitPng(i);
    const name = `${label}-${i}.png`;
    await sharp(png).toFile(join(folder, name));
    files.push({ absPath: join(folder, name), relPath: name, root: folder });
  }
  images = await ImageIndex.open(join(dir, "index", "images"), new DigitImageEmbeddings());
  await images.indexFiles(files);
  const config = loadConfig({ env: {}, cwd: dir, overrides: { dataDir: dir, server: { port: 0, folders: [] } } });
  kb = await KnowledgeBase.open({ dir: join(dir, "index"), embeddings: new HashEmbeddings() });
  running = await startServer({ config, kb, images, log: () => {} });
});
afterAll(async () => {
  await running.close();
  await kb.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("image search over HTTP", () => {
  it("answers /api/search?modality=image with images and serves their thumbnails", async () => {
    const response = await fetch(
      `${running.url}/api/search?modality=image&k=3&q=${encodeURIComponent("a handwritten seven")}`,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      modality: string;
      results: Array<{ source: string; url: string; score: number }>;
    };
    expect(body.modality).toBe("image");
    expect(body.results).toHaveLength(3);
    for (const hit of body.results) expect(hit.source).toMatch(/^7-/);

    const picture = await fetch(`${running.url}${body.results[0]?.url}`);
    expect(picture.status).toBe(200);
    expect(picture.headers.get("content-type")).toBe("image/png");
    const bytes = Buffer.from(await picture.arrayBuffer());
    expect(bytes.equals(readFileSync(join(dir, "digits", body.results[0]?.source as string)))).toBe(true);

    const strict = (await (
      await fetch(`${running.url}/api/search?modality=image&minScore=0.99&q=${encodeURIComponent("tea and coffee")}`)
    ).json()) as { results: unknown[] };
    expect(strict.results).toEqual([]);
  });

  it("serves only indexed images, and refuses a bad modality", async () => {
    for (const source of ["../../etc/passwd", "nothing.png"]) {
      const response = await fetch(`${running.url}/api/images/file?source=${encodeURIComponent(source)}`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    }
    const bad = await fetch(`${running.url}/api/search?modality=video&q=x`);
    expect(bad.status).toBe(400);
  });

  it("gives an uploaded image its vector in the image index", async () => {
    const before = images.size;
    const { label, png } = await digitPng(100);
    const form = new FormData();
    form.append("files", new Blob([new Uint8Array(png)], { type: "image/png" }), `upload-${label}.png`);
    const response = await fetch(`${running.url}/api/documents?wait=true`, { method: "POST", body: form });
    expect(response.status).toBeLessThan(500);
    expect(images.size).toBe(before + 1);
    expect(images.document(`upload-${label}.png`)?.metadata.root).toBe(join(dir, "uploads"));
  });

  it("accepts image_url parts on /v1/chat/completions and /api/chat; refuses URLs it would have to fetch", async () => {
    const slide = readFileSync(join(process.cwd(), "examples", "knowledge", "attention-slide.png")).toString("base64");
    const content = [
      { type: "text", text: "What does this slide say?" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${slide}` } },
    ];
    const completion = await fetch(`${running.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: "genera-rag", messages: [{ role: "user", content }] }),
    });
    expect(completion.status).toBe(200);
    const chat = await fetch(`${running.url}/api/chat`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: content.slice(1) }),
    });
    expect(chat.status).toBe(200);
    const remote = await fetch(`${running.url}/api/chat`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: [{ type: "image_url", image_url: { url: "http://example.com/a.png" } }] }),
    });
    expect(remote.status).toBe(400);
    expect(((await remote.json()) as { error: { code: string } }).error.code).toBe("INVALID_INPUT");
  });
});

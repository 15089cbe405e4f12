import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { ToolMessage } from "@langchain/core/messages";
import { afterAll, describe, expect, it } from "vitest";
import { observationStep } from "../../src/agents/ToolCallingAgent.js";
import { createAgentTools } from "../../src/agents/tools/createAgentTools.js";
import { createGenerateImageTool, shippedImageGenerators } from "../../src/agents/tools/imageTool.js";
import type { ImageRequest } from "../../src/images/ImageGenerator.js";
import { decodePng, encodePng } from "../../src/images/png.js";

const outDir = mkdtempSync(join(tmpdir(), "genera-image-tool-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

async function call(t: ReturnType<typeof createGenerateImageTool>, args: Record<string, unknown>) {
  return (await t.invoke({ type: "tool_call", id: "call_1", name: "generate_image", args })) as ToolMessage;
}

describe("generate_image", () => {
  it("draws with the shipped VAE and answers the PNG's path", async () => {
    expect(shippedImageGenerators()).toContain("vae");
    const t = createGenerateImageTool({ models: shippedImageGenerators(), outDir });
    const message = await call(t, { n: 4, seed: 3 });
    const artifact = message.artifact as { path: string; model: string; count: number; mimeType: string };
    expect(artifact).toMatchObject({ model: "vae", count: 4, mimeType: "image/png", seed: 3 });
    expect(String(message.content)).toContain(artifact.path);
    const png = decodePng(readFileSync(artifact.path));
    expect(png.width).toBeGreaterThan(28);
    // The same seed draws the same images; a second call never overwrites the first file.
    const again = (await call(t, { n: 4, seed: 3 })).artifact as { path: string };
    expect(again.path).not.toBe(artifact.path);
    expect(readFileSync(again.path).equals(readFileSync(artifact.path))).toBe(true);
  });

  it("passes the model, digit and prompt to the generator and refuses models it was not given", async () => {
    const seen: Array<[string, ImageRequest]> = [];
    const t = createGenerateImageTool({
      models: ["vae", "text2image"],
      outDir,
      open: (model) => ({
        invoke: async (request: ImageRequest) => {
          seen.push([model, request]);
          const png = encodePng({ width: 1, height: 1, pixels: Uint8Array.of(128) });
          return { images: new Float32Array(784), count: 1, rows: 28, cols: 28, png, model };
        },
      }),
    });
    const message = await call(t, { model: "text2image", n: 1, prompt: "a seven", seed: 1 });
    expect(String(message.content)).toMatch(/Drew 1 image of "a seven" with text2image: .*\.png$/);
    expect(seen).toEqual([["text2image", { n: 1, seed: 1, prompt: "a seven" }]]);
    await expect(call(t, { model: "gan" })).rejects.toThrow();
    await expect(call(t, { n: 1000 })).rejects.toThrow();
  });

  it("answers a URL instead of its path when it serves a client (urlPrefix), and the agent step carries it", async () => {
    const t = createGenerateImageTool({
      models: ["vae"],
      outDir,
      urlPrefix: "/api/agent/images/",
      open: () => ({
        invoke: async () => {
          const png = encodePng({ width: 1, height: 1, pixels: Uint8Array.of(9) });
          return { images: new Float32Array(784), count: 2, rows: 28, cols: 28, png, model: "vae" };
        },
      }),
    });
    const message = await call(t, { n: 2, seed: 5 });
    const artifact = message.artifact as { path: string; url: string };
    expect(artifact.url).toMatch(/^\/api\/agent\/images\/vae-[\w-]+\.png$/);
    expect(artifact.url.split("/").at(-1)).toBe(basename(artifact.path));
    expect(String(message.content)).toBe(`Drew 2 images with vae: ${artifact.url}`);
    expect(observationStep(message)).toMatchObject({ image: { url: artifact.url, model: "vae", count: 2 } });
  });

  it("asks a text-to-image model for a digit in words", async () => {
    const seen: ImageRequest[] = [];
    const t = createGenerateImageTool({
      models: ["text2image"],
      outDir,
      open: () => ({
        loaded: { kind: "text2image" },
        invoke: async (request: ImageRequest) => {
          seen.push(request);
          const png = encodePng({ width: 1, height: 1, pixels: Uint8Array.of(0) });
          return { images: new Float32Array(784), count: 1, rows: 28, cols: 28, png, model: "text2image" };
        },
      }),
    });
    await call(t, { n: 1, digit: 7, seed: 2 });
    expect(seen).toEqual([{ n: 1, seed: 2, prompt: "a handwritten seven" }]);
  });

  it("is an agent tool only when image models are configured", () => {
    const names = (tools: { name: string }[]) => tools.map((x) => x.name);
    expect(names(createAgentTools())).not.toContain("generate_image");
    expect(names(createAgentTools({ images: { models: ["vae"], outDir } }))).toContain("generate_image");
    expect(() => createAgentTools({ names: ["generate_image"] })).toThrow(/image models are missing/);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DigitImageEmbeddings } from "../../src/multimodal/digits/DigitImageEmbeddings.js";
import { ImageIndex } from "../../src/multimodal/ImageIndex.js";
import { imageDescriber } from "../../src/multimodal/imageDescriber.js";
import { TransformersJsCaptioner } from "../../src/multimodal/TransformersJsCaptioner.js";
import { writeTinyCaptionModel } from "./fixtures/tinyCaptionModel.js";

let root: string;
let captioner: TransformersJsCaptioner;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "genera-caption-"));
  captioner = new TransformersJsCaptioner({ model: writeTinyCaptionModel(join(root, "captioner")).dir });
});
afterAll(async () => {
  await captioner.close();
  rmSync(root, { recursive: true, force: true });
});

const solid = (colour: string) =>
  sharp({ create: { width: 12, height: 12, channels: 3, background: colour } })
    .png()
    .toBuffer();

describe("captioning on a generated vision encoder-decoder model", () => {
  it("describes what the image shows through transformers.js's image-to-text pipeline", async () => {
    expect(await captioner.caption(await solid("#ffffff"))).toBe("a bright picture");
    const path = join(root, "night.png");
    writeFileSync(path, await solid("#050505"));
    expect(await captioner.caption(path)).toBe("a dark picture");
  });

  it("names a corrupt image, and fails fast offline when the model is missing", async () => {
    await expect(captioner.caption(Buffer.from("nope"), "nope.png")).rejects.toMatchObject({
      code: "FILE_UNREADABLE",
      details: { path: "nope.png" },
    });
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const missing = new TransformersJsCaptioner({
      model: "Xenova/vit-gpt2-image-captioning",
      localModelPath: join(root, "none"),
    });
    await expect(missing.caption(await solid("#ffffff"))).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
  });

  it("keeps the caption as the indexed image's text", async () => {
    const path = join(root, "white.png");
    writeFileSync(path, await solid("#ffffff"));
    const index = await ImageIndex.open(join(root, "images"), new DigitImageEmbeddings(), {
      describe: imageDescriber({ captioner, ocr: async () => "" }),
    });
    await index.indexFiles([{ absPath: path, relPath: "white.png", root }]);
    const [hit] = await index.search("a picture", 1);
    expect(hit).toMatchObject({ source: "white.png", caption: "a bright picture" });
    expect(hit?.document.pageContent).toBe("a bright picture");
  });
});

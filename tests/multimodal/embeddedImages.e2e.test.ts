import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import JSZip from "jszip";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRagChain } from "../../chains/createRagChain.js";
import { loadFile } from "../../loaders/loadFile.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { formatSourceLabel } from "../../src/llms/citedSource.js";
import { DigitImageEmbeddings } from "../../src/multimodal/digits/DigitImageEmbeddings.js";
import { ImageIndex } from "../../src/multimodal/ImageIndex.js";
import { imageDescriber, rememberingCaptioner } from "../../src/multimodal/imageDescriber.js";
import { TransformersJsCaptioner } from "../../src/multimodal/TransformersJsCaptioner.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { PdfWriter } from "../helpers/pdfWriter.js";
import { loadFailure, minimalDocx } from "../loaders/fixtures.js";
import { writeTinyCaptionModel } from "./fixtures/tinyCaptionModel.js";

const solid = (colour: string, size = 64) =>
  sharp({ create: { width: size, height: size, channels: 3, background: colour } })
    .png()
    .toBuffer();

/** A one-page report: text, then a dark picture and a bright one (and a 10-pixel icon, too small to read). */
async function reportPdf(pictures: Buffer[]): Promise<Uint8Array> {
  const pdf = new PdfWriter();
  const page = pdf.addPage(400, 300);
  page.text("The quarterly report covers revenue and hiring.", { x: 20, y: 270, size: 11 });
  let x = 20;
  for (const png of pictures) {
    page.image(png, { x, y: 40, width: 64, height: 64 });
    x += 80;
  }
  return pdf.save();
}

/** A DOCX with one paragraph and pictures in word/media (as Word stores them). */
async function docxWithMedia(pictures: Buffer[]): Promise<Buffer> {
  const zip = await new JSZip().loadAsync(await minimalDocx([{ text: "Field notes from the lighthouse." }]));
  for (const [i, png] of pictures.entries()) zip.file(`word/media/image${i + 1}.png`, png);
  return zip.generateAsync({ type: "nodebuffer", compression: "DEFLATE" });
}

let dir: string;
let captioner: TransformersJsCaptioner;
let images: ImageIndex;
let kb: KnowledgeBase;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "genera-embedded-images-"));
  mkdirSync(join(dir, "docs"));
  writeFileSync(
    join(dir, "docs", "report.pdf"),
    await reportPdf([await solid("#050505"), await solid("#fafafa"), await solid("#777777", 10)]),
  );
  writeFileSync(join(dir, "docs", "notes.docx"), await docxWithMedia([await solid("#fafafa")]));
  writeFileSync(join(dir, "docs", "moon.png"), await solid("#050505"));
  captioner = new TransformersJsCaptioner({ model: writeTinyCaptionModel(join(dir, "captioner")).dir });
  const shared = rememberingCaptioner(captioner);
  images = await ImageIndex.open(join(dir, "index", "images"), new DigitImageEmbeddings(), {
    describe: imageDescriber({ captioner: shared, ocr: async () => "" }),
    caption: (bytes, label) => shared.caption(bytes, label),
  });
  kb = await KnowledgeBase.open({
    dir: join(dir, "index"),
    embeddings: new HashEmbeddings(),
    image: images.loadOptions(),
  });
});
afterAll(async () => {
  await kb?.close();
  await images?.close();
  await captioner?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("images inside PDFs and DOCX, and captions in the text index", () => {
  it("indexes each picture of a PDF and a DOCX as a chunk of its caption, and gives it a vector", async () => {
    const summary = await kb.index([join(dir, "docs")]);
    expect(summary.failed).toBe(0);
    const chunks = await kb.documentChunks("report.pdf");
    const pictures = chunks.filter((c) => c.metadata.format === "image");
    // Two pictures; the 10-pixel icon is left out.
    expect(pictures.map((c) => [c.metadata.image, c.metadata.page, c.pageContent])).toEqual([
      [1, 1, "a dark picture"],
      [2, 1, "a bright picture"],
    ]);
    // No image bytes are stored with the text.
    for (const c of chunks) expect(c.metadata.embeddedImageBytes).toBeUndefined();
    expect((await kb.documentChunks("notes.docx")).map((c) => c.pageContent)).toEqual([
      "Field notes from the lighthouse.",
      "a bright picture",
    ]);

    expect(images.document("report.pdf", 1)?.metadata).toMatchObject({ caption: "a dark picture", page: 1 });
    expect(images.document("notes.docx", 1)?.metadata.caption).toBe("a bright picture");
    const file = images.file("report.pdf", 2) as string;
    expect(file.startsWith(join(dir, "index", "images", "media"))).toBe(true);
    const meta = await sharp(file).metadata();
    expect([meta.width, meta.height]).toEqual([64, 64]);
  });

  it("lets a text question find a picture and cite it with its source and number", async () => {
    const docs = await kb.asRetriever({ k: 3, mode: "keyword" }).invoke("which picture is dark?");
    expect(docs[0]?.metadata).toMatchObject({ format: "image" });
    const chain = createRagChain({ retriever: kb.asRetriever({ k: 4, mode: "keyword" }) });
    const { answer, sources } = await chain.invoke("Which picture is dark?");
    expect(answer).toContain("a dark picture");
    const cited = sources.find((s) => s.format === "image" && s.source === "report.pdf");
    expect(cited).toMatchObject({ source: "report.pdf", image: 1, page: 1, text: "a dark picture" });
    expect(formatSourceLabel(cited!)).toBe("report.pdf (p. 1 · image 1)");
    // A stand-alone image's caption is in the text index too.
    expect((await kb.documentChunks("moon.png"))[0]?.pageContent).toBe("a dark picture");
  });

  it("drops the pictures a re-indexed file no longer has, and their kept copies once saved", async () => {
    writeFileSync(join(dir, "docs", "report.pdf"), await reportPdf([await solid("#fafafa")]));
    await kb.index([join(dir, "docs")]);
    expect(images.document("report.pdf", 1)?.metadata.caption).toBe("a bright picture");
    expect(images.document("report.pdf", 2)).toBeUndefined();
    await images.save();
    const kept = readdirSync(join(dir, "index", "images", "media"));
    // One bright picture (shared by the PDF and the DOCX, named by content) is left.
    expect(kept).toHaveLength(1);
    expect(existsSync(images.file("notes.docx", 1) as string)).toBe(true);
  });

  it("applies the loader limits: a count of pictures per file, and the inflation budget of a DOCX", async () => {
    const pdf = join(dir, "many.pdf");
    writeFileSync(pdf, await reportPdf([await solid("#050505"), await solid("#fafafa")]));
    const seen: number[] = [];
    const docs = await loadFile(pdf, {
      limits: { maxEmbeddedImages: 1 },
      image: {
        embedded: true,
        onEmbeddedImages: async (_file, found) => {
          seen.push(...found.map((f) => f.image));
        },
      },
    });
    expect(seen).toEqual([1]);
    // Without caption or OCR text, a picture keeps its vector but has no text chunk.
    expect(docs.filter((d) => d.metadata.format === "image")).toEqual([]);

    const bomb = join(dir, "bomb.docx");
    const big = await new JSZip().loadAsync(await minimalDocx([{ text: "A small text part." }]));
    big.file("word/media/image1.png", Buffer.alloc(4 * 1024 * 1024));
    writeFileSync(bomb, await big.generateAsync({ type: "nodebuffer", compression: "DEFLATE" }));
    const failure = await loadFailure(
      loadFile(bomb, { limits: { maxInflatedBytes: 1024 * 1024 }, image: { embedded: true } }),
    );
    expect(failure.code).toBe("TOO_LARGE");
    // Without embedded images asked for, the pictures are never inflated.
    await expect(loadFile(bomb, { limits: { maxInflatedBytes: 1024 * 1024 } })).resolves.toBeDefined();
  });
});

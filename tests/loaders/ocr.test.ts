import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Document } from "@langchain/core/documents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectoryLoader } from "../../loaders/DirectoryLoader.js";
import { loadFile } from "../../loaders/loadFile.js";
import { scannedPdf, textPng } from "./fixtures.js";

const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
let dir: string;

// Rendering needs a system TTF (fonts-dejavu-core); without one there is no image to read.
describe.skipIf(!existsSync(FONT))("image OCR", () => {
  // One folder run reads every image once: OCR is the slow part of the loader tests.
  let loader: DirectoryLoader;
  let docs: Document[];
  const bySource = (source: string) => docs.filter((d) => d.metadata.source === source);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "genera-ocr-"));
    writeFileSync(join(dir, "sign.png"), (await textPng(["HELLO GENERA", "OCR WORKS 42"])) as Buffer);
    writeFileSync(join(dir, "photo.webp"), (await textPng(["WEBP IMAGE TEXT"], "webp")) as Buffer);
    writeFileSync(join(dir, "broken.jpg"), Buffer.from("this is not a JPEG at all"));
    writeFileSync(join(dir, "scan.pdf"), await scannedPdf((await textPng(["INVOICE NUMBER 7731"])) as Buffer));
    loader = new DirectoryLoader(dir);
    docs = await loader.load();
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads PNG lines with their confidences", () => {
    const [doc] = bySource("sign.png");
    expect(doc?.pageContent).toMatch(/HELLO\s*GENERA/);
    expect(doc?.pageContent).toMatch(/OCR\s*WORKS\s*42/);
    const ocr = doc?.metadata.ocr as { lines: Array<{ text: string; confidence: number }>; meanConfidence: number };
    expect(ocr.lines).toHaveLength(2);
    expect(ocr.meanConfidence).toBeGreaterThan(0.8);
    expect(doc?.metadata).toMatchObject({ format: "image", title: "sign" });
  });

  it("reads WebP and reports a corrupt image without stopping the run", () => {
    expect(bySource("photo.webp")[0]?.pageContent).toMatch(/WEBP\s*IMAGE\s*TEXT/);
    expect(loader.failures).toEqual([
      expect.objectContaining({ path: "broken.jpg", code: "FILE_UNREADABLE", reason: expect.stringMatching(/image/) }),
    ]);
  });

  it("reads a scanned PDF page (no text layer) by rendering it", async () => {
    const pages = bySource("scan.pdf");
    expect(pages.map((d) => d.metadata.page)).toEqual([1, 2]);
    expect(pages[0]?.metadata.ocr).toBeUndefined();
    expect(pages[1]?.pageContent).toMatch(/INVOICE\s*NUMBER\s*7731/);
    expect((pages[1]?.metadata.ocr as { meanConfidence: number } | undefined)?.meanConfidence).toBeGreaterThan(0.8);
    const off = await loadFile(join(dir, "scan.pdf"), { root: dir, pdf: { ocrScannedPages: false } });
    expect(off).toHaveLength(1);
  });
});

/**
 * Renders knowledge-src/word-embeddings.txt into knowledge/word-embeddings.pdf.
 *
 * The source uses a tiny Markdown subset ("# " title, "## " headings, "- " bullets,
 * blank-line-separated paragraphs) so that the text the eval set checks against is the
 * same text a PDF loader will extract. Standard Helvetica is used because it needs no
 * embedded font file; that limits the source to printable ASCII, which is checked up
 * front rather than failing halfway through a page. The PDF is written by the tests' small
 * writer (tests/helpers/pdfWriter.ts).
 *
 * Run: node --import ./scripts/ts.mjs examples/knowledge-src/build-pdf.ts
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type PdfPage, PdfWriter, type StandardFont, textWidth } from "../../tests/helpers/pdfWriter.js";

const here = dirname(fileURLToPath(import.meta.url));
const sourcePath = join(here, "word-embeddings.txt");
const outputPath = join(here, "..", "knowledge", "word-embeddings.pdf");

const PAGE_WIDTH = 595.28; // A4 in points
const PAGE_HEIGHT = 841.89;
const MARGIN = 64;
const BODY_SIZE = 11;
const LEADING = 1.42;
// Fixed dates keep the committed file byte-identical across rebuilds.
const FIXED_DATE = new Date("2024-03-01T12:00:00Z");

type Block = { kind: "title" | "heading" | "paragraph" | "bullet"; text: string };

function parseBlocks(source: string): Block[] {
  const blocks: Block[] = [];
  for (const raw of source.split(/\n\s*\n/)) {
    const lines = raw.split("\n").filter((l) => l.trim() !== "");
    if (lines.length === 0) continue;
    if (lines.every((l) => l.startsWith("- "))) {
      for (const l of lines) blocks.push({ kind: "bullet", text: l.slice(2).trim() });
    } else if (lines[0].startsWith("## ")) {
      blocks.push({ kind: "heading", text: lines.join(" ").slice(3).trim() });
    } else if (lines[0].startsWith("# ")) {
      blocks.push({ kind: "title", text: lines.join(" ").slice(2).trim() });
    } else {
      blocks.push({ kind: "paragraph", text: lines.join(" ").trim() });
    }
  }
  return blocks;
}

function wrap(text: string, font: StandardFont, size: number, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    const candidate = line === "" ? word : `${line} ${word}`;
    if (line !== "" && textWidth(candidate, font, size) > width) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

async function build(): Promise<void> {
  const source = readFileSync(sourcePath, "utf8");
  const drawable = (ch: string) => ch === "\n" || ch === "\r" || ch === "\t" || (ch >= " " && ch <= "~");
  const nonLatin = [...source].find((ch) => !drawable(ch));
  if (nonLatin !== undefined) {
    throw new Error(`${sourcePath}: character ${JSON.stringify(nonLatin)} is not drawable with standard Helvetica`);
  }
  const blocks = parseBlocks(source);
  const title = blocks.find((b) => b.kind === "title")?.text ?? "Untitled";

  const doc = new PdfWriter({
    title,
    author: "genera examples",
    subject: "A short history of word embeddings",
    keywords: ["word embeddings", "word2vec", "GloVe", "fastText"],
    producer: "genera build-pdf.ts",
    creator: "genera build-pdf.ts",
    creationDate: FIXED_DATE,
    modificationDate: FIXED_DATE,
  });

  const regular: StandardFont = "Helvetica";
  const bold: StandardFont = "Helvetica-Bold";
  const lineWidth = PAGE_WIDTH - 2 * MARGIN;

  let page: PdfPage = doc.addPage(PAGE_WIDTH, PAGE_HEIGHT);
  let y = PAGE_HEIGHT - MARGIN;

  const ensureRoom = (needed: number) => {
    if (y - needed < MARGIN + 20) {
      page = doc.addPage(PAGE_WIDTH, PAGE_HEIGHT);
      y = PAGE_HEIGHT - MARGIN;
    }
  };
  const drawLines = (lines: string[], font: StandardFont, size: number, x: number) => {
    for (const line of lines) {
      ensureRoom(size * LEADING);
      y -= size * LEADING;
      page.text(line, { x, y, size, font });
    }
  };

  for (const block of blocks) {
    switch (block.kind) {
      case "title":
        drawLines(wrap(block.text, bold, 18, lineWidth), bold, 18, MARGIN);
        y -= 10;
        break;
      case "heading":
        // Keep a heading together with at least two lines of what follows it.
        ensureRoom(14 * LEADING + 3 * BODY_SIZE * LEADING);
        y -= 8;
        drawLines(wrap(block.text, bold, 14, lineWidth), bold, 14, MARGIN);
        y -= 2;
        break;
      case "paragraph":
        drawLines(wrap(block.text, regular, BODY_SIZE, lineWidth), regular, BODY_SIZE, MARGIN);
        y -= BODY_SIZE * 0.6;
        break;
      case "bullet": {
        const lines = wrap(block.text, regular, BODY_SIZE, lineWidth - 14);
        ensureRoom(BODY_SIZE * LEADING);
        page.text("-", { x: MARGIN + 2, y: y - BODY_SIZE * LEADING, size: BODY_SIZE, font: regular });
        drawLines(lines, regular, BODY_SIZE, MARGIN + 14);
        y -= BODY_SIZE * 0.3;
        break;
      }
    }
  }

  const pages = doc.getPages();
  pages.forEach((p, i) => {
    const label = `Page ${i + 1} of ${pages.length}`;
    const w = textWidth(label, regular, 9);
    p.text(label, { x: (PAGE_WIDTH - w) / 2, y: MARGIN / 2, size: 9, font: regular, color: [0.3, 0.3, 0.3] });
  });

  const bytes = await doc.save();
  writeFileSync(outputPath, bytes);
  console.log(`wrote ${outputPath}: ${pages.length} pages, ${bytes.length} bytes`);
}

await build();

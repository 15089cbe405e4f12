import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32, deflateRawSync } from "node:zlib";
import JSZip from "jszip";
import { isGeneraError } from "../../src/errors.js";
import { PdfWriter, pdfFromObjects, pngSize } from "../helpers/pdfWriter.js";

/**
 * A PDF whose trailer has a Standard-security /Encrypt dictionary (RC4, revision 2)
 * with an owner/user password hash that the empty password does not open: a reader
 * must ask for a password. The writer cannot encrypt, so the objects are written by hand.
 */
export function encryptedPdf(): Buffer {
  const hex32 = (seed: number) =>
    Array.from({ length: 32 }, (_, i) => ((seed * 31 + i * 17) & 0xff).toString(16).padStart(2, "0")).join("");
  return pdfFromObjects(
    [
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
      `<< /Filter /Standard /V 1 /R 2 /O <${hex32(7)}> /U <${hex32(11)}> /P -4 >>`,
    ],
    `/Encrypt 4 0 R /ID [<${hex32(3).slice(0, 32)}> <${hex32(3).slice(0, 32)}>]`,
  );
}

export async function twoPagePdf(): Promise<Uint8Array> {
  const pdf = new PdfWriter({ title: "Quarterly Report" });
  const pages = [
    ["Page one talks about revenue growth.", "Revenue grew by twelve percent."],
    ["Page two covers the hiring plan.", "We will hire five engineers."],
  ];
  for (const lines of pages) {
    const page = pdf.addPage(400, 300);
    lines.forEach((line, i) => {
      page.text(line, { x: 30, y: 250 - i * 20, size: 12 });
    });
  }
  return pdf.save();
}

/** A PDF whose second page is only an image of text (a scan): no text layer to extract. */
export async function scannedPdf(png: Buffer): Promise<Uint8Array> {
  const pdf = new PdfWriter();
  pdf.addPage(600, 200).text("This first page has a real text layer.", { x: 30, y: 150, size: 14 });
  const size = pngSize(png);
  const height = (600 * size.height) / size.width;
  pdf.addPage(600, height).image(png, { x: 0, y: 0, width: 600, height });
  return pdf.save();
}

export async function minimalDocx(paragraphs: Array<{ style?: string; text: string }>): Promise<Buffer> {
  const zip = new JSZip();
  zip.file(
    "[Content_Types].xml",
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
  <Default Extension="xml" ContentType="application/xml"/>
  <Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>`,
  );
  zip.file(
    "_rels/.rels",
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
  <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>`,
  );
  const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const body = paragraphs
    .map(
      (p) =>
        `<w:p>${p.style ? `<w:pPr><w:pStyle w:val="${p.style}"/></w:pPr>` : ""}<w:r><w:t xml:space="preserve">${escapeXml(p.text)}</w:t></w:r></w:p>`,
    )
    .join("");
  zip.file(
    "word/document.xml",
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  );
  return zip.generateAsync({ type: "nodebuffer" });
}

/** Large black text on white, rendered with a system TTF (the canvas package ships no fonts). */
export async function textPng(lines: string[], format: "png" | "webp" = "png"): Promise<Buffer | undefined> {
  const { createCanvas, GlobalFonts } = await import("@napi-rs/canvas");
  const font = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  try {
    if (!GlobalFonts.has("DejaVuSans")) GlobalFonts.registerFromPath(font, "DejaVuSans");
  } catch {
    return undefined;
  }
  if (!GlobalFonts.has("DejaVuSans")) return undefined;
  const canvas = createCanvas(900, 90 * lines.length + 40);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#000000";
  ctx.font = "52px DejaVuSans";
  lines.forEach((line, i) => {
    ctx.fillText(line, 30, 80 + i * 90);
  });
  return format === "png" ? canvas.toBuffer("image/png") : canvas.toBuffer("image/webp");
}

export const MARKDOWN = `---
title: Attention Notes
tags: [ml, transformers]
date: 2024-03-01
source: should-not-override
---
# Attention

Attention lets a model look at every position.

## Scaled dot-product

Divide by the square root of the key dimension.

\`\`\`bash
# not a heading: a shell comment
echo attention
\`\`\`

### Masking

Future positions are masked with minus infinity.

# Training

Use AdamW with warm-up.
`;

export const HTML = `<!doctype html>
<html lang="en"><head><title>Genera Guide</title>
<meta name="description" content="How to use genera">
<style>body { color: red }</style>
<script>var secretScript = "do not index";</script></head>
<body>
<header><p>Site banner text</p></header>
<nav><a href="/">Home</a> <a href="/docs">Navigation link</a></nav>
<main>
  <h1>Installing genera</h1>
  <p>Run   the <b>installer</b> and
  wait.</p>
  <h2>Requirements</h2>
  <ul><li>Node 20</li><li>Two cores</li></ul>
  <pre><code class="language-bash">npm install genera
genera index ./docs</code></pre>
  <table><tr><th>Flag</th><th>Meaning</th></tr><tr><td>--watch</td><td>re-index on change</td></tr></table>
  <script>var inlineScript = 1;</script>
</main>
<aside>Sidebar advert</aside>
<footer>Copyright footer</footer>
</body></html>`;

/**
 * The tree the loader tests walk: every format but images (OCR has its own test file),
 * plus the things that must be skipped or reported.
 */
export async function writeTree(dir: string): Promise<void> {
  const w = (rel: string, data: string | Uint8Array) => {
    mkdirSync(join(dir, rel, ".."), { recursive: true });
    writeFileSync(join(dir, rel), data);
  };
  w("notes/attention.md", MARKDOWN);
  w("web/guide.html", HTML);
  w("reports/quarterly.pdf", await twoPagePdf());
  w("reports/locked.pdf", encryptedPdf());
  w("reports/broken.pdf", Buffer.from("%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R\ngarbage garbage\n%%EOF"));
  w(
    "docs/handbook.docx",
    await minimalDocx([
      { style: "Heading1", text: "Employee Handbook" },
      { text: "Welcome to the company." },
      { style: "Heading2", text: "Holidays" },
      { text: "Everyone gets twenty-five days of holiday." },
    ]),
  );
  w("data/people.csv", 'name,role,bio\nAda,engineer,"Wrote the first\nprogram"\nGrace,admiral,Invented the compiler\n');
  w(
    "data/events.jsonl",
    `${JSON.stringify({ id: 1, text: "The launch happened on Monday.", kind: "launch" })}\n\n${JSON.stringify({ id: 2, body: "The review was on Friday.", kind: "review", nested: { a: 1 } })}\n`,
  );
  w(
    "src/util.ts",
    "export function add(a: number, b: number): number {\n  return a + b;\n}\n\nexport class Counter {\n  n = 0;\n}\n",
  );
  w("text/utf16.txt", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("Grüße aus UTF-16 — café\n", "utf16le")]));
  w(
    "text/latin1.txt",
    Buffer.from("caf\xe9 cr\xe8me br\xfbl\xe9e \xe0 la fran\xe7aise, tr\xe8s \xe9l\xe9gant".repeat(4), "latin1"),
  );
  w("bin/blob.dat", Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919) % 256)));
  w(".hidden/secret.md", "# Secret\n\nHidden file.");
  w("notes/.draft.md", "# Draft\n\nHidden file.");
  w("node_modules/pkg/readme.md", "# Package\n\nInside node_modules.");
  w("empty.txt", "");
  mkdirSync(join(dir, "loop"), { recursive: true });
  w("loop/inner.txt", "Inside the loop folder.");
  symlinkSync(join(dir, "loop"), join(dir, "loop", "again"), "dir");
  symlinkSync(join(dir, "."), join(dir, "loop", "toRoot"), "dir");
}

/** A ZIP archive written by hand from entries already deflated (method 8), so a bomb costs one native deflate. */
function zipOf(
  entries: Array<{ name: string; data: Buffer; size: number; crc: number; declaredSize?: number }>,
): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, "utf8");
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(e.crc, 14);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.declaredSize ?? e.size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(e.crc, 16);
    central.writeUInt32LE(e.data.length, 20);
    central.writeUInt32LE(e.declaredSize ?? e.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, e.data);
    centrals.push(central, name);
    offset += 30 + name.length + e.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/**
 * A DOCX whose word/document.xml inflates to `inflatedBytes` of repeated paragraphs
 * (100 MiB → ~300 KB on disk). `lie` declares a tiny uncompressed size in the ZIP
 * directory, as a bomb built to slip past a check of declared sizes would.
 */
export async function zipBombDocx(inflatedBytes: number, lie = false): Promise<Buffer> {
  const small = new JSZip();
  await small.loadAsync(await minimalDocx([{ text: "placeholder" }]));
  const entries: Array<{ name: string; data: Buffer; size: number; crc: number; declaredSize?: number }> = [];
  for (const name of ["[Content_Types].xml", "_rels/.rels"]) {
    const raw = await (small.file(name) as JSZip.JSZipObject).async("nodebuffer");
    entries.push({ name, data: deflateRawSync(raw), size: raw.length, crc: crc32(raw) });
  }
  const head =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>';
  const xml = Buffer.alloc(inflatedBytes, "<w:p><w:r><w:t>bomb bomb bomb</w:t></w:r></w:p>");
  Buffer.from(head).copy(xml);
  entries.push({
    name: "word/document.xml",
    data: deflateRawSync(xml, { level: 9 }),
    size: xml.length,
    crc: crc32(xml),
    declaredSize: lie ? 1000 : undefined,
  });
  return zipOf(entries);
}

/** The code and reason of a load that must fail with a GeneraError. */
export async function loadFailure(promise: Promise<unknown>): Promise<{ code: string; reason: string }> {
  try {
    await promise;
  } catch (error) {
    if (!isGeneraError(error)) throw error;
    return { code: error.code, reason: String(error.details?.reason ?? error.message) };
  }
  throw new Error("expected the load to fail");
}

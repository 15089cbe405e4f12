import { deflateSync } from "node:zlib";

/**
 * A small PDF writer for test fixtures and the example PDF (examples/knowledge-src/build-pdf.ts):
 * pages of text in the standard Helvetica fonts and PNG pictures. It writes what a reader needs
 * (catalog, page tree, fonts, compressed content streams, image XObjects with a soft mask for
 * alpha, an info dictionary, a cross-reference table) and nothing more, so the tests need no PDF
 * library. Text is drawn with the standard 14 fonts, which a reader supplies itself: no font file is
 * embedded, so text is limited to printable ASCII (a subset of WinAnsi), and anything else throws.
 */

export type StandardFont = "Helvetica" | "Helvetica-Bold";

export interface PdfInfo {
  title?: string;
  author?: string;
  subject?: string;
  keywords?: string[];
  producer?: string;
  creator?: string;
  creationDate?: Date;
  modificationDate?: Date;
}

export interface TextOptions {
  x: number;
  y: number;
  size: number;
  font?: StandardFont;
  /** RGB, each 0..1 (default black). */
  color?: [number, number, number];
}

export interface ImageOptions {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Advance widths of ASCII 32..126 in 1/1000 em, from Adobe's AFM files for the two fonts. */
const WIDTHS: Record<StandardFont, number[]> = {
  Helvetica: [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
    556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
    260, 334, 584,
  ],
  "Helvetica-Bold": [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611,
    556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389,
    280, 389, 584,
  ],
};
/**
 * Kerning pairs among those characters from the same AFM files ("AT-120": 120 units closer), used
 * only to measure lines, as PDF libraries do: the example PDF keeps the line breaks it had when it
 * was written with pdf-lib.
 */
const KERNING_PAIRS: Record<StandardFont, string> = {
  Helvetica:
    "AC-30|AG-30|AO-30|AQ-30|AT-120|AU-50|AV-70|AW-50|AY-100|Au-30|Av-40|Aw-40|Ay-40|BU-10|B,-20|B.-20|C,-30|" +
    "C.-30|DA-40|DV-70|DW-40|DY-90|D,-70|D.-70|FA-80|Fa-50|F,-150|Fe-30|Fo-30|F.-150|Fr-45|JA-20|Ja-20|J,-30|" +
    "J.-30|Ju-20|KO-50|Ke-40|Ko-40|Ku-30|Ky-50|LT-110|LV-110|LW-70|LY-140|Ly-30|OA-20|OT-40|OV-50|OW-30|OX-60|" +
    "OY-70|O,-40|O.-40|PA-120|Pa-40|P,-180|Pe-50|Po-50|P.-180|QU-10|RO-20|RT-30|RU-40|RV-50|RW-30|RY-50|S,-20|" +
    "S.-20|TA-120|TO-40|Ta-120|T:-20|T,-120|Te-120|T--140|To-120|T.-120|Tr-120|T;-20|Tu-120|Tw-120|Ty-120|" +
    "UA-40|U,-40|U.-40|VA-80|VG-40|VO-40|Va-70|V:-40|V,-125|Ve-80|V--80|Vo-80|V.-125|V;-40|Vu-70|WA-50|WO-20|" +
    "Wa-40|W,-80|We-30|W--40|Wo-30|W.-80|Wu-30|Wy-20|YA-110|YO-85|Ya-140|Y:-60|Y,-140|Ye-140|Y--140|Yi-20|" +
    "Yo-140|Y.-140|Y;-60|Yu-110|av-20|aw-20|ay-30|bb-10|b,-40|bl-20|b.-40|bu-20|bv-20|by-20|c,-15|ck-20|: -50|" +
    "e,-15|e.-15|ev-30|ew-20|ex-30|ey-20|fa-30|f,-30|fe-30|fo-30|f.-30|gr-10|hy-30|ke-20|ko-20|mu-10|my-15|" +
    "nu-10|nv-20|ny-15|o,-40|o.-40|ov-15|ow-15|ox-30|oy-30|p,-35|p.-35|py-30|. -60|ra-10|r:30|r,-50|ri15|rk15|" +
    "rl15|rm25|rn25|rp30|r.-50|r;30|rt40|ru15|rv30|ry30|s,-15|s.-15|sw-30|; -50| T-50| V-50| W-40| Y-90|va-25|" +
    "v,-80|ve-25|vo-25|v.-80|wa-15|w,-60|we-10|wo-10|w.-60|xe-30|ya-20|y,-100|ye-20|yo-20|y.-100|ze-15|zo-15",
  "Helvetica-Bold":
    "AC-40|AG-50|AO-40|AQ-40|AT-90|AU-50|AV-80|AW-60|AY-110|Au-30|Av-40|Aw-30|Ay-30|BA-30|BU-10|DA-40|DV-40|" +
    "DW-40|DY-70|D,-30|D.-30|FA-80|Fa-20|F,-100|F.-100|JA-20|J,-20|J.-20|Ju-20|KO-30|Ke-15|Ko-35|Ku-30|Ky-40|" +
    "LT-90|LV-110|LW-80|LY-120|Ly-30|OA-50|OT-40|OV-50|OW-50|OX-50|OY-70|O,-40|O.-40|PA-100|Pa-30|P,-120|" +
    "Pe-30|Po-40|P.-120|QU-10|Q,20|Q.20|RO-20|RT-20|RU-20|RV-50|RW-40|RY-50|TA-90|TO-40|Ta-80|T:-40|T,-80|" +
    "Te-60|T--120|To-80|T.-80|Tr-80|T;-40|Tu-90|Tw-60|Ty-60|UA-50|U,-30|U.-30|VA-80|VG-50|VO-50|Va-60|V:-40|" +
    "V,-120|Ve-50|V--80|Vo-90|V.-120|V;-40|Vu-60|WA-60|WO-20|Wa-40|W:-10|W,-80|We-35|W--40|Wo-60|W.-80|W;-10|" +
    "Wu-45|Wy-20|YA-110|YO-70|Ya-90|Y:-50|Y,-100|Ye-80|Yo-100|Y.-100|Y;-50|Yu-100|ag-10|av-15|aw-15|ay-20|" +
    "bl-10|bu-20|bv-20|by-20|ch-10|ck-20|cl-20|cy-10|: -40|, -40|dd-10|dv-15|dw-15|dy-15|e,10|e.20|ev-15|" +
    "ew-15|ex-15|ey-15|f,-10|fe-10|fo-20|f.-10|ge10|gg-10|hy-20|ko-15|lw-15|ly-15|mu-20|my-30|nu-10|nv-40|" +
    "ny-20|ov-20|ow-15|ox-30|oy-20|py-15|. -40|rc-20|r,-60|rd-20|rg-15|r--20|ro-20|r.-60|rq-20|rs-15|rt20|" +
    "rv10|ry10|sw-15|; -40| T-100| V-80| W-80| Y-120|va-20|v,-80|vo-30|v.-80|w,-40|wo-20|w.-40|xe-10|ya-30|" +
    "y,-80|ye-10|yo-25|y.-80|ze10",
};
const KERNING = Object.fromEntries(
  Object.entries(KERNING_PAIRS).map(([font, pairs]) => [
    font,
    new Map(pairs.split("|").map((p) => [p.slice(0, 2), Number(p.slice(2))] as const)),
  ]),
) as Record<StandardFont, Map<string, number>>;
const FONT_NAMES: Record<StandardFont, string> = { Helvetica: "F1", "Helvetica-Bold": "F2" };

function checkAscii(text: string): void {
  const bad = [...text].find((ch) => ch < " " || ch > "~");
  if (bad !== undefined) throw new Error(`${JSON.stringify(bad)} cannot be drawn with a standard font here`);
}

/** The width of `text` at `size` points, with the font's kerning pairs (what line wrapping measures). */
export function textWidth(text: string, font: StandardFont, size: number): number {
  checkAscii(text);
  let units = 0;
  for (let i = 0; i < text.length; i++) {
    units += WIDTHS[font][text.charCodeAt(i) - 32] + (KERNING[font].get(text.slice(i, i + 2)) ?? 0);
  }
  return (units * size) / 1000;
}

/** Width and height of a PNG, from its IHDR chunk. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (view.toString("latin1", 12, 16) !== "IHDR") throw new Error("not a PNG");
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
}

const num = (x: number) => String(Number(x.toFixed(4)));
const literal = (text: string) => `(${text.replace(/[\\()]/g, "\\$&")})`;
const pdfDate = (d: Date) => `D:${d.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;

export class PdfPage {
  /** Content-stream operators, and the pictures they paint (by XObject name). */
  readonly ops: string[] = [];
  readonly images: Array<{ name: string; png: Uint8Array }> = [];

  constructor(
    readonly width: number,
    readonly height: number,
  ) {}

  text(text: string, { x, y, size, font = "Helvetica", color = [0, 0, 0] }: TextOptions): this {
    checkAscii(text);
    this.ops.push(
      `BT /${FONT_NAMES[font]} ${num(size)} Tf ${color.map(num).join(" ")} rg ${num(x)} ${num(y)} Td ${literal(text)} Tj ET`,
    );
    return this;
  }

  image(png: Uint8Array, { x, y, width, height }: ImageOptions): this {
    const name = `Im${this.images.length + 1}`;
    this.images.push({ name, png });
    this.ops.push(`q ${num(width)} 0 0 ${num(height)} ${num(x)} ${num(y)} cm /${name} Do Q`);
    return this;
  }
}

export class PdfWriter {
  private readonly pages: PdfPage[] = [];

  constructor(private readonly info: PdfInfo = {}) {}

  addPage(width: number, height: number): PdfPage {
    const page = new PdfPage(width, height);
    this.pages.push(page);
    return page;
  }

  getPages(): readonly PdfPage[] {
    return this.pages;
  }

  /** The file's bytes. Async because pictures are decoded with sharp (loaded only when there are any). */
  async save(): Promise<Buffer> {
    const objects: Array<string | Buffer> = [];
    const add = (body: string | Buffer) => objects.push(body) as number;
    const stream = (dict: string, data: Buffer) =>
      Buffer.concat([
        Buffer.from(`<< ${dict} /Length ${data.length} >>\nstream\n`, "latin1"),
        data,
        Buffer.from("\nendstream"),
      ]);

    const catalog = add("");
    const pageTree = add("");
    const fonts = (Object.keys(FONT_NAMES) as StandardFont[]).map(
      (font) =>
        `/${FONT_NAMES[font]} ${add(`<< /Type /Font /Subtype /Type1 /BaseFont /${font} /Encoding /WinAnsiEncoding >>`)} 0 R`,
    );
    const pageRefs: number[] = [];
    for (const page of this.pages) {
      const xobjects: string[] = [];
      for (const { name, png } of page.images) xobjects.push(`/${name} ${await this.addImage(png, add, stream)} 0 R`);
      const content = add(stream("/Filter /FlateDecode", deflateSync(Buffer.from(page.ops.join("\n"), "latin1"))));
      pageRefs.push(
        add(
          `<< /Type /Page /Parent ${pageTree} 0 R /MediaBox [0 0 ${num(page.width)} ${num(page.height)}] ` +
            `/Resources << /Font << ${fonts.join(" ")} >> /XObject << ${xobjects.join(" ")} >> >> /Contents ${content} 0 R >>`,
        ),
      );
    }
    objects[catalog - 1] = `<< /Type /Catalog /Pages ${pageTree} 0 R >>`;
    objects[pageTree - 1] =
      `<< /Type /Pages /Kids [${pageRefs.map((r) => `${r} 0 R`).join(" ")}] /Count ${pageRefs.length} >>`;
    const info = add(this.infoDictionary());
    return pdfFromObjects(objects, `/Info ${info} 0 R`);
  }

  private infoDictionary(): string {
    const { title, author, subject, keywords, producer, creator, creationDate, modificationDate } = this.info;
    const entries: Array<[string, string | undefined]> = [
      ["Title", title],
      ["Author", author],
      ["Subject", subject],
      ["Keywords", keywords?.join(" ")],
      ["Producer", producer],
      ["Creator", creator],
    ];
    const strings = entries.filter(([, v]) => v !== undefined).map(([k, v]) => `/${k} ${literal(v as string)}`);
    if (creationDate) strings.push(`/CreationDate (${pdfDate(creationDate)})`);
    if (modificationDate) strings.push(`/ModDate (${pdfDate(modificationDate)})`);
    return `<< ${strings.join(" ")} >>`;
  }

  /** One image XObject: the colour samples, and a soft mask when the PNG has alpha. */
  private async addImage(
    png: Uint8Array,
    add: (body: string | Buffer) => number,
    stream: (dict: string, data: Buffer) => Buffer,
  ): Promise<number> {
    const { default: sharp } = await import("sharp");
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const alpha = info.channels === 2 || info.channels === 4;
    const colours = alpha ? info.channels - 1 : info.channels;
    const pixels = info.width * info.height;
    const samples = Buffer.alloc(pixels * colours);
    const mask = alpha ? Buffer.alloc(pixels) : undefined;
    for (let p = 0; p < pixels; p++) {
      data.copy(samples, p * colours, p * info.channels, p * info.channels + colours);
      if (mask) mask[p] = data[p * info.channels + colours];
    }
    const image = (space: string, bytes: Buffer, extra = "") =>
      stream(
        `/Type /XObject /Subtype /Image /Width ${info.width} /Height ${info.height} /ColorSpace /${space} ` +
          `/BitsPerComponent 8 /Filter /FlateDecode${extra}`,
        deflateSync(bytes),
      );
    const smask = mask ? ` /SMask ${add(image("DeviceGray", mask))} 0 R` : "";
    return add(image(colours === 1 ? "DeviceGray" : "DeviceRGB", samples, smask));
  }
}

/** A PDF file from numbered object bodies (object i + 1 is `objects[i]`), with its xref table and trailer. */
export function pdfFromObjects(objects: Array<string | Buffer>, trailerExtra: string): Buffer {
  const parts: Buffer[] = [Buffer.from("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "latin1")];
  let length = parts[0].length;
  const offsets: number[] = [];
  const push = (part: Buffer) => {
    parts.push(part);
    length += part.length;
  };
  objects.forEach((body, i) => {
    offsets.push(length);
    push(Buffer.from(`${i + 1} 0 obj\n`, "latin1"));
    push(typeof body === "string" ? Buffer.from(body, "latin1") : body);
    push(Buffer.from("\nendobj\n", "latin1"));
  });
  let tail = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) tail += `${String(offset).padStart(10, "0")} 00000 n \n`;
  tail += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R ${trailerExtra} >>\nstartxref\n${length}\n%%EOF\n`;
  push(Buffer.from(tail, "latin1"));
  return Buffer.concat(parts);
}

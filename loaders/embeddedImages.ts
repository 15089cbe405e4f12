import { createHash } from "node:crypto";
import { Document } from "@langchain/core/documents";
import type { getDocumentProxy } from "unpdf";
import { type FileContext, fileMetadata, fileTitle } from "./FileContext.js";
import { imageSize } from "./imageSize.js";
import { type OcrResult, recognizeText } from "./loadImage.js";
import type { LoadLimits } from "./loadLimits.js";
import { inflateEntry, type ZipEntry } from "./zipEntries.js";

type PdfProxy = Awaited<ReturnType<typeof getDocumentProxy>>;

/** A picture found inside a PDF or DOCX, encoded as a file the browser and sharp can read. */
export interface EmbeddedImage {
  /** 1-based, in reading order within its file: citations name it "image 2". */
  image: number;
  page?: number;
  bytes: Uint8Array;
  /** ".png", ".jpg", ".gif" or ".webp". */
  ext: string;
}

/** An embedded image with the text read from it, as the image index receives it. */
export interface DescribedImage extends EmbeddedImage {
  contentHash: string;
  caption?: string;
  ocrText?: string;
}

export interface ImageLoadOptions {
  /** Read the images inside PDFs and DOCX too: each becomes a document of its caption and OCR text. */
  embedded?: boolean;
  /** Writes an image's caption (a captioning model); without it images are read by OCR only. */
  caption?: (bytes: Uint8Array, label: string) => Promise<string>;
  /**
   * Told each loaded PDF or DOCX and the images in it (none: they are gone), with their text:
   * the image index gives them vectors. Called before the file's chunks are stored.
   */
  onEmbeddedImages?: (file: FileContext, images: DescribedImage[]) => Promise<void>;
}

/** Icons, bullets and rules: pictures this small carry nothing worth indexing. */
const MIN_SIDE = 32;

const WEB_IMAGE = /\.(png|jpe?g|gif|webp)$/i;

/** The metadata key that carries an image's bytes from a loader to describeEmbeddedImages (never stored). */
const BYTES = "embeddedImageBytes";

/** A placeholder document for one embedded image; describeEmbeddedImages gives it its text. */
function imageDocument(ctx: FileContext, format: string, title: string, image: EmbeddedImage): Document {
  const metadata: Record<string, unknown> = {
    ...fileMetadata(ctx, format, title),
    format: "image",
    image: image.image,
    [BYTES]: { bytes: image.bytes, ext: image.ext },
  };
  if (image.page !== undefined) metadata.page = image.page;
  return new Document({ pageContent: "", metadata });
}

function bigEnough(width: number, height: number, limits: Pick<LoadLimits, "maxImagePixels">): boolean {
  return width >= MIN_SIDE && height >= MIN_SIDE && width * height <= limits.maxImagePixels;
}

/**
 * The images pdf.js paints on each page, as PNG documents (pdf.js hands over decoded pixels).
 * At most limits.maxEmbeddedImages; images over limits.maxImagePixels or under 32 pixels a side are left out.
 */
export async function pdfImageDocuments(
  pdf: PdfProxy,
  ctx: FileContext,
  title: string,
  limits: Pick<LoadLimits, "maxImagePixels" | "maxEmbeddedImages">,
): Promise<Document[]> {
  const [{ extractImages }, { default: sharp }] = await Promise.all([import("unpdf"), import("sharp")]);
  supplyTransferToFixedLength();
  const docs: Document[] = [];
  const seen = new Set<string>();
  for (let page = 1; page <= pdf.numPages && docs.length < limits.maxEmbeddedImages; page++) {
    for (const raw of await extractImages(pdf, page)) {
      if (docs.length >= limits.maxEmbeddedImages) break;
      if (!bigEnough(raw.width, raw.height, limits)) continue;
      // A logo repeated on every page is one picture.
      const digest = createHash("sha256").update(raw.data).digest("hex");
      if (seen.has(digest)) continue;
      seen.add(digest);
      const png = await sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: raw.channels } })
        .png()
        .toBuffer();
      docs.push(imageDocument(ctx, "pdf", title, { image: docs.length + 1, page, bytes: png, ext: ".png" }));
    }
  }
  return docs;
}

/**
 * pdf.js compiles a page's fonts into buffers with `ArrayBuffer.prototype.transferToFixedLength`,
 * which Node 20 lacks (it came in Node 21): without it, the operator list of every page with
 * text comes back empty, and so do its images. This supplies it, with the same effect.
 */
function supplyTransferToFixedLength(): void {
  const proto = ArrayBuffer.prototype as ArrayBuffer & { transferToFixedLength?: (length?: number) => ArrayBuffer };
  if (typeof proto.transferToFixedLength === "function") return;
  Object.defineProperty(proto, "transferToFixedLength", {
    configurable: true,
    writable: true,
    value(this: ArrayBuffer, length = this.byteLength): ArrayBuffer {
      // Transferring detaches the original, as the real method does.
      const moved = structuredClone(this, { transfer: [this] });
      if (length === moved.byteLength) return moved;
      const out = new ArrayBuffer(length);
      new Uint8Array(out).set(new Uint8Array(moved, 0, Math.min(length, moved.byteLength)));
      return out;
    },
  });
}

/**
 * The pictures in a DOCX (`word/media/*`, in their numbered order), inflated under the same
 * running budget as its text parts (`budget.left`, from limits.maxInflatedBytes): an image that
 * would pass it is a zip bomb and fails the file as the text parts do (RangeError from inflateEntry).
 */
export function docxImageDocuments(
  bytes: Uint8Array,
  entries: ZipEntry[],
  ctx: FileContext,
  budget: { left: number },
  limits: Pick<LoadLimits, "maxImagePixels" | "maxEmbeddedImages">,
): Document[] {
  const media = entries
    .filter((e) => e.name.startsWith("word/media/") && WEB_IMAGE.test(e.name))
    .sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
  const docs: Document[] = [];
  for (const entry of media) {
    if (docs.length >= limits.maxEmbeddedImages) break;
    if (entry.uncompressedSize > budget.left) throw new RangeError(`${entry.name} is larger than the budget`);
    const data = inflateEntry(bytes, entry, budget.left);
    budget.left -= data.length;
    const size = imageSize(data);
    if (size && !bigEnough(size.width, size.height, limits)) continue;
    const ext = (/\.[a-z]+$/i.exec(entry.name)?.[0] ?? ".png").toLowerCase().replace(".jpeg", ".jpg");
    docs.push(imageDocument(ctx, "docx", fileTitle(ctx), { image: docs.length + 1, bytes: data, ext }));
  }
  return docs;
}

/**
 * Gives each embedded-image document its text (caption, then the OCR lines) and hands the
 * images to `onEmbeddedImages`; their bytes leave the metadata. An image with no text at all
 * keeps its vector in the image index but has no document to search by text.
 */
export async function describeEmbeddedImages(
  docs: Document[],
  ctx: FileContext,
  options: ImageLoadOptions,
): Promise<Document[]> {
  const out: Document[] = [];
  const described: DescribedImage[] = [];
  for (const doc of docs) {
    const carried = doc.metadata[BYTES] as { bytes: Uint8Array; ext: string } | undefined;
    if (!carried) {
      out.push(doc);
      continue;
    }
    delete doc.metadata[BYTES];
    const label = `${ctx.absPath} image ${doc.metadata.image}`;
    const bytes = carried.bytes;
    let ocr: OcrResult | undefined;
    try {
      ocr = await recognizeText(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), label);
    } catch {
      // One unreadable picture should not cost its document's text.
    }
    const ocrText = ocr?.lines.map((l) => l.text).join("\n") ?? "";
    const caption = options.caption ? (await options.caption(bytes, label)).trim() : "";
    described.push({
      image: doc.metadata.image as number,
      ...(typeof doc.metadata.page === "number" ? { page: doc.metadata.page } : {}),
      bytes,
      ext: carried.ext,
      contentHash: createHash("sha256").update(bytes).digest("hex"),
      ...(caption ? { caption } : {}),
      ...(ocrText ? { ocrText } : {}),
    });
    const text = imageText(caption, ocrText);
    if (!text) continue;
    if (caption) doc.metadata.caption = caption;
    if (ocr?.lines.length) doc.metadata.ocr = ocr;
    out.push(new Document({ pageContent: text, metadata: doc.metadata }));
  }
  if (options.onEmbeddedImages && (described.length > 0 || mayHoldImages(ctx.absPath))) {
    await options.onEmbeddedImages(ctx, described);
  }
  return out;
}

/** An image's searchable text: its caption, then the text in it. */
export function imageText(caption: string | undefined, ocrText: string | undefined): string {
  return [caption?.trim(), ocrText?.trim()].filter(Boolean).join("\n");
}

/** Files whose images are read: one with none now still tells the image index (its old ones go). */
function mayHoldImages(path: string): boolean {
  return /\.(pdf|docx)$/i.test(path);
}

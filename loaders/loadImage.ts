import { open, readFile } from "node:fs/promises";
import { Document } from "@langchain/core/documents";
import { type ImageLoadOptions, imageText } from "./embeddedImages.js";
import { type FileContext, fileMetadata, fileTitle } from "./FileContext.js";
import { fileError } from "./fileError.js";
import { imageSize } from "./imageSize.js";
import { DEFAULT_LOAD_LIMITS, type LoadLimits } from "./loadLimits.js";

export const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".webp"];

export interface OcrLine {
  text: string;
  /** Mean per-character confidence from the recogniser, 0–1. */
  confidence: number;
}

export interface OcrResult {
  lines: OcrLine[];
  meanConfidence: number;
}

interface OcrEngine {
  /** A path or encoded image bytes: both go straight to sharp. */
  detect(image: string | Buffer): Promise<Array<{ text: string; mean: number }>>;
}

let engine: Promise<OcrEngine> | undefined;

/**
 * The PaddleOCR models take about a second to load, so one engine serves the whole
 * process. It is imported lazily: a run without images never loads onnxruntime.
 * A failed load is forgotten so a later call can try again.
 */
export function getOcrEngine(): Promise<OcrEngine> {
  engine ??= (async () => {
    const { default: Ocr } = await import("@gutenye/ocr-node");
    return (await Ocr.create()) as OcrEngine;
  })().catch((error: unknown) => {
    engine = undefined;
    throw error;
  });
  return engine;
}

/**
 * Recognises the text lines of an image: a file path or encoded bytes (PNG, JPEG,
 * WebP; decoded by sharp). `label` names the image in errors (defaults to the path).
 */
export async function recognizeText(image: string | Buffer, label = String(image)): Promise<OcrResult> {
  const absPath = label;
  let ocr: OcrEngine;
  try {
    ocr = await getOcrEngine();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw fileError("FILE_UNREADABLE", absPath, `OCR engine unavailable (${message})`, error);
  }
  let raw: Array<{ text: string; mean: number }>;
  try {
    raw = await ocr.detect(image);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw fileError("FILE_UNREADABLE", absPath, `corrupt or unreadable image (${message})`, error);
  }
  const lines = raw
    .map((line) => ({ text: line.text.trim(), confidence: line.mean }))
    .filter((line) => line.text.length > 0);
  const meanConfidence = lines.length ? lines.reduce((s, l) => s + l.confidence, 0) / lines.length : 0;
  return { lines, meanConfidence };
}

/** The text OCR reads in an image (path or bytes), one line per recognised line; "" when there is none. */
export async function recognizedText(image: string | Uint8Array, label = String(image)): Promise<string> {
  const input = typeof image === "string" ? image : Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  return (await recognizeText(input, label)).lines.map((line) => line.text).join("\n");
}

/**
 * An image becomes one document of its caption (with `images.caption`, a captioning model)
 * and its recognised lines, so a text question finds it; an image with neither yields none.
 * Its size is read from the header first: one over `maxImagePixels` fails as TOO_LARGE
 * before the decoder allocates it.
 */
export async function loadImage(
  ctx: FileContext,
  bytes?: Uint8Array,
  limits: Pick<LoadLimits, "maxImagePixels"> = DEFAULT_LOAD_LIMITS,
  images: Pick<ImageLoadOptions, "caption"> = {},
): Promise<Document[]> {
  const size = imageSize(bytes ?? (await readHead(ctx.absPath)));
  if (size && size.width * size.height > limits.maxImagePixels) {
    throw fileError(
      "TOO_LARGE",
      ctx.absPath,
      `the image is ${size.width} × ${size.height} pixels; the limit is ${limits.maxImagePixels} pixels`,
    );
  }
  const image = bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : ctx.absPath;
  const ocr = await recognizeText(image, ctx.absPath);
  const caption = images.caption
    ? (await images.caption(bytes ?? (await readFile(ctx.absPath)), ctx.absPath)).trim()
    : "";
  const text = imageText(caption, ocr.lines.map((l) => l.text).join("\n"));
  if (!text) return [];
  const metadata: Record<string, unknown> = { ...fileMetadata(ctx, "image", fileTitle(ctx)), ocr };
  if (caption) metadata.caption = caption;
  return [new Document({ pageContent: text, metadata })];
}

/** Enough of a file for its image header (JPEG metadata segments can push the frame header back). */
async function readHead(path: string): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(256 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

import { fileError } from "./fileError.js";

/**
 * What one file may cost to load. The upload and file-size limits bound only the bytes
 * on disk; a 1 MB DOCX or gzip file can inflate to gigabytes and an image header can
 * promise billions of pixels, so each loader also checks what it produces.
 */
export interface LoadLimits {
  /** Bytes a compressed file (gzip, the XML parts of a DOCX) may inflate to. Default 64 MiB. */
  maxInflatedBytes: number;
  /** Characters of text one file may produce. Default 64 Mi. */
  maxTextChars: number;
  /** Documents (pages, rows, records) one file may produce. Default 100,000. */
  maxDocuments: number;
  /** Pixels an image may have to be read by OCR (it is decoded whole). Default 50 million. */
  maxImagePixels: number;
  /**
   * Images read from inside one PDF or DOCX (when embedded images are read at all); later ones
   * are left out, as is any image over maxImagePixels. Their bytes count against maxInflatedBytes. Default 32.
   */
  maxEmbeddedImages: number;
  /**
   * Seconds of audio one file may decode to (decoded audio is held whole: an hour at 48 kHz is
   * ~700 MB, and compressed audio inflates far past its size). Default 3,600.
   */
  maxAudioSeconds: number;
  /** Heap, in MiB, of the thread that parses DOCX, PDF, CSV, JSON and compressed files. Default 1024. */
  parseMemoryMb: number;
  /** Milliseconds one file may take in that thread before it is stopped. Default 120,000. */
  parseTimeoutMs: number;
}

export const DEFAULT_LOAD_LIMITS: Readonly<LoadLimits> = {
  maxInflatedBytes: 64 * 1024 * 1024,
  maxTextChars: 64 * 1024 * 1024,
  maxDocuments: 100_000,
  maxImagePixels: 50_000_000,
  maxEmbeddedImages: 32,
  maxAudioSeconds: 3600,
  parseMemoryMb: 1024,
  parseTimeoutMs: 120_000,
};

export function resolveLimits(limits: Partial<LoadLimits> | undefined): LoadLimits {
  return { ...DEFAULT_LOAD_LIMITS, ...limits };
}

/** "64 MiB", "1.5 GiB": sizes in messages people read. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${Number(value.toFixed(1))} ${units[unit]}`;
}

/** Fails with TOO_LARGE when a file's documents hold more text or more documents than the limits allow. */
export function checkOutput(docs: Array<{ pageContent: string }>, path: string, limits: LoadLimits): void {
  if (docs.length > limits.maxDocuments) {
    throw fileError(
      "TOO_LARGE",
      path,
      `produces ${docs.length} documents (pages, rows or records); the limit is ${limits.maxDocuments}`,
    );
  }
  let chars = 0;
  for (const doc of docs) chars += doc.pageContent.length;
  if (chars > limits.maxTextChars) {
    throw fileError("TOO_LARGE", path, `produces ${chars} characters of text; the limit is ${limits.maxTextChars}`);
  }
}

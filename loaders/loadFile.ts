import { readFile, stat } from "node:fs/promises";
import { basename, extname, relative, resolve, sep } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Document } from "@langchain/core/documents";
import { isBinaryFile } from "isbinaryfile";
import { describeEmbeddedImages, type ImageLoadOptions } from "./embeddedImages.js";
import type { FileContext } from "./FileContext.js";
import { asFileError, fileError } from "./fileError.js";
import { AUDIO_EXTENSIONS, type AudioLoadOptions, loadAudio } from "./loadAudio.js";
import { CODE_LANGUAGES, languageForPath, loadCode } from "./loadCode.js";
import { CSV_EXTENSIONS, type CsvLoadOptions, loadCsv } from "./loadCsv.js";
import { loadDocx } from "./loadDocx.js";
import { HTML_EXTENSIONS, loadHtml } from "./loadHtml.js";
import { IMAGE_EXTENSIONS, loadImage } from "./loadImage.js";
import { JSON_EXTENSIONS, JSONL_EXTENSIONS, type JsonLoadOptions, loadJson, loadJsonl } from "./loadJson.js";
import { checkOutput, formatBytes, type LoadLimits, resolveLimits } from "./loadLimits.js";
import { loadMarkdown, MARKDOWN_EXTENSIONS } from "./loadMarkdown.js";
import { loadPdf, type PdfLoadOptions } from "./loadPdf.js";
import { loadText, TEXT_EXTENSIONS } from "./loadText.js";
import { parserThread } from "./ParserThread.js";

/** Matches the `ingest.maxFileBytes` default in the config. */
export const DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024;

export interface LoadFileOptions {
  /** Path relative to the indexed root (becomes `metadata.source`); default: relative to `root`, else the file name. */
  relPath?: string;
  /** The indexed root folder; default: the file's folder. */
  root?: string;
  /** Larger files fail with TOO_LARGE before being read. Default 50 MiB. */
  maxFileBytes?: number;
  /** The file's content when the caller has read it already (e.g. to hash it): saves a second read. */
  bytes?: Uint8Array;
  json?: JsonLoadOptions;
  csv?: CsvLoadOptions;
  pdf?: PdfLoadOptions;
  /** The speech model for audio files (WAV, MP3, FLAC, OGG); without one they are unsupported. */
  audio?: AudioLoadOptions;
  /** Captions for images, and the images inside PDFs and DOCX (see ImageLoadOptions). */
  image?: ImageLoadOptions;
  /**
   * The parser thread passes false: it returns embedded images as they were found, and the
   * caller's thread (which holds the OCR engine and the captioning model) reads them.
   */
  describeImages?: boolean;
  /** What one file may cost (inflated bytes, text, documents, pixels, parser memory and time). */
  limits?: Partial<LoadLimits>;
  /**
   * Parse DOCX, PDF, CSV, JSON and gzip files in the parser thread (default true), so a
   * hostile file can exhaust only that thread. The parser thread itself passes false.
   */
  isolate?: boolean;
}

export type FileFormat =
  | "text"
  | "markdown"
  | "html"
  | "pdf"
  | "docx"
  | "csv"
  | "json"
  | "jsonl"
  | "code"
  | "image"
  | "audio"
  | "gzip";

/** Extensions with a dedicated loader (lower case, with the dot). Other text files load as plain text. */
export const supportedExtensions: readonly string[] = [
  ...TEXT_EXTENSIONS,
  ...MARKDOWN_EXTENSIONS,
  ...HTML_EXTENSIONS,
  ".pdf",
  ".docx",
  ...CSV_EXTENSIONS,
  ...JSON_EXTENSIONS,
  ...JSONL_EXTENSIONS,
  ...Object.keys(CODE_LANGUAGES),
  ...IMAGE_EXTENSIONS,
  ".gz",
  ...AUDIO_EXTENSIONS,
];

/** Extensions whose files are binary by nature, so a binary sniff must not reject them. */
export const BINARY_FORMAT_EXTENSIONS: readonly string[] = [
  ".pdf",
  ".docx",
  ...IMAGE_EXTENSIONS,
  ".gz",
  ...AUDIO_EXTENSIONS,
];

/** The format a path would be loaded as, or undefined when only a content sniff can tell. */
export function formatForPath(path: string): FileFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (MARKDOWN_EXTENSIONS.includes(ext)) return "markdown";
  if (HTML_EXTENSIONS.includes(ext)) return "html";
  if (ext === ".pdf") return "pdf";
  if (ext === ".docx") return "docx";
  if (ext === ".gz") return "gzip";
  if (CSV_EXTENSIONS.includes(ext)) return "csv";
  if (JSON_EXTENSIONS.includes(ext)) return "json";
  if (JSONL_EXTENSIONS.includes(ext)) return "jsonl";
  if (IMAGE_EXTENSIONS.includes(ext)) return "image";
  if (AUDIO_EXTENSIONS.includes(ext)) return "audio";
  if (TEXT_EXTENSIONS.includes(ext)) return "text";
  if (languageForPath(path)) return "code";
  return undefined;
}

/**
 * Loads one file into LangChain Documents, choosing the loader by extension. Every
 * document carries `source` (relative to the root), `title` and `format`, plus
 * `page` / `line` / `language` / `ocr` where the format has them. An empty file gives [].
 *
 * A `.gz` file is inflated (at most limits.maxInflatedBytes) and loaded by its inner name
 * ("notes.md.gz" as Markdown; "changelog.gz" as text), keeping its own path as `source`.
 *
 * Throws GeneraError FILE_UNREADABLE (missing, corrupt, encrypted, unknown encoding),
 * TOO_LARGE (over maxFileBytes, or over a LoadLimits bound: a zip or gzip bomb, a giant
 * image, a parse that needs too much memory or time) or UNSUPPORTED_FILE (binary of an
 * unknown kind), with `details: { path, reason }`.
 */
export async function loadFile(absPath: string, options: LoadFileOptions = {}): Promise<Document[]> {
  const path = resolve(absPath);
  const root = options.root ? resolve(options.root) : resolve(path, "..");
  const relPath = options.relPath ?? toPosix(relativeOrName(root, path));
  const ctx: FileContext = { absPath: path, relPath, root };
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;

  let size: number;
  if (options.bytes) {
    size = options.bytes.byteLength;
  } else {
    try {
      const info = await stat(path);
      if (!info.isFile()) throw fileError("FILE_UNREADABLE", path, "not a regular file");
      size = info.size;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") throw fileError("FILE_UNREADABLE", path, "file not found", error);
      if (code === "EACCES" || code === "EPERM") throw fileError("FILE_UNREADABLE", path, "permission denied", error);
      throw asFileError(error, path, "cannot stat");
    }
  }
  if (size > maxFileBytes) {
    throw fileError("TOO_LARGE", path, `too large (${size} bytes; the limit is ${maxFileBytes})`);
  }

  const limits = resolveLimits(options.limits);
  const format = formatForPath(path);
  if (format && options.isolate !== false && ISOLATED_FORMATS.has(format)) {
    const bytes = options.bytes ?? (await readBytes(path));
    const docs = await parserThread(limits.parseMemoryMb).parse(path, bytes, { ...options, relPath, root }, limits);
    return described(docs, ctx, options);
  }
  try {
    // OCR reads the file itself (sharp decodes it), so images skip the read here.
    const docs =
      format === "image"
        ? await loadImage(ctx, options.bytes, limits, options.image)
        : await parseBytes(options.bytes ?? (await readBytes(path)), ctx, path, options, limits);
    checkOutput(docs, path, limits);
    return await described(docs, ctx, options);
  } catch (error) {
    throw asFileError(error, path, "cannot parse");
  }
}

/** Embedded images get their text here, in the caller's thread (never in the parser thread). */
function described(docs: Document[], ctx: FileContext, options: LoadFileOptions): Promise<Document[]> | Document[] {
  if (!options.image?.embedded || options.describeImages === false) return docs;
  return describeEmbeddedImages(docs, ctx, options.image);
}

/**
 * Formats whose cost is not bounded by their size on disk (inflation, object trees,
 * pdf.js) are parsed in the parser thread, under a heap and a time limit.
 */
const ISOLATED_FORMATS = new Set<FileFormat>(["pdf", "docx", "csv", "json", "jsonl", "gzip"]);

/**
 * One file's bytes through the loader for `formatPath`'s format (the file's own path, or
 * for a gzip file its name without ".gz").
 */
async function parseBytes(
  bytes: Uint8Array,
  ctx: FileContext,
  formatPath: string,
  options: LoadFileOptions,
  limits: LoadLimits,
): Promise<Document[]> {
  const format = formatForPath(formatPath);
  switch (format) {
    case "markdown":
      return loadMarkdown(bytes, ctx);
    case "html":
      return loadHtml(bytes, ctx);
    case "pdf":
      return await loadPdf(bytes, ctx, options.pdf, options.image?.embedded ? limits : undefined);
    case "docx":
      return await loadDocx(bytes, ctx, limits, options.image?.embedded === true);
    case "csv":
      return loadCsv(bytes, ctx, options.csv);
    case "json":
      return loadJson(bytes, ctx, options.json);
    case "jsonl":
      return loadJsonl(bytes, ctx, options.json);
    case "code":
      return loadCode(bytes, ctx, languageForPath(formatPath) as string);
    case "text":
      return loadText(bytes, ctx);
    case "image":
      return loadImage(ctx, bytes, limits, options.image);
    case "audio":
      return loadAudio(ctx, bytes, { ...options.audio, maxSeconds: limits.maxAudioSeconds });
    case "gzip": {
      const inner = formatPath.slice(0, -extname(formatPath).length);
      if (formatForPath(inner) === "gzip" || /\.tar$/i.test(inner)) {
        throw fileError("UNSUPPORTED_FILE", ctx.absPath, "a compressed archive or doubly compressed file");
      }
      return parseBytes(gunzip(bytes, ctx.absPath, limits.maxInflatedBytes), ctx, inner, options, limits);
    }
    default:
      if (bytes.length && (await isBinaryFile(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)))) {
        const ext = extname(formatPath);
        throw fileError(
          "UNSUPPORTED_FILE",
          ctx.absPath,
          `unsupported file type (${ext || "no extension"}, binary content)`,
        );
      }
      return loadText(bytes, ctx);
  }
}

/** Inflates gzip data, stopping once it passes `maxBytes` (the true size, whatever the trailer claims). */
function gunzip(bytes: Uint8Array, path: string, maxBytes: number): Buffer {
  if (bytes.length < 18 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw fileError("FILE_UNREADABLE", path, "not gzip data (the .gz file does not start with the gzip signature)");
  }
  try {
    return gunzipSync(bytes, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw fileError("TOO_LARGE", path, `it inflates to more than ${formatBytes(maxBytes)}`, error);
    }
    throw fileError("FILE_UNREADABLE", path, `corrupt gzip data (${(error as Error).message})`, error);
  }
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM") throw fileError("FILE_UNREADABLE", path, "permission denied", error);
    throw asFileError(error, path, "read failed");
  }
}

function relativeOrName(root: string, path: string): string {
  const rel = relative(root, path);
  return rel && !rel.startsWith("..") && !rel.startsWith(sep) ? rel : basename(path);
}

export function toPosix(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}

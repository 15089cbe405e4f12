import { readFile, stat } from "node:fs/promises";
import { basename, extname, relative, resolve, sep } from "node:path";
import type { Document } from "@langchain/core/documents";
import { isBinaryFile } from "isbinaryfile";
import type { FileContext } from "./FileContext.js";
import { asFileError, fileError } from "./fileError.js";
import { CODE_LANGUAGES, languageForPath, loadCode } from "./loadCode.js";
import { CSV_EXTENSIONS, type CsvLoadOptions, loadCsv } from "./loadCsv.js";
import { loadDocx } from "./loadDocx.js";
import { HTML_EXTENSIONS, loadHtml } from "./loadHtml.js";
import { IMAGE_EXTENSIONS, loadImage } from "./loadImage.js";
import { JSON_EXTENSIONS, JSONL_EXTENSIONS, type JsonLoadOptions, loadJson, loadJsonl } from "./loadJson.js";
import { loadMarkdown, MARKDOWN_EXTENSIONS } from "./loadMarkdown.js";
import { loadPdf, type PdfLoadOptions } from "./loadPdf.js";
import { loadText, TEXT_EXTENSIONS } from "./loadText.js";

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
}

export type FileFormat = "text" | "markdown" | "html" | "pdf" | "docx" | "csv" | "json" | "jsonl" | "code" | "image";

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
];

/** Extensions whose files are binary by nature, so a binary sniff must not reject them. */
export const BINARY_FORMAT_EXTENSIONS: readonly string[] = [".pdf", ".docx", ...IMAGE_EXTENSIONS];

/** The format a path would be loaded as, or undefined when only a content sniff can tell. */
export function formatForPath(path: string): FileFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (MARKDOWN_EXTENSIONS.includes(ext)) return "markdown";
  if (HTML_EXTENSIONS.includes(ext)) return "html";
  if (ext === ".pdf") return "pdf";
  if (ext === ".docx") return "docx";
  if (CSV_EXTENSIONS.includes(ext)) return "csv";
  if (JSON_EXTENSIONS.includes(ext)) return "json";
  if (JSONL_EXTENSIONS.includes(ext)) return "jsonl";
  if (IMAGE_EXTENSIONS.includes(ext)) return "image";
  if (TEXT_EXTENSIONS.includes(ext)) return "text";
  if (languageForPath(path)) return "code";
  return undefined;
}

/**
 * Loads one file into LangChain Documents, choosing the loader by extension. Every
 * document carries `source` (relative to the root), `title` and `format`, plus
 * `page` / `line` / `language` / `ocr` where the format has them. An empty file gives [].
 *
 * Throws GeneraError FILE_UNREADABLE (missing, corrupt, encrypted, unknown encoding),
 * TOO_LARGE (over maxFileBytes) or UNSUPPORTED_FILE (binary of an unknown kind),
 * with `details: { path, reason }`.
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

  const format = formatForPath(path);
  try {
    // OCR reads the file itself (sharp decodes it), so images skip the read here.
    if (format === "image") return await loadImage(ctx, options.bytes);
    const bytes = options.bytes ?? (await readBytes(path));
    switch (format) {
      case "markdown":
        return loadMarkdown(bytes, ctx);
      case "html":
        return loadHtml(bytes, ctx);
      case "pdf":
        return await loadPdf(bytes, ctx, options.pdf);
      case "docx":
        return await loadDocx(bytes, ctx);
      case "csv":
        return loadCsv(bytes, ctx, options.csv);
      case "json":
        return loadJson(bytes, ctx, options.json);
      case "jsonl":
        return loadJsonl(bytes, ctx, options.json);
      case "code":
        return loadCode(bytes, ctx, languageForPath(path) as string);
      case "text":
        return loadText(bytes, ctx);
      default:
        if (bytes.length && (await isBinaryFile(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)))) {
          const ext = extname(path);
          throw fileError("UNSUPPORTED_FILE", path, `unsupported file type (${ext || "no extension"}, binary content)`);
        }
        return loadText(bytes, ctx);
    }
  } catch (error) {
    throw asFileError(error, path, "cannot parse");
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

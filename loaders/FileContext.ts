import { basename, extname } from "node:path";

/** What a format loader knows about the file it reads. */
export interface FileContext {
  /** Absolute path, used for reading and in error messages. */
  absPath: string;
  /** Path relative to the indexed root, POSIX slashes; becomes `metadata.source`. */
  relPath: string;
  /** The root folder the file was found under. */
  root: string;
}

/** The file name without its extension: the title of last resort. */
export function fileTitle(ctx: FileContext): string {
  const name = basename(ctx.relPath || ctx.absPath);
  const ext = extname(name);
  return ext && ext !== name ? name.slice(0, -ext.length) : name;
}

/** Metadata every document from this file carries. */
export function fileMetadata(ctx: FileContext, format: string, title: string): Record<string, unknown> {
  return { source: ctx.relPath, title, format };
}

/**
 * Front-matter / JSON fields may not overwrite what genera itself relies on
 * (a front-matter `source:` would otherwise redirect citations).
 */
export const RESERVED_METADATA_KEYS = new Set([
  "source",
  "title",
  "format",
  "page",
  "totalPages",
  "headings",
  "line",
  "loc",
  "startChar",
  "endChar",
  "chunkIndex",
  "language",
  "encoding",
  "ocr",
  "row",
  "fields",
  "index",
]);

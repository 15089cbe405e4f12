import { Document } from "@langchain/core/documents";
import { decodeText } from "./decodeText.js";
import { type FileContext, fileMetadata, fileTitle } from "./FileContext.js";
import { underlinedHeadings } from "./markdownStructure.js";

/** Extensions read as plain prose. */
export const TEXT_EXTENSIONS = [".txt", ".text", ".rst", ".log", ".adoc", ".asciidoc", ".org", ".me", ".nfo"];

/**
 * Plain text: one document holding the whole file. `line: 1` tells the splitter that
 * the text's lines are the file's lines, so chunks can carry their own line numbers. The title
 * is the first top-level underlined heading (reStructuredText's document title), else the file's.
 */
export function loadText(bytes: Uint8Array, ctx: FileContext): Document[] {
  const { text, encoding } = decodeText(bytes, ctx.absPath);
  if (!text.trim()) return [];
  const title = underlinedHeadings(text).find((h) => h.level === 1)?.text ?? fileTitle(ctx);
  return [new Document({ pageContent: text, metadata: { ...fileMetadata(ctx, "text", title), encoding, line: 1 } })];
}

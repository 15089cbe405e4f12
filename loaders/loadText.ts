import { Document } from "@langchain/core/documents";
import { decodeText } from "./decodeText.js";
import { type FileContext, fileMetadata, fileTitle } from "./FileContext.js";

/** Extensions read as plain prose. */
export const TEXT_EXTENSIONS = [".txt", ".text", ".rst", ".log", ".adoc", ".asciidoc", ".org", ".me", ".nfo"];

/**
 * Plain text: one document holding the whole file. `line: 1` tells the splitter that
 * the text's lines are the file's lines, so chunks can carry their own line numbers.
 */
export function loadText(bytes: Uint8Array, ctx: FileContext): Document[] {
  const { text, encoding } = decodeText(bytes, ctx.absPath);
  if (!text.trim()) return [];
  return [
    new Document({ pageContent: text, metadata: { ...fileMetadata(ctx, "text", fileTitle(ctx)), encoding, line: 1 } }),
  ];
}

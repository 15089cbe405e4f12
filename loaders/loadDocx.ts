import { Document } from "@langchain/core/documents";
import mammoth from "mammoth";
import { type FileContext, fileMetadata, fileTitle } from "./FileContext.js";
import { fileError } from "./fileError.js";
import { htmlToText } from "./htmlToText.js";

/**
 * Word documents: mammoth maps Heading 1–6 styles to <h1>–<h6>, and the HTML renderer
 * turns those into `#` lines, so DOCX chunks get heading paths like Markdown ones.
 */
export async function loadDocx(bytes: Uint8Array, ctx: FileContext): Promise<Document[]> {
  let html: string;
  try {
    const result = await mammoth.convertToHtml({
      buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    });
    html = result.value;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw fileError("FILE_UNREADABLE", ctx.absPath, `corrupt DOCX (${message})`, error);
  }
  const { text } = htmlToText(`<html><body>${html}</body></html>`);
  if (!text.trim()) return [];
  const firstH1 = /^# (.+)$/m.exec(text)?.[1]?.trim();
  return [new Document({ pageContent: text, metadata: fileMetadata(ctx, "docx", firstH1 || fileTitle(ctx)) })];
}

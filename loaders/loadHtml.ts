import { Document } from "@langchain/core/documents";
import { decodeText } from "./decodeText.js";
import { type FileContext, fileMetadata, fileTitle } from "./FileContext.js";
import { htmlToText } from "./htmlToText.js";

export const HTML_EXTENSIONS = [".html", ".htm", ".xhtml"];

/** An HTML page's main text, headings kept as `#` lines so chunks get heading paths. */
export function loadHtml(bytes: Uint8Array, ctx: FileContext): Document[] {
  const { text: html, encoding } = decodeText(bytes, ctx.absPath);
  const { text, title, description, lang } = htmlToText(html);
  if (!text.trim()) return [];
  const metadata: Record<string, unknown> = { ...fileMetadata(ctx, "html", title ?? fileTitle(ctx)), encoding };
  if (description) metadata.description = description;
  if (lang) metadata.lang = lang;
  return [new Document({ pageContent: text, metadata })];
}

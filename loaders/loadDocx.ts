import { Document } from "@langchain/core/documents";
import { docxImageDocuments } from "./embeddedImages.js";
import { type FileContext, fileMetadata, fileTitle } from "./FileContext.js";
import { fileError } from "./fileError.js";
import { htmlToText } from "./htmlToText.js";
import { DEFAULT_LOAD_LIMITS, formatBytes, type LoadLimits } from "./loadLimits.js";
import { inflateEntry, listZipEntries } from "./zipEntries.js";

/** The parts mammoth reads text from; images and other media are never inflated. */
const TEXT_PART = /\.(xml|rels)$/i;

/** mammoth (with its zip and XML libraries) loads with the first DOCX, not with the loaders. */
let mammothLoaded: Promise<typeof import("mammoth")> | undefined;
const loadMammoth = () => {
  mammothLoaded ??= import("mammoth").then((m) => m.default);
  return mammothLoaded;
};

/**
 * Word documents: mammoth maps Heading 1–6 styles to <h1>–<h6>, and the HTML renderer
 * turns those into `#` lines, so DOCX chunks get heading paths like Markdown ones.
 * Before mammoth inflates anything, the XML parts are inflated once with a running cap
 * (limits.maxInflatedBytes, checked against the true size, not the declared one): a
 * zip bomb fails as TOO_LARGE instead of filling the heap. With `readImages`, the pictures in
 * `word/media` are inflated under the same budget and come as documents still to be described
 * (see embeddedImages.ts).
 */
export async function loadDocx(
  bytes: Uint8Array,
  ctx: FileContext,
  limits: Pick<LoadLimits, "maxInflatedBytes" | "maxImagePixels" | "maxEmbeddedImages"> = DEFAULT_LOAD_LIMITS,
  readImages = false,
): Promise<Document[]> {
  const images = checkInflatedSize(bytes, ctx, limits, readImages);
  let html: string;
  try {
    const mammoth = await loadMammoth();
    const result = await mammoth.convertToHtml(
      { buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) },
      // Images carry no text for the index; skipping them keeps mammoth from inlining them as base64.
      { convertImage: mammoth.images.imgElement(async () => ({ src: "" })) },
    );
    html = result.value;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw fileError("FILE_UNREADABLE", ctx.absPath, `corrupt DOCX (${message})`, error);
  }
  const { text } = htmlToText(`<html><body>${html}</body></html>`);
  if (!text.trim()) return images;
  const firstH1 = /^# (.+)$/m.exec(text)?.[1]?.trim();
  return [
    new Document({ pageContent: text, metadata: fileMetadata(ctx, "docx", firstH1 || fileTitle(ctx)) }),
    ...images,
  ];
}

/** Inflates the text parts (and with `readImages` the pictures) under one running budget; returns the picture documents. */
function checkInflatedSize(
  bytes: Uint8Array,
  ctx: FileContext,
  limits: Pick<LoadLimits, "maxInflatedBytes" | "maxImagePixels" | "maxEmbeddedImages">,
  readImages: boolean,
): Document[] {
  const maxBytes = limits.maxInflatedBytes;
  let entries: ReturnType<typeof listZipEntries>;
  try {
    entries = listZipEntries(bytes);
  } catch (error) {
    throw fileError("FILE_UNREADABLE", ctx.absPath, `corrupt DOCX (${(error as Error).message})`, error);
  }
  const tooLarge = (name: string) =>
    fileError(
      "TOO_LARGE",
      ctx.absPath,
      `its parts inflate to more than ${formatBytes(maxBytes)} (${name}); a DOCX this size is likely a zip bomb`,
    );
  const budget = { left: maxBytes };
  const guarded = <T>(name: string, inflate: () => T): T => {
    try {
      return inflate();
    } catch (error) {
      if (error instanceof RangeError) throw tooLarge(name);
      throw fileError("FILE_UNREADABLE", ctx.absPath, `corrupt DOCX (${(error as Error).message})`, error);
    }
  };
  for (const entry of entries) {
    if (!TEXT_PART.test(entry.name)) continue;
    if (entry.uncompressedSize > budget.left) throw tooLarge(entry.name);
    budget.left -= guarded(entry.name, () => inflateEntry(bytes, entry, budget.left)).length;
  }
  return readImages ? guarded("word/media", () => docxImageDocuments(bytes, entries, ctx, budget, limits)) : [];
}

import { Document } from "@langchain/core/documents";
import { extractText, getDocumentProxy, getMeta, renderPageAsImage } from "unpdf";
import { pdfImageDocuments } from "./embeddedImages.js";
import { type FileContext, fileMetadata, fileTitle } from "./FileContext.js";
import { fileError } from "./fileError.js";
import { type OcrResult, recognizeText } from "./loadImage.js";
import type { LoadLimits } from "./loadLimits.js";

export interface PdfLoadOptions {
  /**
   * Pages without a text layer (scans) are rendered and read by OCR. Needs the
   * optional `@napi-rs/canvas` package; without it such pages are left out. Default true.
   */
  ocrScannedPages?: boolean;
  /** Render scale for OCR (1 = 72 dpi). Default 2. */
  ocrScale?: number;
}

/** A page with less text than this is treated as a scan (page numbers or a stamp are not a text layer). */
const SCANNED_PAGE_CHARS = 16;

type PdfProxy = Awaited<ReturnType<typeof getDocumentProxy>>;

/**
 * One document per page that has text, with `page` (1-based) and `totalPages`.
 * A password-protected PDF fails with reason "encrypted"; anything pdf.js cannot
 * parse fails as a corrupt PDF. Scanned pages are read by OCR (see PdfLoadOptions)
 * and carry `ocr` metadata like images do. With `images` (the limits they are read under), the
 * pictures on the pages come too, as documents still to be described (see embeddedImages.ts).
 */
export async function loadPdf(
  bytes: Uint8Array,
  ctx: FileContext,
  options: PdfLoadOptions = {},
  images?: Pick<LoadLimits, "maxImagePixels" | "maxEmbeddedImages">,
): Promise<Document[]> {
  let pdf: PdfProxy;
  try {
    // pdf.js may transfer (detach) the buffer it is given, so it gets its own copy.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (error) {
    const name = (error as { name?: string })?.name;
    if (name === "PasswordException") {
      throw fileError("FILE_UNREADABLE", ctx.absPath, "encrypted (the PDF needs a password)", error);
    }
    const message = error instanceof Error ? error.message : String(error);
    throw fileError("FILE_UNREADABLE", ctx.absPath, `corrupt PDF (${message})`, error);
  }
  try {
    const { totalPages, text } = await extractText(pdf, { mergePages: false });
    let title = fileTitle(ctx);
    try {
      const { info } = await getMeta(pdf);
      const metaTitle = typeof info?.Title === "string" ? info.Title.trim() : "";
      if (metaTitle) title = metaTitle;
    } catch {
      // The info dictionary is optional and often damaged; the file name is a fine title.
    }
    const docs: Document[] = [];
    for (let i = 0; i < text.length; i++) {
      let content = normalisePageText(text[i] ?? "");
      let ocr: OcrResult | undefined;
      if (content.length < SCANNED_PAGE_CHARS && options.ocrScannedPages !== false) {
        ocr = await ocrPage(pdf, i + 1, options.ocrScale ?? 2, `${ctx.absPath} page ${i + 1}`);
        const ocrText = ocr?.lines.map((l) => l.text).join("\n") ?? "";
        if (ocrText.length > content.length) content = ocrText;
        else ocr = undefined;
      }
      if (!content) continue;
      const metadata: Record<string, unknown> = { ...fileMetadata(ctx, "pdf", title), page: i + 1, totalPages };
      if (ocr) metadata.ocr = ocr;
      docs.push(new Document({ pageContent: content, metadata }));
    }
    if (images) docs.push(...(await pdfImageDocuments(pdf, ctx, title, images)));
    return docs;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw fileError("FILE_UNREADABLE", ctx.absPath, `corrupt PDF (${message})`, error);
  } finally {
    // Frees pdf.js's worker-side copy of the document; the proxy has no destroy of its own.
    await pdf.loadingTask.destroy().catch(() => {});
  }
}

let canvasMissing = false;

/** Renders one page and reads it; undefined when the optional canvas package is absent. */
async function ocrPage(pdf: PdfProxy, page: number, scale: number, label: string): Promise<OcrResult | undefined> {
  if (canvasMissing) return undefined;
  let png: ArrayBuffer;
  try {
    png = await renderPageAsImage(pdf, page, { canvasImport: () => import("@napi-rs/canvas"), scale });
  } catch (error) {
    // Only a missing canvas package turns the fallback off for the process; other errors are per page.
    if ((error as NodeJS.ErrnoException)?.code === "ERR_MODULE_NOT_FOUND") canvasMissing = true;
    return undefined;
  }
  try {
    return await recognizeText(Buffer.from(png), label);
  } catch {
    // One unreadable scan should not cost the pages that have text.
    return undefined;
  }
}

/** pdf.js separates runs with spaces and lines with "\n"; trailing spaces and blank runs carry no meaning. */
function normalisePageText(text: string): string {
  return text
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

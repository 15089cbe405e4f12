import type { ImageFile, ImageText } from "./ImageIndex.js";
import type { ImageCaptioner } from "./TransformersJsCaptioner.js";

export interface ImageDescriberOptions {
  /** Writes the caption (none without a captioning model). */
  captioner?: ImageCaptioner;
  /** Reads the text in the picture (the loaders' OCR); empty when there is none. */
  ocr?: (bytes: Uint8Array, label: string) => Promise<string>;
}

/** The `describe` step of ImageIndex.indexFiles: caption and OCR text, whichever are available. */
export function imageDescriber(
  options: ImageDescriberOptions,
): (file: ImageFile, bytes: Uint8Array) => Promise<ImageText> {
  return async (file, bytes) => {
    const ocrText = options.ocr ? (await options.ocr(bytes, file.absPath)).trim() : "";
    const caption = options.captioner ? (await options.captioner.caption(bytes, file.absPath)).trim() : "";
    return { ...(caption ? { caption } : {}), ...(ocrText ? { ocrText } : {}) };
  };
}

import { createHash } from "node:crypto";
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

/**
 * A captioner that remembers its last captions by content: the text index and the image
 * index both want an image's caption, and a captioning model takes about a second per image.
 */
export function rememberingCaptioner(captioner: ImageCaptioner, size = 256): ImageCaptioner {
  const seen = new Map<string, Promise<string>>();
  return {
    caption(image, label) {
      if (typeof image === "string") return captioner.caption(image, label);
      const key = createHash("sha256").update(image).digest("hex");
      let caption = seen.get(key);
      if (!caption) {
        caption = captioner.caption(image, label);
        caption.catch(() => seen.delete(key));
        seen.set(key, caption);
        if (seen.size > size) seen.delete(seen.keys().next().value as string);
      }
      return caption;
    },
    close: () => captioner.close?.() ?? Promise.resolve(),
  };
}

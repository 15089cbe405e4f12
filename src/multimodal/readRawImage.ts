import { RawImage } from "@huggingface/transformers";
import { GeneraError } from "../errors.js";
import type { ImageInput } from "./ImageEmbeddings.js";

/** Decodes an image for a transformers.js processor; a missing or corrupt one is FILE_UNREADABLE naming it. */
export async function readRawImage(image: ImageInput, label: string): Promise<RawImage> {
  try {
    return typeof image === "string"
      ? await RawImage.read(image)
      : await RawImage.fromBlob(new Blob([new Uint8Array(image)]));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new GeneraError("FILE_UNREADABLE", `Cannot read image ${label}: ${reason}`, {
      cause: error,
      details: { path: label, reason },
    });
  }
}

import { Embeddings, type EmbeddingsInterface } from "@langchain/core/embeddings";
import { GeneraError } from "../errors.js";

/** An image to embed: a file path, or the encoded bytes of a PNG, JPEG, WebP or GIF. */
export type ImageInput = string | Uint8Array;

/**
 * Embeddings for images and texts in one space, so a text query finds images: the text
 * side is LangChain's `Embeddings` (embedQuery / embedDocuments) and `embedImages`
 * puts images beside it. Vectors are L2-normalised unless a class says otherwise.
 */
export interface ImageEmbeddingsInterface extends EmbeddingsInterface {
  /** Names the model and everything that changes its numbers, so an index never mixes two. */
  readonly modelId: string;
  embedImages(images: ImageInput[]): Promise<number[][]>;
  close?(): Promise<void>;
}

export abstract class ImageEmbeddings extends Embeddings implements ImageEmbeddingsInterface {
  abstract readonly modelId: string;
  abstract embedImages(images: ImageInput[]): Promise<number[][]>;

  async embedImage(image: ImageInput): Promise<number[]> {
    const [vector] = await this.embedImages([image]);
    return vector as number[];
  }

  async close(): Promise<void> {}
}

export function isImageEmbeddings(value: unknown): value is ImageEmbeddingsInterface {
  const e = value as Partial<ImageEmbeddingsInterface> | undefined;
  return typeof e?.embedImages === "function" && typeof e.embedQuery === "function";
}

/** embedImages' input check: an array of paths or byte arrays, or INVALID_INPUT naming the item. */
export function assertImages(images: unknown): asserts images is ImageInput[] {
  if (!Array.isArray(images)) throw new GeneraError("INVALID_INPUT", "embedImages expects an array of images");
  images.forEach((image, i) => {
    if (typeof image !== "string" && !(image instanceof Uint8Array)) {
      throw new GeneraError("INVALID_INPUT", `embedImages: item ${i} is ${typeof image}, not a path or bytes`);
    }
  });
}

/** How an image is named in messages: its path, or its place in the batch. */
export function imageLabel(image: ImageInput, index: number): string {
  return typeof image === "string" ? image : `image #${index} (${image.byteLength} bytes)`;
}

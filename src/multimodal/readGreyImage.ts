import sharp, { type OutputInfo } from "sharp";
import { GeneraError } from "../errors.js";
import type { ImageInput } from "./ImageEmbeddings.js";

/**
 * An image as `size`×`size` grey values in [0, 1], light ink on a dark ground (MNIST's
 * convention): transparent parts count as paper, the image is fitted inside the square
 * without distortion, and it is inverted when its mean is light (dark ink on paper).
 * A missing or corrupt image is FILE_UNREADABLE naming it.
 */
export async function readGreyImage(image: ImageInput, label: string, size: number): Promise<Float32Array> {
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(image, { animated: false })
      .flatten({ background: "#ffffff" })
      .greyscale()
      .resize(size, size, { fit: "inside" })
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new GeneraError("FILE_UNREADABLE", `Cannot read image ${label}: ${reason}`, {
      cause: error,
      details: { path: label, reason },
    });
  }
  const { width, height, channels } = raw.info;
  let mean = 0;
  for (let i = 0; i < width * height; i++) mean += raw.data[i * channels] as number;
  const invert = mean / (width * height) > 127.5;
  // Centred in the square; the margin is ground (0) once the polarity is MNIST's.
  const out = new Float32Array(size * size);
  const left = Math.floor((size - width) / 2);
  const top = Math.floor((size - height) / 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = (raw.data[(y * width + x) * channels] as number) / 255;
      out[(top + y) * size + left + x] = invert ? 1 - v : v;
    }
  }
  return out;
}

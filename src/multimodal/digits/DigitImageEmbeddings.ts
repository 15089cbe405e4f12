import type { EmbeddingsParams } from "@langchain/core/embeddings";
import { assertTexts } from "../../embeddings/assertTexts.js";
import { noGrad, Tensor } from "../../engine/index.js";
import { GeneraError } from "../../errors.js";
import { assertImages, ImageEmbeddings, type ImageInput, imageLabel } from "../ImageEmbeddings.js";
import { readGreyImage } from "../readGreyImage.js";
import type { DigitDualEncoder } from "./DigitDualEncoder.js";
import { loadDigitEncoder, shippedDigitEncoderDir } from "./digitEncoderCheckpoint.js";
import { captionFeatures } from "./trainDigitEncoder.js";

export interface DigitImageEmbeddingsParams extends EmbeddingsParams {
  /** A folder written by `npm run train:digits`; default: the encoder shipped with genera. */
  model?: string;
}

/**
 * The offline image embeddings: genera's own digit dual encoder (trained with the
 * engine on MNIST and generated captions, shipped in models/digit-dual-encoder), so
 * "a handwritten seven" finds sevens with nothing downloaded. It knows digits only.
 * Images are read as grey, fitted into 28×28, and inverted when the ink is darker than
 * the paper, since MNIST is white on black.
 */
export class DigitImageEmbeddings extends ImageEmbeddings {
  readonly modelId: string;
  readonly dimension: number;
  private readonly encoder: DigitDualEncoder;

  constructor(params: DigitImageEmbeddingsParams = {}) {
    super(params);
    const dir = params.model ?? shippedDigitEncoderDir();
    this.encoder = loadDigitEncoder(dir);
    this.dimension = this.encoder.config.dim;
    this.modelId = params.model === undefined ? "genera-digits:shipped" : `genera-digits:${dir}`;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    assertTexts(texts);
    if (texts.length === 0) return [];
    const features = captionFeatures(texts, this.encoder.config.textBuckets);
    return rows(noGrad(() => this.encoder.encodeTexts({ features })));
  }

  async embedQuery(text: string): Promise<number[]> {
    if (typeof text !== "string") {
      throw new GeneraError("INVALID_INPUT", `embedQuery expects a string, got ${typeof text}`);
    }
    return (await this.embedDocuments([text]))[0] as number[];
  }

  async embedImages(images: ImageInput[]): Promise<number[][]> {
    assertImages(images);
    if (images.length === 0) return [];
    const size = this.encoder.config.imageSize;
    const pixels = new Float32Array(images.length * size * size);
    for (let i = 0; i < images.length; i++) {
      const image = images[i] as ImageInput;
      const grey = await readGreyImage(image, imageLabel(image, i), size);
      pixels.set(grey, i * size * size);
    }
    return rows(noGrad(() => this.encoder.encodeImages({ pixels: new Tensor(pixels, [images.length, size * size]) })));
  }
}

function rows(t: Tensor): number[][] {
  const [n, d] = t.shape as [number, number];
  return Array.from({ length: n }, (_, i) => Array.from(t.data.subarray(i * d, (i + 1) * d)));
}

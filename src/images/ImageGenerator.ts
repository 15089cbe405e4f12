import type { RunnableConfig } from "@langchain/core/runnables";
import { Runnable } from "@langchain/core/runnables";
import { SeededRng } from "../engine/index.js";
import { GeneraError } from "../errors.js";
import { ConditionalGAN, digitsInTurn } from "./ConditionalGAN.js";
import { ConvVAE } from "./ConvVAE.js";
import { type LoadedImageModel, loadImageModel } from "./imageModels.js";
import { encodePng, imageGrid } from "./png.js";

export interface ImageRequest {
  /** How many images (1–64, default 16). */
  n?: number;
  /** The digit to draw (class-conditional models only). */
  digit?: number;
  /** A description of the image (text-to-image models only). */
  prompt?: string;
  /** Seed of the sampling noise; the same seed gives the same images. */
  seed?: number;
}

export interface GeneratedImages {
  /** `count` images of rows×cols, row-major, pixels in 0..1. */
  images: Float32Array;
  count: number;
  rows: number;
  cols: number;
  /** All of them as one grid, PNG-encoded. */
  png: Buffer;
  model: string;
}

export const MAX_IMAGES = 64;

/**
 * A LangChain Runnable that draws digits with one of genera's image generators, so
 * chains and agents can call it like any other step: `invoke({ n: 16, seed: 1 })`
 * answers the images and a PNG grid of them.
 */
export class ImageGenerator extends Runnable<ImageRequest, GeneratedImages> {
  static override lc_name(): string {
    return "ImageGenerator";
  }

  lc_namespace = ["genera", "images"];

  readonly loaded: LoadedImageModel;

  constructor(options: { model: string | LoadedImageModel }) {
    super();
    this.loaded = typeof options.model === "string" ? loadImageModel(options.model) : options.model;
    if (this.loaded.kind === "classifier") {
      throw new GeneraError("INVALID_INPUT", `${this.loaded.dir} is a classifier; it judges images but draws none`);
    }
  }

  /** Whether the model draws the digit it is asked for (`digit` in the request). */
  get takesDigit(): boolean {
    return this.loaded.model instanceof ConditionalGAN;
  }

  async invoke(input: ImageRequest, _config?: RunnableConfig): Promise<GeneratedImages> {
    return this.generate(input);
  }

  generate(input: ImageRequest = {}): GeneratedImages {
    const n = input.n ?? 16;
    if (!(Number.isInteger(n) && n >= 1 && n <= MAX_IMAGES)) {
      throw new GeneraError("INVALID_INPUT", `n must be an integer from 1 to ${MAX_IMAGES}, got ${input.n}`);
    }
    if (input.digit !== undefined && !(Number.isInteger(input.digit) && input.digit >= 0 && input.digit <= 9)) {
      throw new GeneraError("INVALID_INPUT", `digit must be an integer from 0 to 9, got ${input.digit}`);
    }
    const rng = new SeededRng(input.seed ?? Date.now() % 2 ** 31);
    const { model, kind } = this.loaded;
    if (model instanceof ConvVAE) {
      if (input.digit !== undefined || input.prompt !== undefined) {
        throw new GeneraError(
          "INVALID_INPUT",
          "the VAE is unconditional: it draws digits of any class and takes neither --digit nor --prompt",
        );
      }
      const images = model.sample(n, () => rng.next()).data;
      return this.result(images, n);
    }
    if (model instanceof ConditionalGAN) {
      if (input.prompt !== undefined) {
        throw new GeneraError("INVALID_INPUT", "the GAN draws the digit asked with --digit; it takes no --prompt");
      }
      // Without a digit, the grid shows 0..9 in turn.
      const digits = input.digit !== undefined ? new Int32Array(n).fill(input.digit) : digitsInTurn(n);
      return this.result(model.sample(digits, () => rng.next()).data, n);
    }
    throw new GeneraError("NOT_IMPLEMENTED", `sampling from a ${kind} model is not available in this build`);
  }

  private result(images: Float32Array, count: number): GeneratedImages {
    const png = encodePng(imageGrid(images, count, 28, 28, { scale: 2 }));
    return { images, count, rows: 28, cols: 28, png, model: this.loaded.dir };
  }
}

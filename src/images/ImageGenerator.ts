import type { RunnableConfig } from "@langchain/core/runnables";
import { Runnable } from "@langchain/core/runnables";
import { SeededRng } from "../engine/index.js";
import { GeneraError } from "../errors.js";
import { ConditionalGAN, digitsInTurn } from "./ConditionalGAN.js";
import { ConvVAE } from "./ConvVAE.js";
import { DiffusionModel } from "./Diffusion.js";
import { type LoadedImageModel, loadImageModel } from "./imageModels.js";
import { encodePng, imageGrid } from "./png.js";
import { checkPrompt, encodePrompts, PROMPT_DIMENSION, type PromptBatch } from "./promptEncoder.js";

export interface ImageRequest {
  /** How many images (1–64, default 16). */
  n?: number;
  /** The digit to draw (class-conditional models only). */
  digit?: number;
  /** A description of the image (text-to-image models only). */
  prompt?: string;
  /** Seed of the sampling noise; the same seed gives the same images. */
  seed?: number;
  /** Diffusion models: classifier-free guidance scale (1 = none; default the model's). */
  guidance?: number;
  /** Diffusion models: DDIM steps (default the model's). */
  steps?: number;
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
    const { model } = this.loaded;
    return model instanceof ConditionalGAN || (model instanceof DiffusionModel && model.conditioning === "class");
  }

  /** Embeds the prompt's words (text-to-image models) and draws. */
  async invoke(input: ImageRequest, _config?: RunnableConfig): Promise<GeneratedImages> {
    const { model } = this.loaded;
    if (input.prompt !== undefined && model instanceof DiffusionModel && model.conditioning === "text") {
      const prompt = checkPrompt(input.prompt);
      return this.generate(input, { promptVectors: await encodePrompts([prompt]) });
    }
    return this.generate(input);
  }

  /**
   * Draws synchronously. A text-to-image prompt must come embedded (`promptVectors`, a
   * batch of one prompt from encodePrompts); invoke() does that.
   */
  generate(input: ImageRequest = {}, options: { promptVectors?: PromptBatch } = {}): GeneratedImages {
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
    if (model instanceof DiffusionModel) return this.result(this.diffuse(model, input, n, rng, options), n);
    throw new GeneraError("NOT_IMPLEMENTED", `sampling from a ${kind} model is not available in this build`);
  }

  private diffuse(
    model: DiffusionModel,
    input: ImageRequest,
    n: number,
    rng: SeededRng,
    options: { promptVectors?: PromptBatch },
  ): Float32Array {
    const guidance = input.guidance ?? model.config.guidance;
    if (!(Number.isFinite(guidance) && guidance >= 0 && guidance <= 20)) {
      throw new GeneraError("INVALID_INPUT", `guidance must be a number from 0 to 20, got ${input.guidance}`);
    }
    const steps = input.steps ?? model.config.samplingSteps;
    if (!(Number.isInteger(steps) && steps >= 1 && steps <= model.config.timesteps)) {
      throw new GeneraError(
        "INVALID_INPUT",
        `steps must be an integer from 1 to ${model.config.timesteps}, got ${input.steps}`,
      );
    }
    const sample = { guidance, steps, rng: () => rng.next() };
    if (model.conditioning === "class") {
      if (input.prompt !== undefined) {
        throw new GeneraError(
          "INVALID_INPUT",
          `${this.loaded.dir} is class-conditional: ask for a digit (--digit 7), not a prompt; text2image takes prompts`,
        );
      }
      // Without a digit, the grid shows 0..9 in turn.
      const classes = input.digit !== undefined ? new Int32Array(n).fill(input.digit) : digitsInTurn(n);
      return model.sampleDdim(n, { classes }, sample).data;
    }
    if (input.digit !== undefined) {
      throw new GeneraError(
        "INVALID_INPUT",
        `${this.loaded.dir} is text-to-image: describe the image with a prompt ("a handwritten seven"), not --digit`,
      );
    }
    const given = options.promptVectors;
    if (input.prompt !== undefined && !given) {
      throw new GeneraError("INVALID_INPUT", "a text-to-image prompt must be embedded first: call invoke()");
    }
    const words = given?.lengths[0] ?? 0;
    if (given && !(given.lengths.length === 1 && words > 0 && given.vectors.length === words * PROMPT_DIMENSION)) {
      throw new GeneraError(
        "INVALID_INPUT",
        `promptVectors must be one prompt of at least one word, ${PROMPT_DIMENSION} values per word (see encodePrompts)`,
      );
    }
    // The prompt for every image; no prompt (length 0, the "no condition" the model was trained with) draws any digit.
    const vectors = new Float32Array(n * words * PROMPT_DIMENSION);
    if (given) for (let i = 0; i < n; i++) vectors.set(given.vectors, i * words * PROMPT_DIMENSION);
    return model.sampleDdim(n, { prompts: { vectors, lengths: new Int32Array(n).fill(words) } }, sample).data;
  }

  private result(images: Float32Array, count: number): GeneratedImages {
    const png = encodePng(imageGrid(images, count, 28, 28, { scale: 2 }));
    return { images, count, rows: 28, cols: 28, png, model: this.loaded.dir };
  }
}

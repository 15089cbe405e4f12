import { type ImageToTextPipeline, pipeline } from "@huggingface/transformers";
import { GeneraError } from "../errors.js";
import { type TransformersJsModelOptions, TransformersJsModelSource } from "../util/TransformersJsModelSource.js";
import type { ImageInput } from "./ImageEmbeddings.js";
import { readRawImage } from "./readRawImage.js";

/** Describes an image in a sentence; the caption becomes the image's indexed text. */
export interface ImageCaptioner {
  caption(image: ImageInput, label?: string): Promise<string>;
  close?(): Promise<void>;
}

export interface TransformersJsCaptionerParams extends TransformersJsModelOptions {
  /** Longest caption in tokens (default 40). */
  maxNewTokens?: number;
}

/**
 * A transformers.js image-to-text model (a vision encoder–decoder such as
 * "Xenova/vit-gpt2-image-captioning") as a captioner, decoding greedily. Offline by
 * default, found as TransformersJsModelSource says; a missing model is MODEL_NOT_FOUND.
 */
export class TransformersJsCaptioner implements ImageCaptioner {
  readonly model: string;
  readonly maxNewTokens: number;
  private readonly source: TransformersJsModelSource;
  private captioner?: Promise<ImageToTextPipeline>;

  constructor(params: TransformersJsCaptionerParams) {
    this.source = new TransformersJsModelSource(params, "Captioning model");
    this.model = this.source.model;
    const maxNewTokens = params.maxNewTokens ?? 40;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
      throw new GeneraError("INVALID_INPUT", `maxNewTokens must be a positive integer, got ${maxNewTokens}`);
    }
    this.maxNewTokens = maxNewTokens;
  }

  async caption(image: ImageInput, label = typeof image === "string" ? image : "image"): Promise<string> {
    const captioner = await this.load();
    const raw = await readRawImage(image, label);
    const output = (await captioner(raw, { max_new_tokens: this.maxNewTokens })) as Array<{ generated_text: string }>;
    return output[0]?.generated_text.trim() ?? "";
  }

  async close(): Promise<void> {
    const captioner = this.captioner;
    this.captioner = undefined;
    if (captioner) await (await captioner.catch(() => undefined))?.dispose();
  }

  private load(): Promise<ImageToTextPipeline> {
    if (!this.captioner) {
      this.captioner = this.source.load(
        async () =>
          (await pipeline("image-to-text", this.model, this.source.pretrainedOptions())) as ImageToTextPipeline,
      );
      this.captioner.catch(() => {
        this.captioner = undefined;
      });
    }
    return this.captioner;
  }
}

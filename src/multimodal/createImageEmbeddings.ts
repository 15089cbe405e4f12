import type { GeneraConfig } from "../config.js";
import { GeneraError } from "../errors.js";
import type { ImageEmbeddingsInterface } from "./ImageEmbeddings.js";
import type { ImageCaptioner } from "./TransformersJsCaptioner.js";

export type ImageEmbeddingsConfig = GeneraConfig["multimodal"];

/**
 * The configured image embeddings. Each class is imported only when chosen, so choosing
 * the digit encoder never loads transformers.js (and nothing loads until asked).
 */
export async function createImageEmbeddings(config: ImageEmbeddingsConfig): Promise<ImageEmbeddingsInterface> {
  if (config.imageEmbeddings === "digits") {
    const { DigitImageEmbeddings } = await import("./digits/DigitImageEmbeddings.js");
    return new DigitImageEmbeddings({ model: config.imageModel });
  }
  if (!config.imageModel) {
    throw new GeneraError(
      "CONFIG_INVALID",
      'multimodal.imageEmbeddings "transformersjs" needs multimodal.imageModel: a CLIP or SigLIP hub id or folder',
    );
  }
  const { TransformersJsImageEmbeddings } = await import("./TransformersJsImageEmbeddings.js");
  return new TransformersJsImageEmbeddings({ model: config.imageModel, allowRemote: config.allowRemote });
}

/** The configured captioning model, if any (transformers.js is loaded only then). */
export async function createCaptioner(config: ImageEmbeddingsConfig): Promise<ImageCaptioner | undefined> {
  if (!config.captionModel) return undefined;
  const { TransformersJsCaptioner } = await import("./TransformersJsCaptioner.js");
  return new TransformersJsCaptioner({ model: config.captionModel, allowRemote: config.allowRemote });
}

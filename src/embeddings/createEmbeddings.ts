import { resolve } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { GeneraConfig } from "../config.js";
import { GeneraError } from "../errors.js";
import { CachedEmbeddings } from "./CachedEmbeddings.js";
import { TransformersJsEmbeddings } from "./TransformersJsEmbeddings.js";
import { UniversalSentenceEncoderEmbeddings } from "./UniversalSentenceEncoderEmbeddings.js";

export { embeddingsModelId } from "./embeddingsModelId.js";

export type CreateEmbeddingsOptions = Partial<GeneraConfig["embeddings"]> & {
  /** Cache folder; default ".genera/embedding-cache" (the default dataDir) under the working directory. */
  cacheDir?: string;
  /** Model folders / cache for transformers.js hub ids. */
  modelCacheDir?: string;
  /** Let transformers.js download models (default false). */
  allowRemote?: boolean;
};

export type GeneraEmbeddings = (UniversalSentenceEncoderEmbeddings | TransformersJsEmbeddings | CachedEmbeddings) &
  EmbeddingsInterface & { readonly modelId: string; close(): Promise<void> };

/** The embeddings named by the configuration, behind the on-disk cache when `cache` is on (the default). */
export function createEmbeddings(config: CreateEmbeddingsOptions = {}): GeneraEmbeddings {
  const provider = config.provider ?? "use";
  let base: UniversalSentenceEncoderEmbeddings | TransformersJsEmbeddings;
  switch (provider) {
    case "use":
      // Config's workers 0 means one per core, the class's default too.
      base = new UniversalSentenceEncoderEmbeddings({ workers: config.workers ?? 0, runtime: config.runtime });
      break;
    case "transformersjs":
      if (!config.model) {
        throw new GeneraError(
          "CONFIG_INVALID",
          'embeddings.provider "transformersjs" needs embeddings.model (a hub id or a local model folder)',
        );
      }
      base = new TransformersJsEmbeddings({
        model: config.model,
        cacheDir: config.modelCacheDir,
        allowRemote: config.allowRemote ?? false,
      });
      break;
    default:
      throw new GeneraError("CONFIG_INVALID", `Unknown embeddings.provider "${String(provider)}"`, {
        details: { provider },
      });
  }
  if (config.cache === false) return base;
  return new CachedEmbeddings({ embeddings: base, dir: resolve(config.cacheDir ?? ".genera/embedding-cache") });
}

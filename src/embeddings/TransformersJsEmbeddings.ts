import type { DataType, FeatureExtractionPipeline } from "@huggingface/transformers";
import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { GeneraError } from "../errors.js";
import { type TransformersJsModelOptions, TransformersJsModelSource } from "../util/TransformersJsModelSource.js";
import { assertTexts } from "./assertTexts.js";

export type TransformersJsPooling = "mean" | "cls" | "none";

export interface TransformersJsEmbeddingsParams extends EmbeddingsParams, TransformersJsModelOptions {
  /** How token vectors become one text vector; "none" only suits models that already output one vector per text. Default "mean". */
  pooling?: TransformersJsPooling;
  /** L2-normalise the vectors (default true, which makes dot product equal cosine). */
  normalize?: boolean;
  /** Texts per model call; default 32. */
  batchSize?: number;
}

/**
 * Any transformers.js feature-extraction model (BERT, MiniLM, BGE, E5…) as LangChain
 * embeddings. Offline by default: with allowRemote false the model must already be in
 * a local folder, the local model path or the cache, and a missing model fails at
 * once with MODEL_NOT_FOUND instead of trying the network.
 * (TransformersJsModelSource says where it is looked for.)
 */
export class TransformersJsEmbeddings extends Embeddings {
  readonly model: string;
  readonly pooling: TransformersJsPooling;
  readonly normalize: boolean;
  readonly dtype: DataType;
  readonly batchSize: number;
  readonly allowRemote: boolean;
  readonly modelId: string;
  /** Vector width; known once the model has produced its first vector. */
  dimension?: number;
  private readonly source: TransformersJsModelSource;
  private extractor?: Promise<FeatureExtractionPipeline>;

  constructor(params: TransformersJsEmbeddingsParams) {
    super(params);
    this.source = new TransformersJsModelSource(params, "Embedding model");
    const pooling = params.pooling ?? "mean";
    if (!["mean", "cls", "none"].includes(pooling)) {
      throw new GeneraError("INVALID_INPUT", `pooling must be "mean", "cls" or "none", got "${pooling}"`);
    }
    const batchSize = params.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new GeneraError("INVALID_INPUT", `batchSize must be a positive integer, got ${batchSize}`);
    }
    this.model = this.source.model;
    this.pooling = pooling;
    this.normalize = params.normalize ?? true;
    this.dtype = this.source.dtype;
    this.batchSize = batchSize;
    this.allowRemote = this.source.allowRemote;
    // Everything that changes the numbers is in the id, so a cache never mixes vectors.
    this.modelId = `transformersjs:${this.model}:${this.pooling}:${this.dtype}${this.normalize ? "" : ":raw"}`;
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    assertTexts(documents);
    if (documents.length === 0) return [];
    const extractor = await this.load();
    const out: number[][] = [];
    for (let i = 0; i < documents.length; i += this.batchSize) {
      const batch = documents.slice(i, i + this.batchSize);
      const tensor = await extractor(batch, { pooling: this.pooling, normalize: this.normalize });
      try {
        if (tensor.dims.length !== 2 || tensor.dims[0] !== batch.length) {
          throw new GeneraError(
            "INVALID_INPUT",
            `Model ${this.model} gave output of shape [${tensor.dims.join(", ")}] with pooling "${this.pooling}"; ` +
              'one vector per text is needed, so use pooling "mean" or "cls"',
            { details: { model: this.model, dims: tensor.dims } },
          );
        }
        const rows = tensor.tolist() as number[][];
        this.dimension ??= rows[0]?.length;
        out.push(...rows);
      } finally {
        tensor.dispose();
      }
    }
    return out;
  }

  async embedQuery(document: string): Promise<number[]> {
    if (typeof document !== "string") {
      throw new GeneraError("INVALID_INPUT", `embedQuery expects a string, got ${typeof document}`);
    }
    const [vector] = await this.embedDocuments([document]);
    return vector as number[];
  }

  /** Releases the ONNX session. */
  async close(): Promise<void> {
    const extractor = this.extractor;
    this.extractor = undefined;
    if (extractor) await (await extractor.catch(() => undefined))?.dispose();
  }

  /** The folders where transformers.js would look for this model without the network. */
  searchedFolders(): string[] {
    return this.source.searchedFolders();
  }

  private load(): Promise<FeatureExtractionPipeline> {
    if (!this.extractor) {
      this.extractor = this.createExtractor();
      this.extractor.catch(() => {
        this.extractor = undefined;
      });
    }
    return this.extractor;
  }

  private createExtractor(): Promise<FeatureExtractionPipeline> {
    return this.source.load(
      async ({ pipeline }) =>
        (await pipeline(
          "feature-extraction",
          this.model,
          this.source.pretrainedOptions(),
        )) as FeatureExtractionPipeline,
    );
  }
}

import {
  AutoConfig,
  AutoProcessor,
  AutoTokenizer,
  CLIPTextModelWithProjection,
  CLIPVisionModelWithProjection,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Processor,
  SiglipTextModel,
  SiglipVisionModel,
  type Tensor,
} from "@huggingface/transformers";
import type { EmbeddingsParams } from "@langchain/core/embeddings";
import { assertTexts } from "../embeddings/assertTexts.js";
import { GeneraError } from "../errors.js";
import { type TransformersJsModelOptions, TransformersJsModelSource } from "../util/TransformersJsModelSource.js";
import { assertImages, ImageEmbeddings, type ImageInput, imageLabel } from "./ImageEmbeddings.js";
import { readRawImage } from "./readRawImage.js";

export interface TransformersJsImageEmbeddingsParams extends EmbeddingsParams, TransformersJsModelOptions {
  /** L2-normalise the vectors (default true: dot product = cosine, as the contrastive training intended). */
  normalize?: boolean;
  /** Texts or images per model call; default 16. */
  batchSize?: number;
}

/**
 * The two towers of each supported family: which classes load `onnx/text_model.onnx` and
 * `onnx/vision_model.onnx`, and how texts are padded (SigLIP was trained on texts padded
 * to the full length, so shorter padding changes its vectors).
 */
const FAMILIES = {
  clip: { text: CLIPTextModelWithProjection, vision: CLIPVisionModelWithProjection, padding: true },
  siglip: { text: SiglipTextModel, vision: SiglipVisionModel, padding: "max_length" },
} as const;
type Family = keyof typeof FAMILIES;

interface Towers {
  family: Family;
  tokenizer: PreTrainedTokenizer;
  processor: Processor;
  text: PreTrainedModel;
  vision: PreTrainedModel;
}

/**
 * A transformers.js CLIP or SigLIP model (e.g. "Xenova/clip-vit-base-patch32",
 * "Xenova/siglip-base-patch16-224") as image embeddings: texts through the text tower,
 * images through the vision tower, both into the shared space. Offline by default,
 * found as TransformersJsModelSource says; a missing model is MODEL_NOT_FOUND.
 */
export class TransformersJsImageEmbeddings extends ImageEmbeddings {
  readonly model: string;
  readonly normalize: boolean;
  readonly batchSize: number;
  readonly modelId: string;
  /** Vector width; known once the model has produced its first vector. */
  dimension?: number;
  private readonly source: TransformersJsModelSource;
  private towers?: Promise<Towers>;

  constructor(params: TransformersJsImageEmbeddingsParams) {
    super(params);
    this.source = new TransformersJsModelSource(params, "Image embedding model");
    const batchSize = params.batchSize ?? 16;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new GeneraError("INVALID_INPUT", `batchSize must be a positive integer, got ${batchSize}`);
    }
    this.model = this.source.model;
    this.normalize = params.normalize ?? true;
    this.batchSize = batchSize;
    this.modelId = `transformersjs-image:${this.model}:${this.source.dtype}${this.normalize ? "" : ":raw"}`;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    assertTexts(texts);
    if (texts.length === 0) return [];
    const { family, tokenizer, text } = await this.load();
    return this.inBatches(texts, async (batch) => {
      const inputs = tokenizer(batch, { padding: FAMILIES[family].padding, truncation: true });
      return text(inputs);
    });
  }

  async embedQuery(text: string): Promise<number[]> {
    if (typeof text !== "string") {
      throw new GeneraError("INVALID_INPUT", `embedQuery expects a string, got ${typeof text}`);
    }
    const [vector] = await this.embedDocuments([text]);
    return vector as number[];
  }

  async embedImages(images: ImageInput[]): Promise<number[][]> {
    assertImages(images);
    if (images.length === 0) return [];
    const { processor, vision } = await this.load();
    let offset = 0;
    return this.inBatches(images, async (batch) => {
      const raw = await Promise.all(batch.map((image, i) => readRawImage(image, imageLabel(image, offset + i))));
      offset += batch.length;
      return vision(await processor(raw));
    });
  }

  /** Releases the ONNX sessions. */
  override async close(): Promise<void> {
    const towers = this.towers;
    this.towers = undefined;
    const loaded = await towers?.catch(() => undefined);
    if (loaded) await Promise.all([loaded.text.dispose(), loaded.vision.dispose()]);
  }

  /** The folders where transformers.js would look for this model without the network. */
  searchedFolders(): string[] {
    return this.source.searchedFolders();
  }

  private async inBatches<T>(items: T[], run: (batch: T[]) => Promise<Record<string, Tensor>>): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < items.length; i += this.batchSize) {
      const outputs = await run(items.slice(i, i + this.batchSize));
      // CLIP's towers end in a projection (text_embeds / image_embeds); SigLIP's in a pooled vector.
      const tensor = outputs.text_embeds ?? outputs.image_embeds ?? outputs.pooler_output;
      if (tensor?.dims.length !== 2) {
        throw new GeneraError(
          "INVALID_INPUT",
          `Model ${this.model} gave no [batch, dim] embedding (outputs: ${Object.keys(outputs).join(", ")})`,
          { details: { model: this.model } },
        );
      }
      const rows = (this.normalize ? tensor.normalize(2, -1) : tensor).tolist() as number[][];
      this.dimension ??= rows[0]?.length;
      out.push(...rows);
    }
    return out;
  }

  private load(): Promise<Towers> {
    if (!this.towers) {
      this.towers = this.source.load(() => this.createTowers());
      this.towers.catch(() => {
        this.towers = undefined;
      });
    }
    return this.towers;
  }

  private async createTowers(): Promise<Towers> {
    const options = this.source.pretrainedOptions();
    const config = await AutoConfig.from_pretrained(this.model, options);
    const family = (config as { model_type?: string }).model_type as Family;
    if (!(family in FAMILIES)) {
      throw new GeneraError(
        "INVALID_INPUT",
        `Model ${this.model} is a "${family}" model; image embeddings need a CLIP or SigLIP model (${Object.keys(FAMILIES).join(", ")})`,
        { details: { model: this.model, modelType: family } },
      );
    }
    const [tokenizer, processor, text, vision] = await Promise.all([
      AutoTokenizer.from_pretrained(this.model, options),
      AutoProcessor.from_pretrained(this.model, options),
      FAMILIES[family].text.from_pretrained(this.model, options),
      FAMILIES[family].vision.from_pretrained(this.model, options),
    ]);
    return { family, tokenizer, processor, text, vision };
  }
}

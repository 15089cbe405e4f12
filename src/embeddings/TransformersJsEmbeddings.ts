import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import {
  type DataType,
  env,
  type FeatureExtractionPipeline,
  ModelFileNotFoundError,
  pipeline,
} from "@huggingface/transformers";
import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { GeneraError } from "../errors.js";
import { assertTexts } from "./assertTexts.js";

export type TransformersJsPooling = "mean" | "cls" | "none";

export interface TransformersJsEmbeddingsParams extends EmbeddingsParams {
  /** Hugging Face hub id (e.g. "Xenova/all-MiniLM-L6-v2") or a local model folder. */
  model: string;
  /** How token vectors become one text vector; "none" only suits models that already output one vector per text. Default "mean". */
  pooling?: TransformersJsPooling;
  /** L2-normalise the vectors (default true, which makes dot product equal cosine). */
  normalize?: boolean;
  /** ONNX weights variant: "fp32" (onnx/model.onnx, the default), "q8" (model_quantized.onnx), "fp16"… */
  dtype?: DataType;
  /** Shorthand for dtype "q8"; ignored when dtype is given. */
  quantized?: boolean;
  /** Folder where downloaded models are cached (and looked up); default: transformers.js's own. */
  cacheDir?: string;
  /** Folder holding hub-id-named model folders (`<localModelPath>/<org>/<name>`); default: transformers.js's own. */
  localModelPath?: string;
  /** Allow downloads from the Hugging Face hub (default false: never touch the network). */
  allowRemote?: boolean;
  /** Texts per model call; default 32. */
  batchSize?: number;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Any transformers.js feature-extraction model (BERT, MiniLM, BGE, E5…) as LangChain
 * embeddings. Offline by default: with allowRemote false the model must already be in
 * a local folder, the local model path or the cache, and a missing model fails at
 * once with MODEL_NOT_FOUND instead of trying the network.
 *
 * transformers.js keeps its settings in one global `env`; loading a model sets
 * env.allowRemoteModels (and localModelPath / cacheDir when given) for the process.
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
  private readonly cacheDir?: string;
  private readonly localModelPath?: string;
  private extractor?: Promise<FeatureExtractionPipeline>;

  constructor(params: TransformersJsEmbeddingsParams) {
    super(params);
    if (typeof params?.model !== "string" || params.model.trim() === "") {
      throw new GeneraError("INVALID_INPUT", "TransformersJsEmbeddings needs a `model`: a hub id or a local folder");
    }
    const pooling = params.pooling ?? "mean";
    if (!["mean", "cls", "none"].includes(pooling)) {
      throw new GeneraError("INVALID_INPUT", `pooling must be "mean", "cls" or "none", got "${pooling}"`);
    }
    const batchSize = params.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new GeneraError("INVALID_INPUT", `batchSize must be a positive integer, got ${batchSize}`);
    }
    const localFolder = resolve(params.model);
    // A folder on disk wins over a hub id of the same spelling, and is named by its absolute path;
    // so is anything spelled as a path, existing or not, so that errors name the right place.
    const spelledAsPath = isAbsolute(params.model) || /^\.{1,2}[\\/]/.test(params.model);
    this.model = spelledAsPath || isDirectory(localFolder) ? localFolder : params.model;
    this.pooling = pooling;
    this.normalize = params.normalize ?? true;
    this.dtype = params.dtype ?? (params.quantized ? "q8" : "fp32");
    this.batchSize = batchSize;
    this.allowRemote = params.allowRemote ?? false;
    this.cacheDir = params.cacheDir === undefined ? undefined : resolve(params.cacheDir);
    this.localModelPath = params.localModelPath === undefined ? undefined : resolve(params.localModelPath);
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
    if (isAbsolute(this.model)) return [this.model];
    const roots = [this.localModelPath ?? env.localModelPath, this.cacheDir ?? env.cacheDir];
    return [
      ...new Set(roots.filter((r): r is string => typeof r === "string" && r !== "").map((r) => join(r, this.model))),
    ];
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

  private async createExtractor(): Promise<FeatureExtractionPipeline> {
    env.allowRemoteModels = this.allowRemote;
    env.allowLocalModels = true;
    if (this.localModelPath) env.localModelPath = this.localModelPath;
    if (this.cacheDir) env.cacheDir = this.cacheDir;
    const folders = this.searchedFolders();
    if (!this.allowRemote && !folders.some((f) => existsSync(join(f, "config.json")))) {
      throw new GeneraError(
        "MODEL_NOT_FOUND",
        `Embedding model "${this.model}" was not found locally (looked for config.json in ${folders.join(", ")}) ` +
          "and downloads are off: put the model folder there or set allowRemote",
        { details: { model: this.model, searched: folders } },
      );
    }
    try {
      return (await pipeline("feature-extraction", this.model, {
        dtype: this.dtype,
        cache_dir: this.cacheDir,
        local_files_only: !this.allowRemote,
      })) as FeatureExtractionPipeline;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof ModelFileNotFoundError || /not found|missing|ENOENT/i.test(message)) {
        throw new GeneraError(
          "MODEL_NOT_FOUND",
          `Embedding model "${this.model}" (dtype ${this.dtype}) is incomplete or missing in ${folders.join(", ")}: ${message}`,
          { cause: error, details: { model: this.model, searched: folders, dtype: this.dtype } },
        );
      }
      throw new GeneraError("FILE_UNREADABLE", `Embedding model "${this.model}" could not be loaded: ${message}`, {
        cause: error,
        details: { model: this.model, searched: folders },
      });
    }
  }
}

import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { DataType } from "@huggingface/transformers";
import { GeneraError } from "../errors.js";

/** Where a transformers.js model comes from; shared by every class that runs one. */
export interface TransformersJsModelOptions {
  /** Hugging Face hub id (e.g. "Xenova/clip-vit-base-patch32") or a local model folder. */
  model: string;
  /** ONNX weights variant: "fp32" (onnx/<name>.onnx, the default), "q8" (<name>_quantized.onnx), "fp16"… */
  dtype?: DataType;
  /** Shorthand for dtype "q8"; ignored when dtype is given. */
  quantized?: boolean;
  /** Folder where downloaded models are cached (and looked up); default: transformers.js's own. */
  cacheDir?: string;
  /** Folder holding hub-id-named model folders (`<localModelPath>/<org>/<name>`); default: transformers.js's own. */
  localModelPath?: string;
  /** Allow downloads from the Hugging Face hub (default false: never touch the network). */
  allowRemote?: boolean;
}

type TransformersJs = typeof import("@huggingface/transformers");

/** transformers.js (with onnxruntime and sharp) loads when a model is first needed, not on import. */
let transformersJs: TransformersJs | undefined;
export async function loadTransformersJs(): Promise<TransformersJs> {
  transformersJs ??= await import("@huggingface/transformers");
  return transformersJs;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A transformers.js model named by configuration: a hub id or a folder, looked up without
 * the network unless allowed. A missing model fails at once with MODEL_NOT_FOUND naming
 * the folders searched, instead of transformers.js trying (and failing) to download it.
 *
 * transformers.js keeps its settings in one global `env`; loading sets env.allowRemoteModels
 * (and localModelPath / cacheDir when given) for the process.
 */
export class TransformersJsModelSource {
  /** The hub id, or the absolute path of a local folder. */
  readonly model: string;
  readonly dtype: DataType;
  readonly allowRemote: boolean;
  readonly cacheDir?: string;
  readonly localModelPath?: string;

  /** `role` names the model in messages ("Embedding model", "Captioning model"…). */
  constructor(
    options: TransformersJsModelOptions,
    readonly role = "Model",
  ) {
    if (typeof options?.model !== "string" || options.model.trim() === "") {
      throw new GeneraError("INVALID_INPUT", `${role} needs a \`model\`: a hub id or a local folder`);
    }
    const localFolder = resolve(options.model);
    // A folder on disk wins over a hub id of the same spelling, and is named by its absolute path;
    // so is anything spelled as a path, existing or not, so that errors name the right place.
    const spelledAsPath = isAbsolute(options.model) || /^\.{1,2}[\\/]/.test(options.model);
    this.model = spelledAsPath || isDirectory(localFolder) ? localFolder : options.model;
    this.dtype = options.dtype ?? (options.quantized ? "q8" : "fp32");
    this.allowRemote = options.allowRemote ?? false;
    this.cacheDir = options.cacheDir === undefined ? undefined : resolve(options.cacheDir);
    this.localModelPath = options.localModelPath === undefined ? undefined : resolve(options.localModelPath);
  }

  /** The folders where transformers.js would look for this model without the network. */
  searchedFolders(): string[] {
    if (isAbsolute(this.model)) return [this.model];
    // transformers.js's own default folders are known once it has loaded (the first load() does that).
    const env = transformersJs?.env;
    const roots = [this.localModelPath ?? env?.localModelPath, this.cacheDir ?? env?.cacheDir];
    return [
      ...new Set(roots.filter((r): r is string => typeof r === "string" && r !== "").map((r) => join(r, this.model))),
    ];
  }

  /** The options every transformers.js `from_pretrained` / `pipeline` call takes for this model. */
  pretrainedOptions(): { dtype: DataType; cache_dir?: string; local_files_only: boolean } {
    return { dtype: this.dtype, cache_dir: this.cacheDir, local_files_only: !this.allowRemote };
  }

  /**
   * Runs `loader` (which calls transformers.js) after pointing `env` at this model's folders
   * and checking the model is there; its failures become MODEL_NOT_FOUND or FILE_UNREADABLE.
   */
  async load<T>(loader: (lib: TransformersJs) => Promise<T>): Promise<T> {
    const lib = await loadTransformersJs();
    const { env, ModelFileNotFoundError } = lib;
    env.allowRemoteModels = this.allowRemote;
    env.allowLocalModels = true;
    if (this.localModelPath) env.localModelPath = this.localModelPath;
    if (this.cacheDir) env.cacheDir = this.cacheDir;
    const folders = this.searchedFolders();
    if (!this.allowRemote && !folders.some((f) => existsSync(join(f, "config.json")))) {
      throw new GeneraError(
        "MODEL_NOT_FOUND",
        `${this.role} "${this.model}" was not found locally (looked for config.json in ${folders.join(", ")}) ` +
          "and downloads are off: put the model folder there or set allowRemote",
        { details: { model: this.model, searched: folders } },
      );
    }
    try {
      return await loader(lib);
    } catch (error) {
      if (error instanceof GeneraError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof ModelFileNotFoundError || /not found|missing|ENOENT/i.test(message)) {
        throw new GeneraError(
          "MODEL_NOT_FOUND",
          `${this.role} "${this.model}" (dtype ${this.dtype}) is incomplete or missing in ${folders.join(", ")}: ${message}`,
          { cause: error, details: { model: this.model, searched: folders, dtype: this.dtype } },
        );
      }
      throw new GeneraError("FILE_UNREADABLE", `${this.role} "${this.model}" could not be loaded: ${message}`, {
        cause: error,
        details: { model: this.model, searched: folders },
      });
    }
  }
}

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { encodeSafetensors, loadSafetensors, type Module, type NamedTensorData } from "../engine/index.js";
import { GeneraError } from "../errors.js";
import { atomicWriteFileSync } from "../util/atomicWrite.js";
import { readFileOrThrow } from "../util/readFileOrThrow.js";

/**
 * An image model on disk: a folder with
 *   config.json        { format: "genera-image-model", format_version: 1, kind, config, training }
 *   model.safetensors  F32 weights under Module.namedParameters() names
 * (plus loss.svg and metrics.jsonl from training). The weights are written first and
 * config.json last, each atomically, so a reader that sees a config sees its weights.
 */

export const IMAGE_MODEL_KINDS = ["classifier", "vae", "gan", "diffusion", "text2image"] as const;
export type ImageModelKind = (typeof IMAGE_MODEL_KINDS)[number];

export interface ImageModelFile {
  format: "genera-image-model";
  format_version: 1;
  kind: ImageModelKind;
  config: Record<string, unknown>;
  training?: Record<string, unknown>;
}

export function saveImageModel(
  dir: string,
  options: { kind: ImageModelKind; config: object; model: Module; training?: Record<string, unknown> },
): void {
  mkdirSync(dir, { recursive: true });
  const weights: Array<[string, NamedTensorData]> = options.model
    .namedParameters()
    .map(([name, t]) => [name, { data: t.data, shape: t.shape }]);
  atomicWriteFileSync(join(dir, "model.safetensors"), encodeSafetensors(weights, { format: "pt", kind: options.kind }));
  const file: ImageModelFile = {
    format: "genera-image-model",
    format_version: 1,
    kind: options.kind,
    config: { ...options.config },
    ...(options.training ? { training: options.training } : {}),
  };
  atomicWriteFileSync(join(dir, "config.json"), `${JSON.stringify(file, null, 2)}\n`);
}

export function readImageModelFile(dir: string): ImageModelFile {
  const path = join(dir, "config.json");
  if (!existsSync(dir))
    throw new GeneraError("NOT_FOUND", `image model folder ${dir} does not exist`, { details: { path: dir } });
  let json: Partial<ImageModelFile>;
  try {
    json = JSON.parse(readFileOrThrow(path, "image model config", "utf8"));
  } catch (error) {
    if (error instanceof GeneraError) throw error;
    throw new GeneraError("INDEX_CORRUPT", `${path} is not valid JSON`, { cause: error, details: { path } });
  }
  if (json.format !== "genera-image-model" || json.format_version !== 1 || !json.config) {
    throw new GeneraError("INDEX_CORRUPT", `${path} is not a genera image model config`, { details: { path } });
  }
  if (!IMAGE_MODEL_KINDS.includes(json.kind as ImageModelKind)) {
    throw new GeneraError("INDEX_CORRUPT", `${path} has unknown kind ${JSON.stringify(json.kind)}`, {
      details: { path },
    });
  }
  return json as ImageModelFile;
}

/** Loads weights into a freshly built model of the folder's config; a mismatch is INDEX_CORRUPT. */
export function loadImageWeights(dir: string, model: Module): void {
  const path = join(dir, "model.safetensors");
  const { tensors } = loadSafetensors(path);
  try {
    model.loadStateDict(tensors);
  } catch (error) {
    throw new GeneraError(
      "INDEX_CORRUPT",
      `${path} does not match ${join(dir, "config.json")}: ${(error as Error).message}`,
      {
        cause: error,
        details: { path },
      },
    );
  }
  model.eval();
}

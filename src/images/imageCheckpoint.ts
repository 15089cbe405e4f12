import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  CHECKPOINT_FILES,
  type CheckpointFile,
  commitCheckpointFiles,
  encodeSafetensors,
  loadSafetensors,
  type Module,
  type NamedTensorData,
  type OptimizerState,
  optimizerStateFromSafetensors,
  optimizerStateToSafetensors,
  recoverCheckpoint,
  type TrainerSnapshot,
} from "../engine/index.js";
import { GeneraError } from "../errors.js";
import { readFileOrThrow } from "../util/readFileOrThrow.js";

/**
 * An image model on disk: a folder with
 *   config.json            { format: "genera-image-model", format_version: 1, kind, config, training }
 *   model.safetensors      F32 weights under Module.namedParameters() names
 * and, to resume training (not shipped):
 *   optimizer.safetensors  the optimizer's state as the engine saves it (a GAN's second
 *                          optimizer in optimizer.1.safetensors)
 *   trainer_state.json     step, elapsed time, every random generator's state, where the
 *                          batch order stands and the run's hyper-parameters
 * (plus loss.svg and metrics.jsonl from training). Saved with the engine's checkpoint
 * protocol (staged, committed, moved into place), so a run killed mid-save leaves the
 * previous checkpoint whole and weights, optimizer and trainer state always match.
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

/** What a resumed run needs beyond weights and optimizer state. */
export interface ImageTrainerState extends TrainerSnapshot {
  /** Where the shuffled batch order stands (MnistBatches.position). */
  batches: { shuffled_from: number | null; pos: number };
  /** The run's settings, reused by a resume unless told otherwise. */
  steps: number;
  batch_size: number;
  lr: number;
  seed: number;
  train_limit: number | null;
  eval_every: number;
  checkpoint_every: number;
}

export interface SaveImageModelOptions {
  kind: ImageModelKind;
  config: object;
  model: Module;
  training?: Record<string, unknown>;
  optimizers?: OptimizerState[];
  trainerState?: ImageTrainerState;
}

function optimizerFile(i: number): string {
  return i === 0 ? CHECKPOINT_FILES.optimizer : CHECKPOINT_FILES.optimizer.replace(".safetensors", `.${i}.safetensors`);
}

export function saveImageModel(dir: string, options: SaveImageModelOptions): void {
  const step = options.trainerState?.step ?? 0;
  const weights: Array<[string, NamedTensorData]> = options.model
    .namedParameters()
    .map(([name, t]) => [name, { data: t.data, shape: t.shape }]);
  const files: CheckpointFile[] = [
    [CHECKPOINT_FILES.model, encodeSafetensors(weights, { format: "pt", kind: options.kind })],
  ];
  (options.optimizers ?? []).forEach((state, i) => {
    const { tensors, metadata } = optimizerStateToSafetensors(state);
    files.push([optimizerFile(i), encodeSafetensors(tensors, metadata)]);
  });
  if (options.trainerState)
    files.push([CHECKPOINT_FILES.trainerState, `${JSON.stringify(options.trainerState, null, 2)}\n`]);
  const file: ImageModelFile = {
    format: "genera-image-model",
    format_version: 1,
    kind: options.kind,
    config: { ...options.config },
    ...(options.training ? { training: options.training } : {}),
  };
  files.push([CHECKPOINT_FILES.config, `${JSON.stringify(file, null, 2)}\n`]);
  commitCheckpointFiles(dir, files, step);
}

/** The optimizer and trainer state of a folder, or null when it holds weights only (a shipped model). */
export function loadImageTrainingState(
  dir: string,
  optimizerCount: number,
): { optimizers: OptimizerState[]; trainerState: ImageTrainerState } | null {
  recoverCheckpoint(dir, { discardIncomplete: false });
  const statePath = join(dir, CHECKPOINT_FILES.trainerState);
  if (!existsSync(statePath)) return null;
  let state: ImageTrainerState;
  try {
    state = JSON.parse(readFileOrThrow(statePath, "trainer state", "utf8"));
  } catch (error) {
    if (error instanceof GeneraError) throw error;
    throw new GeneraError("INDEX_CORRUPT", `${statePath} is not valid JSON`, {
      cause: error,
      details: { path: statePath },
    });
  }
  if (!Number.isInteger(state?.step) || !Array.isArray(state.rng_states) || !state.batches) {
    throw new GeneraError("INDEX_CORRUPT", `${statePath} lacks a valid step, generator states or batch position`, {
      details: { path: statePath },
    });
  }
  const optimizers: OptimizerState[] = [];
  for (let i = 0; i < optimizerCount; i++) {
    const path = join(dir, optimizerFile(i));
    if (!existsSync(path)) return null;
    const optimizer = optimizerStateFromSafetensors(loadSafetensors(path), path);
    if (optimizer.step !== state.step) {
      throw new GeneraError(
        "INDEX_CORRUPT",
        `${path} is at step ${optimizer.step} but ${statePath} at step ${state.step}; the checkpoint is inconsistent`,
        { details: { path } },
      );
    }
    optimizers.push(optimizer);
  }
  return { optimizers, trainerState: state };
}

export function readImageModelFile(dir: string): ImageModelFile {
  const path = join(dir, "config.json");
  if (!existsSync(dir))
    throw new GeneraError("NOT_FOUND", `image model folder ${dir} does not exist`, { details: { path: dir } });
  // Finish a save that was committed but interrupted while moving its files into place.
  recoverCheckpoint(dir, { discardIncomplete: false });
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

/**
 * Copies into `model` every parameter that a model folder holds under the same name and
 * shape (text2image's U-Net from a trained class-conditional diffusion model, say), for
 * a run that starts from it; the rest keep their initial values. No parameter in common
 * is MODEL_MISMATCH.
 */
export function loadMatchingWeights(dir: string, model: Module): { copied: number; total: number } {
  readImageModelFile(dir);
  const path = join(dir, "model.safetensors");
  const { tensors } = loadSafetensors(path);
  const params = model.namedParameters();
  let copied = 0;
  for (const [name, p] of params) {
    const src = tensors.get(name);
    if (src && src.data.length === p.size && src.shape.every((d, i) => d === p.shape[i])) {
      p.data.set(src.data);
      copied++;
    }
  }
  if (copied === 0) {
    throw new GeneraError("MODEL_MISMATCH", `${path} has no parameter of this model's names and shapes`, {
      details: { path },
    });
  }
  return { copied, total: params.length };
}

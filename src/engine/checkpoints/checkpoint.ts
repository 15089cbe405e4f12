import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GeneraError } from "../../errors.js";
import { atomicWriteFileSync, fsyncDir, fsyncPath } from "../../util/atomicWrite.js";
import { readFileOrThrow } from "../../util/readFileOrThrow.js";
import type { Module } from "../layers/Module.js";
import { EncoderDecoder, type EncoderDecoderConfig } from "../models/encoderDecoder.js";
import { GPT, type GPTConfig } from "../models/gpt.js";
import { tokenizerFromJSON } from "../tokenizers/loadTokenizer.js";
import type { Tokenizer } from "../tokenizers/Tokenizer.js";
import { type OptimizerState, optimizerStateFromSafetensors, optimizerStateToSafetensors } from "../training/optim.js";
import { encodeSafetensors, loadSafetensors, type NamedTensorData } from "./safetensors.js";

/**
 * A checkpoint is a folder:
 *
 *   config.json            { format: "genera-checkpoint", format_version: 1, model_type: "gpt" | "encoder-decoder",
 *                            config: <GPTConfig | EncoderDecoderConfig>, tokenizer: { kind, file },
 *                            training: { step, train_loss, val_loss, best_val_loss, unigram_baseline, ... } }
 *   tokenizer.json         see tokenizers/Tokenizer.ts
 *   model.safetensors      F32 weights under Module.namedParameters() names ("tokEmb.weight",
 *                          "blocks.0.attn.q.weight", ...; full list in safetensors.ts); metadata { format: "pt", model_type, step }
 *   optimizer.safetensors  resumable optimizer moments ("exp_avg.<param>", "exp_avg_sq.<param>")
 *   trainer_state.json     { step, rng_state, best_val_loss, tokens_seen, elapsed_seconds, ... }
 *
 * The last two are only needed to resume training. A save first writes every file
 * into `.staging/`, then a COMMIT marker, then renames the files into place; a
 * process killed before the marker leaves the previous checkpoint untouched, one
 * killed after it is completed (rolled forward) by the next load. So a resumed run
 * always sees weights, optimizer and trainer state from the same step.
 */

export type ModelType = "gpt" | "encoder-decoder";

export const CHECKPOINT_FILES = {
  config: "config.json",
  tokenizer: "tokenizer.json",
  model: "model.safetensors",
  optimizer: "optimizer.safetensors",
  trainerState: "trainer_state.json",
} as const;

const STAGING = ".staging";
const COMMIT = "COMMIT";

export interface CheckpointConfig {
  format: "genera-checkpoint";
  format_version: 1;
  model_type: ModelType;
  config: GPTConfig | EncoderDecoderConfig;
  tokenizer: { kind: string; file: string };
  training?: Record<string, unknown>;
}

/** What a resumed run needs beyond the weights. */
export interface TrainerState {
  step: number;
  /** State of the batch sampler's generator, so batches continue where they stopped. */
  rng_state: number;
  best_val_loss: number | null;
  tokens_seen: number;
  elapsed_seconds: number;
  [key: string]: unknown;
}

export interface SaveCheckpointOptions {
  model: Module;
  modelType: ModelType;
  config: GPTConfig | EncoderDecoderConfig;
  tokenizer: Tokenizer;
  training?: Record<string, unknown>;
  optimizer?: OptimizerState;
  trainerState?: TrainerState;
}

export type LoadedModel = GPT | EncoderDecoder;

export interface LoadedCheckpoint {
  model: LoadedModel;
  tokenizer: Tokenizer;
  config: CheckpointConfig;
}

function writeDurable(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data);
  fsyncPath(path);
}

/** Write a checkpoint folder atomically (see the protocol above). */
export function saveCheckpoint(dir: string, options: SaveCheckpointOptions): void {
  const step = options.trainerState?.step ?? (options.training?.step as number | undefined) ?? 0;
  const files: CheckpointFile[] = [];
  const weights: Array<[string, NamedTensorData]> = options.model
    .namedParameters()
    .map(([name, t]) => [name, { data: t.data, shape: t.shape }]);
  files.push([
    CHECKPOINT_FILES.model,
    encodeSafetensors(weights, { format: "pt", model_type: options.modelType, step: String(step) }),
  ]);
  files.push([CHECKPOINT_FILES.tokenizer, `${JSON.stringify(options.tokenizer.toJSON(), null, 2)}\n`]);
  if (options.optimizer) {
    const { tensors, metadata } = optimizerStateToSafetensors(options.optimizer);
    files.push([CHECKPOINT_FILES.optimizer, encodeSafetensors(tensors, metadata)]);
  }
  if (options.trainerState)
    files.push([CHECKPOINT_FILES.trainerState, `${JSON.stringify(options.trainerState, null, 2)}\n`]);
  const config: CheckpointConfig = {
    format: "genera-checkpoint",
    format_version: 1,
    model_type: options.modelType,
    config: options.config,
    tokenizer: { kind: options.tokenizer.kind, file: CHECKPOINT_FILES.tokenizer },
    ...(options.training ? { training: options.training } : {}),
  };
  // config.json goes last so a reader that sees the new config also sees the new weights.
  files.push([CHECKPOINT_FILES.config, `${JSON.stringify(config, null, 2)}\n`]);
  commitCheckpointFiles(dir, files, step);
}

/** A file of a checkpoint: its name in the folder and its bytes. */
export type CheckpointFile = [name: string, data: string | Uint8Array];

/**
 * The save protocol above for any set of files (GPT checkpoints, image models): stage
 * them all, mark the staging folder committed, move them into place. Files are written
 * in the order given; put the one readers look for first (config.json) last.
 */
export function commitCheckpointFiles(dir: string, files: CheckpointFile[], step: number): void {
  mkdirSync(dir, { recursive: true });
  const staging = join(dir, STAGING);
  // A leftover staging folder is either complete (finish it first) or a torn save (discard it).
  recoverCheckpoint(dir, { discardIncomplete: true });
  mkdirSync(staging, { recursive: true });
  for (const [name, data] of files) writeDurable(join(staging, name), data);
  fsyncDir(staging);
  atomicWriteFileSync(join(staging, COMMIT), JSON.stringify({ files: files.map(([name]) => name), step }));
  recoverCheckpoint(dir, { discardIncomplete: false });
}

/**
 * Finish a committed save that was interrupted while moving files into place.
 * Readers call this with discardIncomplete false: an uncommitted staging folder
 * may belong to a save still being written by another process.
 */
export function recoverCheckpoint(dir: string, options: { discardIncomplete: boolean }): void {
  const staging = join(dir, STAGING);
  if (!existsSync(staging)) return;
  const marker = join(staging, COMMIT);
  let files: string[] | undefined;
  try {
    files = (JSON.parse(readFileSync(marker, "utf8")) as { files: string[] }).files;
  } catch {
    files = undefined;
  }
  if (!files) {
    if (options.discardIncomplete) rmSync(staging, { recursive: true, force: true });
    return;
  }
  for (const name of files) {
    try {
      renameSync(join(staging, name), join(dir, name));
    } catch (error) {
      // Already moved (by an earlier, interrupted recovery or a concurrent reader).
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  fsyncDir(dir);
  rmSync(staging, { recursive: true, force: true });
}

function readJson(path: string, what: string): unknown {
  const text = readFileOrThrow(path, what, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new GeneraError("INDEX_CORRUPT", `${what} ${path} is not valid JSON (damaged checkpoint?)`, {
      cause: error,
      details: { path },
    });
  }
}

/** Read and validate config.json of a checkpoint folder. */
export function readCheckpointConfig(dir: string): CheckpointConfig {
  if (!existsSync(dir)) {
    throw new GeneraError("NOT_FOUND", `checkpoint folder ${dir} does not exist`, { details: { path: dir } });
  }
  recoverCheckpoint(dir, { discardIncomplete: false });
  const path = join(dir, CHECKPOINT_FILES.config);
  if (!existsSync(path)) {
    throw new GeneraError(
      "NOT_FOUND",
      `${dir} is not a checkpoint folder: ${CHECKPOINT_FILES.config} is missing (train one with \`genera train\`)`,
      { details: { path } },
    );
  }
  const json = readJson(path, "checkpoint config") as Partial<CheckpointConfig> | null;
  if (json?.format !== "genera-checkpoint" || !json.config || typeof json.config !== "object") {
    throw new GeneraError("INDEX_CORRUPT", `${path} is not a genera checkpoint config`, { details: { path } });
  }
  if (json.format_version !== 1) {
    throw new GeneraError("INDEX_CORRUPT", `${path} has unsupported format_version ${String(json.format_version)}`);
  }
  if (json.model_type !== "gpt" && json.model_type !== "encoder-decoder") {
    throw new GeneraError("INDEX_CORRUPT", `${path} has unknown model_type ${JSON.stringify(json.model_type)}`);
  }
  return json as CheckpointConfig;
}

export function buildModel(modelType: ModelType, config: GPTConfig | EncoderDecoderConfig, seed?: number): LoadedModel {
  try {
    return modelType === "gpt"
      ? new GPT(config as GPTConfig, seed)
      : new EncoderDecoder(config as EncoderDecoderConfig, seed);
  } catch (error) {
    if (error instanceof GeneraError && error.code === "CONFIG_INVALID") {
      throw new GeneraError("INDEX_CORRUPT", `checkpoint config is invalid: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** Load a checkpoint folder for inference (or as the start of fine-tuning). */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const config = readCheckpointConfig(dir);
  const tokPath = join(dir, config.tokenizer?.file ?? CHECKPOINT_FILES.tokenizer);
  const tokenizer = tokenizerFromJSON(readJson(tokPath, "tokenizer file"), tokPath);
  const model = buildModel(config.model_type, config.config);
  const weightsPath = join(dir, CHECKPOINT_FILES.model);
  const weights = loadSafetensors(weightsPath);
  try {
    model.loadStateDict(weights.tensors);
  } catch (error) {
    throw new GeneraError(
      "INDEX_CORRUPT",
      `${weightsPath} does not match ${join(dir, CHECKPOINT_FILES.config)}: ${(error as Error).message}`,
      { cause: error, details: { path: weightsPath } },
    );
  }
  const vocab =
    config.model_type === "gpt"
      ? (config.config as GPTConfig).vocabSize
      : (config.config as EncoderDecoderConfig).tgtVocabSize;
  if (tokenizer.vocabSize > vocab) {
    throw new GeneraError(
      "INDEX_CORRUPT",
      `${tokPath} has ${tokenizer.vocabSize} tokens but the model only ${vocab}; the files come from different runs`,
    );
  }
  model.eval();
  return { model, tokenizer, config };
}

/** Optimizer + trainer state of a checkpoint, or null when the folder holds weights only. */
export function loadTrainingState(dir: string): { optimizer: OptimizerState; trainerState: TrainerState } | null {
  recoverCheckpoint(dir, { discardIncomplete: false });
  const optPath = join(dir, CHECKPOINT_FILES.optimizer);
  const statePath = join(dir, CHECKPOINT_FILES.trainerState);
  if (!existsSync(optPath) || !existsSync(statePath)) return null;
  const trainerState = readJson(statePath, "trainer state") as TrainerState;
  if (!trainerState || !Number.isInteger(trainerState.step) || trainerState.step < 0) {
    throw new GeneraError("INDEX_CORRUPT", `${statePath} lacks a valid step`, { details: { path: statePath } });
  }
  const optimizer = optimizerStateFromSafetensors(loadSafetensors(optPath), optPath);
  if (optimizer.step !== trainerState.step) {
    throw new GeneraError(
      "INDEX_CORRUPT",
      `${optPath} is at step ${optimizer.step} but ${statePath} at step ${trainerState.step}; the checkpoint is inconsistent`,
    );
  }
  return { optimizer, trainerState };
}

/** True when `dir` holds a checkpoint (config.json present, possibly after finishing a committed save). */
export function isCheckpointDir(dir: string): boolean {
  if (!existsSync(dir)) return false;
  recoverCheckpoint(dir, { discardIncomplete: false });
  return existsSync(join(dir, CHECKPOINT_FILES.config));
}

/** Files of a checkpoint folder (for listings and tests). */
export function checkpointFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => !f.startsWith(".")) : [];
}

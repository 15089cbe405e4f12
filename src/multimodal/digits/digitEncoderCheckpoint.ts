import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSafetensors, saveSafetensors } from "../../engine/index.js";
import { GeneraError } from "../../errors.js";
import { atomicWriteFileSync } from "../../util/atomicWrite.js";
import { readFileOrThrow } from "../../util/readFileOrThrow.js";
import { DigitDualEncoder, type DigitDualEncoderConfig } from "./DigitDualEncoder.js";

/**
 * A digit dual encoder on disk: config.json ({ type, config, ... facts about training })
 * and model.safetensors (the engine's parameter names).
 */
export const DIGIT_ENCODER_TYPE = "genera-digit-dual-encoder";

/** The folder of the encoder shipped with genera (models/digit-dual-encoder at the package root). */
export function shippedDigitEncoderDir(): string {
  // Walk up from this file, so the path holds whether it runs from src/ or from a compiled copy.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "models", "digit-dual-encoder");
    if (existsSync(join(candidate, "config.json"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new GeneraError("MODEL_NOT_FOUND", "the shipped digit encoder (models/digit-dual-encoder) is missing", {
    details: { from: fileURLToPath(import.meta.url) },
  });
}

export function saveDigitEncoder(dir: string, model: DigitDualEncoder, facts: Record<string, unknown> = {}): void {
  const tensors = [...model.stateDict()].map(
    ([name, t]) => [name, { data: t.data, shape: t.shape }] as [string, { data: Float32Array; shape: number[] }],
  );
  saveSafetensors(join(dir, "model.safetensors"), tensors);
  atomicWriteFileSync(
    join(dir, "config.json"),
    `${JSON.stringify({ type: DIGIT_ENCODER_TYPE, config: model.config, ...facts }, null, 2)}\n`,
  );
}

export function loadDigitEncoder(dir: string): DigitDualEncoder {
  const folder = resolve(dir);
  const configPath = join(folder, "config.json");
  if (!existsSync(configPath)) {
    throw new GeneraError("MODEL_NOT_FOUND", `No digit encoder in ${folder} (config.json is missing)`, {
      details: { path: folder },
    });
  }
  let parsed: { type?: unknown; config?: DigitDualEncoderConfig };
  try {
    parsed = JSON.parse(readFileOrThrow(configPath, "digit encoder config", "utf8"));
  } catch (error) {
    if (error instanceof GeneraError) throw error;
    throw new GeneraError("INDEX_CORRUPT", `${configPath} is not valid JSON`, { cause: error });
  }
  if (parsed.type !== DIGIT_ENCODER_TYPE || typeof parsed.config !== "object") {
    throw new GeneraError("MODEL_MISMATCH", `${configPath} does not describe a ${DIGIT_ENCODER_TYPE}`, {
      details: { path: configPath, type: parsed.type },
    });
  }
  const model = new DigitDualEncoder(parsed.config);
  model.loadStateDict(loadSafetensors(join(folder, "model.safetensors")).tensors);
  return model.eval();
}

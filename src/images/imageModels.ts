import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Module } from "../engine/index.js";
import { GeneraError } from "../errors.js";
import { packageRoot } from "../util/packageVersion.js";
import { ConditionalGAN, ganRecipe } from "./ConditionalGAN.js";
import { ConvVAE, vaeRecipe } from "./ConvVAE.js";
import { DiffusionModel } from "./Diffusion.js";
import { diffusionRecipe, text2imageRecipe } from "./diffusionRecipes.js";
import type { ImageRecipe } from "./ImageRecipe.js";
import { type ImageModelKind, loadImageWeights, readImageModelFile } from "./imageCheckpoint.js";
import { classifierRecipe, LeNet } from "./LeNet.js";

/** Every kind of image model genera can train, by kind. */
export const IMAGE_RECIPES: Partial<Record<ImageModelKind, ImageRecipe>> = {
  classifier: classifierRecipe as unknown as ImageRecipe,
  vae: vaeRecipe as unknown as ImageRecipe,
  gan: ganRecipe as unknown as ImageRecipe,
  diffusion: diffusionRecipe as unknown as ImageRecipe,
  text2image: text2imageRecipe as unknown as ImageRecipe,
};

export function recipeFor(kind: string): ImageRecipe {
  const recipe = IMAGE_RECIPES[kind as ImageModelKind];
  if (!recipe) {
    throw new GeneraError(
      "INVALID_INPUT",
      `unknown image model kind ${JSON.stringify(kind)}; this build trains ${Object.keys(IMAGE_RECIPES).join(", ")}`,
      { details: { kind } },
    );
  }
  return recipe;
}

/** Where the image models that ship with genera live: models/images/<name>/. */
export function shippedImageModelsDir(): string {
  return join(packageRoot() ?? ".", "models", "images");
}

/** The names of the models shipped in models/images/, classifier first. */
export function shippedImageModelNames(): string[] {
  const dir = shippedImageModelsDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, "config.json")))
    .sort((a, b) => Number(b === "classifier") - Number(a === "classifier") || a.localeCompare(b));
}

export interface LoadedImageModel {
  kind: ImageModelKind;
  model: Module;
  dir: string;
  training?: Record<string, unknown>;
}

/** A model folder, or the name of a shipped model ("classifier", "vae", …). */
export function resolveImageModelDir(nameOrDir: string): string {
  if (existsSync(join(nameOrDir, "config.json"))) return nameOrDir;
  const shipped = join(shippedImageModelsDir(), nameOrDir);
  if (/^[a-z0-9-]+$/.test(nameOrDir) && existsSync(join(shipped, "config.json"))) return shipped;
  throw new GeneraError(
    "NOT_FOUND",
    `no image model at ${JSON.stringify(nameOrDir)}: give a folder written by \`genera images train\` or a shipped model name`,
    { details: { model: nameOrDir } },
  );
}

export function loadImageModel(nameOrDir: string): LoadedImageModel {
  const dir = resolveImageModelDir(nameOrDir);
  const file = readImageModelFile(dir);
  const recipe = recipeFor(file.kind);
  let model: Module;
  try {
    model = recipe.restore(file.config);
  } catch (error) {
    throw new GeneraError(
      "INDEX_CORRUPT",
      `${dir}/config.json has an invalid ${file.kind} config: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  loadImageWeights(dir, model);
  return { kind: file.kind, model, dir, training: file.training };
}

/** The judge: a trained classifier (the shipped one unless told otherwise). */
export function loadJudge(nameOrDir = "classifier"): LeNet {
  const loaded = loadImageModel(nameOrDir);
  if (!(loaded.model instanceof LeNet)) {
    throw new GeneraError("INVALID_INPUT", `${loaded.dir} is a ${loaded.kind}, not a classifier`);
  }
  return loaded.model;
}

export { ConditionalGAN, ConvVAE, DiffusionModel, LeNet };

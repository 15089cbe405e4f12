import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { GeneraError } from "../../errors.js";
import { ImageGenerator, type ImageRequest, MAX_IMAGES } from "../../images/ImageGenerator.js";
import { shippedImageModelsDir } from "../../images/imageModels.js";

/** The image generators genera ships (models/images/<name>), in the order a default is chosen. */
export const IMAGE_GENERATOR_NAMES = ["vae", "gan", "diffusion", "text2image"] as const;

const DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/** What generate_image returns besides its text: where the PNG is and what drew it. */
export interface GeneratedImageArtifact {
  path: string;
  /** Where a client fetches the PNG, when the tool was given a `urlPrefix` (a server's route). */
  url?: string;
  mimeType: "image/png";
  model: string;
  count: number;
  seed: number;
}

export interface ImageToolOptions {
  /** Generator names (or model folders) the agent may use; the first is the default. */
  models: string[];
  /** Where the PNGs go (created when missing); default <tmp>/genera-images. */
  outDir?: string;
  /**
   * The route that serves `outDir` (e.g. "/api/agent/images"): the tool then answers the
   * PNG's URL, not its path on this machine, and the artifact carries it.
   */
  urlPrefix?: string;
  /** Opens a generator by name (tests pass their own); default: the ImageGenerator Runnable. */
  open?: (model: string) => Pick<ImageGenerator, "invoke">;
}

/** The shipped generator models present in this installation (the classifier draws nothing). */
export function shippedImageGenerators(dir = shippedImageModelsDir()): string[] {
  return IMAGE_GENERATOR_NAMES.filter((name) => existsSync(join(dir, name, "config.json")));
}

/**
 * generate_image: draws images with one of genera's image generators (the ImageGenerator
 * Runnable), writes them as one PNG grid and answers its path; the artifact carries the
 * path and what drew it, for interfaces that show the picture.
 */
export function createGenerateImageTool(options: ImageToolOptions) {
  const [first, ...rest] = options.models;
  if (first === undefined) throw new GeneraError("INVALID_INPUT", "generate_image needs at least one image model");
  const outDir = options.outDir ?? join(tmpdir(), "genera-images");
  const open = options.open ?? ((model: string) => new ImageGenerator({ model }));
  // Loading a model reads its weights: once per model, on first use.
  const generators = new Map<string, Pick<ImageGenerator, "invoke">>();
  return tool(
    async ({ model = first, n = 4, digit, prompt, seed }) => {
      let generator = generators.get(model);
      if (!generator) {
        generator = open(model);
        generators.set(model, generator);
      }
      const request: ImageRequest = { n, seed: seed ?? Math.floor(Math.random() * 2 ** 31) };
      if (prompt !== undefined) request.prompt = prompt;
      // A text-to-image model is asked for a digit in words, the way it was trained.
      const textToImage = (generator as { loaded?: { kind?: string } }).loaded?.kind === "text2image";
      if (digit !== undefined && textToImage && prompt === undefined) request.prompt = `a handwritten ${DIGITS[digit]}`;
      else if (digit !== undefined) request.digit = digit;
      const result = await generator.invoke(request);
      mkdirSync(outDir, { recursive: true });
      // A fresh name per call: a drawing never replaces an earlier one.
      const name = `${model.replace(/[^\w-]+/g, "_")}-${Date.now()}-${randomBytes(3).toString("hex")}.png`;
      const path = join(outDir, name);
      writeFileSync(path, result.png);
      const url = options.urlPrefix ? `${options.urlPrefix.replace(/\/+$/, "")}/${name}` : undefined;
      const artifact: GeneratedImageArtifact = {
        path,
        ...(url ? { url } : {}),
        mimeType: "image/png",
        model,
        count: result.count,
        seed: request.seed as number,
      };
      const what = digit !== undefined ? ` of the digit ${digit}` : prompt ? ` of "${prompt}"` : "";
      return [
        `Drew ${result.count} image${result.count === 1 ? "" : "s"}${what} with ${model}: ${url ?? path}`,
        artifact,
      ];
    },
    {
      name: "generate_image",
      description:
        "Draws images (handwritten digits) with one of genera's image generators and saves them as a PNG grid; " +
        "answers the file's path.",
      responseFormat: "content_and_artifact",
      schema: z.object({
        model: z
          .enum([first, ...rest] as [string, ...string[]])
          .optional()
          .describe(`The generator (default ${first})`),
        n: z.number().int().min(1).max(MAX_IMAGES).optional().describe("How many images (default 4)"),
        digit: z
          .number()
          .int()
          .min(0)
          .max(9)
          .optional()
          .describe("The digit to draw (class-conditional and text-to-image models)"),
        prompt: z.string().max(500).optional().describe("What to draw, in words (text-to-image models)"),
        seed: z.number().int().min(0).optional().describe("Seed of the sampling noise (same seed, same images)"),
      }),
    },
  );
}

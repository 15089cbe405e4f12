import { Router } from "express";
import { z } from "zod";
import type { ImageGenerator } from "../../images/ImageGenerator.js";
import { parseInput } from "../httpErrors.js";

/** What POST /api/images accepts; `model` names a shipped generator, never a path. */
const GenerateBody = z
  .object({
    model: z
      .string()
      .regex(/^[a-z0-9-]{1,40}$/, "must be the name of a shipped image model, such as vae")
      .default("vae"),
    n: z.number().int().min(1).max(64).default(16),
    digit: z.number().int().min(0).max(9).optional(),
    prompt: z.string().min(1).max(300).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
  })
  .strict();

/**
 * POST /images draws digits with one of the shipped generators and answers the grid as
 * image/png (the seed used is in the X-Seed header, so a grid can be drawn again). The
 * image modules load on the first request, not at server start.
 */
export function imageGenerationRouter(): Router {
  const router = Router();
  const generators = new Map<string, ImageGenerator>();
  router.post("/images", async (req, res, next) => {
    try {
      const body = parseInput(GenerateBody, req.body ?? {}, "image request");
      let generator = generators.get(body.model);
      if (!generator) {
        const { ImageGenerator } = await import("../../images/ImageGenerator.js");
        generator = new ImageGenerator({ model: body.model });
        generators.set(body.model, generator);
      }
      const seed = body.seed ?? Math.floor(Math.random() * 2 ** 31);
      const result = await generator.invoke({ n: body.n, digit: body.digit, prompt: body.prompt, seed });
      res.setHeader("Content-Type", "image/png");
      res.setHeader("X-Seed", String(seed));
      res.setHeader("Cache-Control", "no-store");
      res.send(result.png);
    } catch (error) {
      next(error);
    }
  });
  return router;
}

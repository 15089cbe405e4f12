import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { GeneraError } from "../../errors.js";
import { evaluateImageModel, type ImageModelReport } from "../../images/evaluateImageModel.js";
import { ImageGenerator } from "../../images/ImageGenerator.js";
import { readImageModelFile } from "../../images/imageCheckpoint.js";
import {
  IMAGE_RECIPES,
  loadImageModel,
  loadJudge,
  recipeFor,
  shippedImageModelNames,
} from "../../images/imageModels.js";
import { loadMnist } from "../../images/mnist.js";
import { encodePng, toGray } from "../../images/png.js";
import { type ImageTrainProgress, trainImageModel } from "../../images/trainImageModel.js";
import { numberFlag } from "../flags.js";
import { createProgressReporter, stopOnInterrupt } from "../progress.js";

const KINDS = Object.keys(IMAGE_RECIPES).join("|");

function formatMetrics(metrics: Record<string, number> = {}): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k} ${Math.abs(v) < 1e-2 || Math.abs(v) >= 1e4 ? v.toExponential(2) : v.toFixed(4)}`)
    .join(", ");
}

export function register(program: Command): void {
  const images = program
    .command("images")
    .description("train, sample and evaluate image models on MNIST (classifier, VAE, GAN, diffusion, text to image)");

  images
    .command("train")
    .description("train an image model on MNIST; writes the model, metrics.jsonl and loss.svg")
    .option("--kind <kind>", `${KINDS} (with --resume: the folder's)`)
    .requiredOption("--out <dir>", "folder to write the model to")
    .option("--resume", "continue the training saved in --out from its last checkpoint (exactly as if never stopped)")
    .option("--epochs <x>", "passes over the 60,000 training digits", numberFlag("--epochs", { min: 0.001 }))
    .option("--steps <n>", "optimizer steps (instead of --epochs)", numberFlag("--steps", { integer: true, min: 1 }))
    .option("--batch-size <n>", "digits per step", numberFlag("--batch-size", { integer: true, min: 1 }))
    .option("--lr <x>", "peak learning rate (AdamW)", numberFlag("--lr", { min: 0 }))
    .option(
      "--max-minutes <x>",
      "time budget: the learning-rate decay is fitted to it and training stops (saving the model) when it ends",
      numberFlag("--max-minutes", { min: 0 }),
    )
    .option(
      "--train-limit <n>",
      "use only the first n training digits",
      numberFlag("--train-limit", { integer: true, min: 1 }),
    )
    .option("--seed <n>", "random seed", numberFlag("--seed", { integer: true, min: 0 }))
    .option("--overwrite", "replace a model already in --out")
    .option("--init <dir|name>", "start from this model's weights where they fit (text2image: --init diffusion)")
    .option("--json", "print the result as one JSON object")
    .action(async (opts) => {
      if (!opts.kind && !opts.resume) throw new GeneraError("INVALID_INPUT", `--kind is required (${KINDS})`);
      const recipe = recipeFor(opts.kind ?? readImageModelFile(opts.out).kind);
      // Ctrl-C stops at the next step with a checkpoint; a second Ctrl-C quits at once.
      const interrupt = stopOnInterrupt();
      const progress = createProgressReporter(`train ${recipe.kind}`, { plainIntervalMs: 5000 });
      let evalText = "--";
      const onProgress = (e: ImageTrainProgress) => {
        if (e.type === "eval") {
          evalText = formatMetrics(e.metrics);
          if (!process.stderr.isTTY) process.stderr.write(`eval step ${e.step}: ${evalText}\n`);
        } else if (e.type === "step") {
          progress.update({
            done: e.step,
            total: e.totalSteps,
            etaSeconds: e.etaSeconds,
            // A GAN reports both players' losses; other models one loss.
            fields:
              e.metrics?.d_loss !== undefined
                ? {
                    d_loss: e.metrics.d_loss.toFixed(3),
                    g_loss: (e.metrics.g_loss ?? Number.NaN).toFixed(3),
                    eval: evalText,
                  }
                : { loss: (e.metrics?.loss ?? Number.NaN).toFixed(4), eval: evalText },
          });
        }
      };
      let result: Awaited<ReturnType<typeof trainImageModel>>;
      try {
        result = await trainImageModel({
          recipe,
          outDir: opts.out,
          overwrite: Boolean(opts.overwrite),
          epochs: opts.epochs,
          steps: opts.steps,
          batchSize: opts.batchSize,
          lr: opts.lr,
          maxSeconds: opts.maxMinutes !== undefined ? opts.maxMinutes * 60 : undefined,
          trainLimit: opts.trainLimit,
          seed: opts.seed,
          resume: Boolean(opts.resume),
          init: opts.init,
          signal: interrupt.signal,
          onProgress,
        });
      } finally {
        progress.stop();
        interrupt.dispose();
      }
      const summary = {
        out: opts.out,
        kind: recipe.kind,
        steps: result.steps,
        seconds: result.seconds,
        eval: result.eval,
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      process.stdout.write(
        `${recipe.kind}: ${result.steps} steps in ${Math.round(result.seconds)} s; test ${formatMetrics(result.eval)}\n` +
          `model, metrics.jsonl and loss.svg in ${opts.out}\n`,
      );
    });

  images
    .command("sample")
    .description("draw digits with a trained generator and write them as PNG")
    .requiredOption(
      "--model <dir|name>",
      "a folder written by `genera images train`, or a shipped model (vae, gan, text2image)",
    )
    .option(
      "--digit <d>",
      "the digit to draw (class-conditional models)",
      numberFlag("--digit", { integer: true, min: 0, max: 9 }),
    )
    .option("--prompt <text>", "a description of the image (text-to-image models)")
    .option("--n <n>", "how many images", numberFlag("--n", { integer: true, min: 1, max: 64 }), 16)
    .option("--seed <n>", "seed of the sampling noise", numberFlag("--seed", { integer: true, min: 0 }))
    .option(
      "--guidance <w>",
      "diffusion models: classifier-free guidance scale (1 = none)",
      numberFlag("--guidance", { min: 0, max: 20 }),
    )
    .option(
      "--steps <n>",
      "diffusion models: DDIM sampling steps",
      numberFlag("--steps", { integer: true, min: 1, max: 1000 }),
    )
    .option("--out <file>", "the grid as one PNG", "samples.png")
    .option("--out-dir <dir>", "also write each sample as its own 28×28 PNG here")
    .action(async (opts) => {
      const generator = new ImageGenerator({ model: opts.model });
      const result = await generator.invoke({
        n: opts.n,
        digit: opts.digit,
        prompt: opts.prompt,
        seed: opts.seed,
        guidance: opts.guidance,
        steps: opts.steps,
      });
      mkdirSync(dirname(opts.out), { recursive: true });
      writeFileSync(opts.out, result.png);
      if (opts.outDir) {
        mkdirSync(opts.outDir, { recursive: true });
        for (let i = 0; i < result.count; i++) {
          const pixels = result.images.subarray(i * 784, (i + 1) * 784);
          writeFileSync(
            join(opts.outDir, `sample-${String(i).padStart(2, "0")}.png`),
            encodePng(toGray(pixels, 28, 28)),
          );
        }
      }
      process.stdout.write(
        `${result.count} samples → ${opts.out}${opts.outDir ? ` and ${result.count} files in ${opts.outDir}` : ""}\n`,
      );
    });

  images
    .command("eval")
    .description("measure image models: test accuracy / NELBO, judged accuracy, coverage, Fréchet distance")
    .option("--model <dir|name...>", "models to measure (default: the shipped ones)")
    .option("--judge <dir|name>", "the classifier that judges samples", "classifier")
    .option("--samples <n>", "samples per generator", numberFlag("--samples", { integer: true, min: 10 }), 1000)
    .option(
      "--phrasings <set>",
      "text2image prompts: held-out (the reported measure) or dev (for design decisions)",
      "held-out",
    )
    .option("--json", "print the reports as JSON")
    .action(async (opts) => {
      if (!["held-out", "dev"].includes(opts.phrasings)) {
        throw new GeneraError(
          "INVALID_INPUT",
          `--phrasings must be held-out or dev, got ${JSON.stringify(opts.phrasings)}`,
        );
      }
      const names: string[] = opts.model ?? shippedImageModelNames();
      const judge = loadJudge(opts.judge);
      const test = loadMnist("test");
      const reports: ImageModelReport[] = [];
      for (const name of names) {
        const loaded = loadImageModel(name);
        reports.push(
          await evaluateImageModel(loaded, judge, test, { samples: opts.samples, phrasings: opts.phrasings }),
        );
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
        return;
      }
      for (const r of reports) process.stdout.write(`${formatReport(r)}\n`);
    });
}

function formatReport(r: ImageModelReport): string {
  const lines = [`${r.kind} (${r.model})`];
  if (r.testAccuracy !== undefined) lines.push(`  test accuracy        ${(r.testAccuracy * 100).toFixed(2)}%`);
  if (r.testNelbo !== undefined) lines.push(`  test negative ELBO   ${r.testNelbo.toFixed(2)} nats`);
  if (r.judgedAccuracy !== undefined) {
    const set = r.phrasings === "dev" ? "development " : "";
    const where = r.heldOutPhrasings ? ` (prompts in ${r.heldOutPhrasings} ${set}phrasings never trained on)` : "";
    lines.push(`  judged accuracy      ${(r.judgedAccuracy * 100).toFixed(1)}%${where}`);
  }
  if (r.promptAccuracy !== undefined) {
    lines.push(
      `  prompt read right    ${(r.promptAccuracy * 100).toFixed(1)}% (the prompt reader's digit, before drawing)`,
    );
  }
  if (r.judgedAccuracyByDigit) {
    lines.push(`  … per digit 0–9      ${r.judgedAccuracyByDigit.map((a) => `${Math.round(a * 100)}%`).join(" ")}`);
  }
  if (r.coverage) {
    lines.push(
      `  coverage             ${r.coverage.digitsPresent}/10 digits, ${r.coverage.effectiveClasses.toFixed(2)} effective classes (${r.coverage.histogram.join(" ")})`,
    );
  }
  if (r.relativeSpread !== undefined)
    lines.push(`  within-class spread  ${r.relativeSpread.toFixed(2)} × real digits'`);
  if (r.frechet) {
    lines.push(
      `  Fréchet distance     ${r.frechet.samples.toFixed(2)} (floor ${r.frechet.floor.toFixed(2)}, noise ceiling ${r.frechet.ceiling.toFixed(2)})`,
    );
  }
  return lines.join("\n");
}

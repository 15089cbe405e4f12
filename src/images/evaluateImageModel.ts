import { Tensor } from "../engine/index.js";
import { ConvVAE, vaeNegativeElbo } from "./ConvVAE.js";
import { captionsOf, DEV_TEMPLATES, HELD_OUT_TEMPLATES } from "./captions.js";
import { DiffusionModel } from "./Diffusion.js";
import { ImageGenerator } from "./ImageGenerator.js";
import type { LoadedImageModel } from "./imageModels.js";
import { classifierAccuracy, LeNet } from "./LeNet.js";
import { coverage, frechetDistance, frechetReference, judgeFeatures, withinClassSpread } from "./measures.js";
import type { MnistSet } from "./mnist.js";
import { encodePrompts, PROMPT_DIMENSION, type PromptBatch } from "./promptEncoder.js";

export interface ImageModelReport {
  model: string;
  kind: string;
  /** Classifier: accuracy on the test set. */
  testAccuracy?: number;
  /** VAE: test negative ELBO (nats per image). */
  testNelbo?: number;
  samples?: number;
  /**
   * Conditional generators: the judge's accuracy on samples of the digit asked for
   * (text-to-image: asked for in phrasings never used in training).
   */
  judgedAccuracy?: number;
  /** The same per digit asked for, 0–9. */
  judgedAccuracyByDigit?: number[];
  /** Text-to-image: how many phrasings (none trained on) the prompts were written in. */
  heldOutPhrasings?: number;
  /** Text-to-image: which set of phrasings, the held-out one or the one for design decisions. */
  phrasings?: PhrasingSet;
  /**
   * Text-to-image: the share of held-out prompts whose digit the prompt reader reads right
   * (its most likely digit), apart from how well the U-Net then draws it.
   */
  promptAccuracy?: number;
  coverage?: { digitsPresent: number; effectiveClasses: number; histogram: number[] };
  /** Within-class spread of samples relative to real test digits' (1 = as varied as real ones). */
  relativeSpread?: number;
  frechet?: { samples: number; floor: number; ceiling: number };
}

/**
 * Text-to-image prompts: the held-out phrasings (the measure that is reported) or the
 * development ones (for choosing between designs without looking at the held-out set).
 */
export type PhrasingSet = "held-out" | "dev";

/** Samples to draw, and the digit each is asked for (none for unconditional models). */
interface SamplePlan {
  count: number;
  digits?: Int32Array;
  promptAccuracy?: number;
  draw(start: number, count: number, seed: number): Float32Array;
}

async function samplePlan(loaded: LoadedImageModel, n: number, phrasings: PhrasingSet): Promise<SamplePlan> {
  const generator = new ImageGenerator({ model: loaded });
  const { model } = loaded;
  if (generator.takesDigit) {
    // Equal numbers of each digit, in runs of one digit.
    const per = Math.max(1, Math.round(n / 10));
    const digits = Int32Array.from({ length: per * 10 }, (_, i) => Math.floor(i / per));
    return {
      count: digits.length,
      digits,
      draw: (start, count, seed) =>
        drawRuns(digits, start, count, (digit, m, s) => generator.generate({ n: m, digit, seed: s }).images, seed),
    };
  }
  if (!(model instanceof DiffusionModel && model.conditioning === "text")) {
    return { count: n, draw: (_start, count, seed) => generator.generate({ n: count, seed }).images };
  }
  // Text-to-image: every caption of the set (phrasings × 10 digits), the same number of samples each.
  const captions = captionsOf(phrasings === "dev" ? DEV_TEMPLATES : HELD_OUT_TEMPLATES);
  const batch = await encodePrompts(captions.map((c) => c.text));
  const per = Math.max(1, Math.round(n / captions.length));
  const weights = model.promptClassWeights(batch).data;
  let right = 0;
  captions.forEach((c, i) => {
    const row = Array.from(weights.subarray(i * 11, i * 11 + 10));
    if (row.indexOf(Math.max(...row)) === c.digit) right++;
  });
  const promptAccuracy = right / captions.length;
  // Where each caption's words start in the batch.
  const starts = new Int32Array(captions.length + 1);
  batch.lengths.forEach((length, i) => {
    starts[i + 1] = starts[i] + length;
  });
  const captionOf = Int32Array.from({ length: per * captions.length }, (_, i) => Math.floor(i / per));
  return {
    count: captionOf.length,
    digits: captionOf.map((c) => captions[c].digit),
    promptAccuracy,
    draw: (start, count, seed) =>
      drawRuns(
        captionOf,
        start,
        count,
        (c, m, s) => {
          const promptVectors: PromptBatch = {
            vectors: batch.vectors.subarray(starts[c] * PROMPT_DIMENSION, starts[c + 1] * PROMPT_DIMENSION),
            lengths: Int32Array.of(batch.lengths[c]),
          };
          return generator.generate({ n: m, seed: s }, { promptVectors }).images;
        },
        seed,
      ),
  };
}

/** Draws samples start..start+count, one call per run of equal keys (a digit or a caption). */
function drawRuns(
  keys: Int32Array,
  start: number,
  count: number,
  draw: (key: number, n: number, seed: number) => Float32Array,
  seed: number,
): Float32Array {
  const out = new Float32Array(count * 784);
  let i = start;
  while (i < start + count) {
    let j = i;
    while (j < start + count && keys[j] === keys[i]) j++;
    out.set(draw(keys[i], j - i, seed + i), (i - start) * 784);
    i = j;
  }
  return out;
}

/** Every measure that applies to a model (see measures.ts), against the test set and the judge. */
export async function evaluateImageModel(
  loaded: LoadedImageModel,
  judge: LeNet,
  test: MnistSet,
  options: { samples?: number; seed?: number; phrasings?: PhrasingSet } = {},
): Promise<ImageModelReport> {
  const report: ImageModelReport = { model: loaded.dir, kind: loaded.kind };
  const { model } = loaded;
  if (model instanceof LeNet) {
    report.testAccuracy = classifierAccuracy(model, test).accuracy;
    return report;
  }
  if (model instanceof ConvVAE) report.testNelbo = vaeNegativeElbo(model, test).nelbo;
  const phrasings = options.phrasings ?? "held-out";
  const plan = await samplePlan(loaded, options.samples ?? 1000, phrasings);
  const n = plan.count;
  const images = new Float32Array(n * 784);
  for (let start = 0, chunk = 0; start < n; start += 64, chunk++) {
    const m = Math.min(64, n - start);
    images.set(plan.draw(start, m, (options.seed ?? 1) * 1000 + chunk * 64), start * 784);
  }
  const features = judgeFeatures(judge, images, n);
  const predicted = judge.predict(new Tensor(images, [n, 1, 28, 28]));
  if (plan.digits) {
    const asked = plan.digits;
    const hits = new Array<number>(10).fill(0);
    const totals = new Array<number>(10).fill(0);
    asked.forEach((d, i) => {
      totals[d]++;
      if (predicted[i] === d) hits[d]++;
    });
    report.judgedAccuracy = hits.reduce((a, b) => a + b, 0) / n;
    report.judgedAccuracyByDigit = hits.map((h, d) => (totals[d] ? h / totals[d] : 0));
    if (model instanceof DiffusionModel && model.conditioning === "text") {
      report.heldOutPhrasings = (phrasings === "dev" ? DEV_TEMPLATES : HELD_OUT_TEMPLATES).length;
      report.phrasings = phrasings;
      report.promptAccuracy = plan.promptAccuracy;
    }
  }
  const cov = coverage(predicted);
  const realCount = Math.min(n, test.count);
  const realFeatures = judgeFeatures(judge, test.images.subarray(0, realCount * 784), realCount);
  const realClasses = Int32Array.from(test.labels.subarray(0, realCount));
  const spread = withinClassSpread(features, predicted) / withinClassSpread(realFeatures, realClasses);
  const reference = frechetReference(judge, test, n);
  report.samples = n;
  report.coverage = cov;
  report.relativeSpread = spread;
  report.frechet = { samples: frechetDistance(features, realFeatures), ...reference };
  return report;
}

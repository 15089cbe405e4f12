import { AdamW, cosineWithWarmup, noGrad, seededRandom, Tensor } from "../../engine/index.js";
import { GeneraError } from "../../errors.js";
import type { MnistSet } from "../../images/mnist.js";
import { DEFAULT_DIGIT_ENCODER_CONFIG, DigitDualEncoder, type DigitDualEncoderConfig } from "./DigitDualEncoder.js";
import { DIGIT_NAMES, digitCaption, HELD_OUT_TEMPLATES, TRAIN_TEMPLATES } from "./digitCaptions.js";
import { hashedTextFeatures } from "./textFeatures.js";

export interface TrainDigitEncoderOptions {
  train: MnistSet;
  /** Held-out digits for the validation figures (e.g. the MNIST test split). */
  validation?: MnistSet;
  config?: DigitDualEncoderConfig;
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Validate every this many steps (and at the end). */
  evalEvery?: number;
  onProgress?: (event: DigitTrainingProgress) => void;
}

export interface DigitTrainingProgress {
  step: number;
  steps: number;
  loss: number;
  accuracy: number;
  /** Set on validation steps: images matched to the right digit among ten held-out-phrasing captions. */
  validationAccuracy?: number;
}

export interface DigitTrainingResult {
  model: DigitDualEncoder;
  history: DigitTrainingProgress[];
  validationAccuracy?: number;
}

/**
 * Trains the dual encoder on MNIST with generated captions. Each step draws a batch of
 * digits and one fresh caption per digit class (ten captions, TRAIN_TEMPLATES only),
 * and asks each image to pick its own class's caption (CLIP's image→text loss over a
 * caption set without duplicate classes, so there are no false negatives).
 * Images are shifted by up to two pixels, so the encoder does not rely on MNIST's exact centring.
 */
export function trainDigitEncoder(options: TrainDigitEncoderOptions): DigitTrainingResult {
  const config = options.config ?? DEFAULT_DIGIT_ENCODER_CONFIG;
  const { train } = options;
  if (train.rows !== config.imageSize || train.cols !== config.imageSize) {
    throw new GeneraError(
      "INVALID_INPUT",
      `training images are ${train.rows}×${train.cols}; the encoder takes ${config.imageSize}×${config.imageSize}`,
    );
  }
  const steps = options.steps ?? 1500;
  const batchSize = options.batchSize ?? 128;
  const evalEvery = options.evalEvery ?? 250;
  const rng = seededRandom(options.seed ?? 1);
  const model = new DigitDualEncoder(config, options.seed ?? 1);
  const peakLr = options.lr ?? 3e-3;
  const schedule = cosineWithWarmup({
    lr: peakLr,
    warmupSteps: Math.min(100, Math.floor(steps / 10)),
    totalSteps: steps,
  });
  const optimizer = new AdamW(model.namedParameters(), { lr: peakLr, weightDecay: 1e-4 });
  const pixels = config.imageSize * config.imageSize;
  const history: DigitTrainingProgress[] = [];
  let validationAccuracy: number | undefined;

  for (let step = 1; step <= steps; step++) {
    const images = new Float32Array(batchSize * pixels);
    const targets = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) {
      const index = Math.floor(rng() * train.count);
      targets[b] = train.labels[index] as number;
      shiftInto(train, index, Math.floor(rng() * 5) - 2, Math.floor(rng() * 5) - 2, images, b * pixels);
    }
    const captions = captionFeatures(
      DIGIT_NAMES.map((_, label) => digitCaption(label, rng, TRAIN_TEMPLATES)),
      config.textBuckets,
    );
    optimizer.lr = schedule(step - 1);
    optimizer.zeroGrad();
    const { loss, accuracy } = model.forward({ pixels: new Tensor(images, [batchSize, pixels]), captions, targets });
    loss.backward();
    optimizer.step();
    const event: DigitTrainingProgress = { step, steps, loss: loss.item(), accuracy };
    if (options.validation && (step % evalEvery === 0 || step === steps)) {
      validationAccuracy = zeroShotAccuracy(model, options.validation, HELD_OUT_TEMPLATES);
      event.validationAccuracy = validationAccuracy;
    }
    history.push(event);
    options.onProgress?.(event);
  }
  return { model: model.eval(), history, validationAccuracy };
}

/** Rows of hashed features for each text, as the text tower takes them. */
export function captionFeatures(texts: readonly string[], buckets: number): Tensor {
  const out = new Float32Array(texts.length * buckets);
  texts.forEach((text, i) => {
    hashedTextFeatures(text, buckets, out.subarray(i * buckets, (i + 1) * buckets));
  });
  return new Tensor(out, [texts.length, buckets]);
}

/**
 * Share of `set`'s images whose nearest caption, among one caption per digit written
 * with each template in turn, is their own digit's: classification by text alone.
 */
export function zeroShotAccuracy(
  model: DigitDualEncoder,
  set: MnistSet,
  templates: readonly string[],
  limit = 2000,
): number {
  return noGrad(() => {
    const count = Math.min(set.count, limit);
    const pixels = set.rows * set.cols;
    const images = model.encodeImages({ pixels: new Tensor(set.images.slice(0, count * pixels), [count, pixels]) });
    const dim = model.config.dim;
    let correct = 0;
    for (const template of templates) {
      const captions = DIGIT_NAMES.map((names) => template.replaceAll("{d}", names[1] ?? (names[0] as string)));
      const texts = model.encodeTexts({ features: captionFeatures(captions, model.config.textBuckets) });
      for (let i = 0; i < count; i++) {
        let best = 0;
        let bestScore = Number.NEGATIVE_INFINITY;
        for (let c = 0; c < 10; c++) {
          let score = 0;
          for (let j = 0; j < dim; j++) score += images.data[i * dim + j]! * texts.data[c * dim + j]!;
          if (score > bestScore) {
            bestScore = score;
            best = c;
          }
        }
        if (best === set.labels[i]) correct++;
      }
    }
    return correct / (count * templates.length);
  });
}

/** Copies image `index` of `set` into `out` at `offset`, moved by (dx, dy) pixels with black filling in. */
function shiftInto(set: MnistSet, index: number, dx: number, dy: number, out: Float32Array, offset: number): void {
  const { rows, cols } = set;
  const base = index * rows * cols;
  for (let y = 0; y < rows; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= rows) continue;
    for (let x = 0; x < cols; x++) {
      const sx = x - dx;
      if (sx >= 0 && sx < cols) out[offset + y * cols + x] = set.images[base + sy * cols + sx] as number;
    }
  }
}

import { Tensor } from "../engine/index.js";
import { ConvVAE, vaeNegativeElbo } from "./ConvVAE.js";
import { ImageGenerator } from "./ImageGenerator.js";
import type { LoadedImageModel } from "./imageModels.js";
import { classifierAccuracy, LeNet } from "./LeNet.js";
import { coverage, frechetDistance, frechetReference, judgeFeatures, withinClassSpread } from "./measures.js";
import type { MnistSet } from "./mnist.js";

export interface ImageModelReport {
  model: string;
  kind: string;
  /** Classifier: accuracy on the test set. */
  testAccuracy?: number;
  /** VAE: test negative ELBO (nats per image). */
  testNelbo?: number;
  samples?: number;
  /** Conditional generators: the judge's accuracy on samples of the digit asked for. */
  judgedAccuracy?: number;
  coverage?: { digitsPresent: number; effectiveClasses: number; histogram: number[] };
  /** Within-class spread of samples relative to real test digits' (1 = as varied as real ones). */
  relativeSpread?: number;
  frechet?: { samples: number; floor: number; ceiling: number };
}

/** Every measure that applies to a model (see measures.ts), against the test set and the judge. */
export function evaluateImageModel(
  loaded: LoadedImageModel,
  judge: LeNet,
  test: MnistSet,
  options: { samples?: number; seed?: number } = {},
): ImageModelReport {
  const report: ImageModelReport = { model: loaded.dir, kind: loaded.kind };
  const { model } = loaded;
  if (model instanceof LeNet) {
    report.testAccuracy = classifierAccuracy(model, test).accuracy;
    return report;
  }
  if (model instanceof ConvVAE) report.testNelbo = vaeNegativeElbo(model, test).nelbo;
  const n = options.samples ?? 1000;
  const generator = new ImageGenerator({ model: loaded });
  const images = new Float32Array(n * 784);
  // A conditional generator is asked for each digit in turn, n/10 times each.
  const asked = generator.takesDigit ? Int32Array.from({ length: n }, (_, i) => Math.floor((i * 10) / n)) : undefined;
  for (let start = 0, chunk = 0; start < n; chunk++) {
    let m = Math.min(64, n - start);
    const digit = asked?.[start];
    if (asked) while (m > 1 && asked[start + m - 1] !== digit) m--;
    images.set(generator.generate({ n: m, digit, seed: (options.seed ?? 1) * 1000 + chunk }).images, start * 784);
    start += m;
  }
  const features = judgeFeatures(judge, images, n);
  const predicted = judge.predict(new Tensor(images, [n, 1, 28, 28]));
  if (asked) report.judgedAccuracy = predicted.filter((p, i) => p === asked[i]).length / n;
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

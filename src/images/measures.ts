import { noGrad, SeededRng, Tensor } from "../engine/index.js";
import type { LeNet } from "./LeNet.js";
import type { MnistSet } from "./mnist.js";

/**
 * How good are generated digits? Three measures, all read through the judge (the
 * trained LeNet classifier):
 * - judged accuracy: the share of samples asked for digit d that the judge calls d;
 * - coverage: which digits appear at all, and how evenly (entropy of the judged classes,
 *   10 = all ten equally often), plus within-class diversity (mean distance between two
 *   samples of a class in the judge's feature space, relative to real digits');
 * - a Fréchet distance between the judge's 128-d features of the samples and of the test
 *   set (FID, Heusel et al. 2017, with our judge in place of Inception): the distance
 *   between two Gaussians fitted to the features,
 *     FD = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½).
 *   It is only comparable to itself, so it is reported beside a floor (one half of the
 *   test set against the other) and a ceiling (uniform noise against the test set).
 */

/** The judge's penultimate features of images [N, 784] (0..1 pixels), in batches. */
export function judgeFeatures(judge: LeNet, images: Float32Array, count: number, batchSize = 500): Float64Array[] {
  const out: Float64Array[] = [];
  const wasTraining = judge.training;
  judge.eval();
  noGrad(() => {
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const x = new Tensor(images.slice(start * 784, (start + n) * 784), [n, 1, 28, 28]);
      const f = judge.features(x);
      const d = f.shape[1];
      for (let i = 0; i < n; i++) out.push(Float64Array.from(f.data.subarray(i * d, (i + 1) * d)));
    }
  });
  judge.train(wasTraining);
  return out;
}

/** Mean and covariance (unbiased) of feature vectors. */
function gaussianFit(features: Float64Array[]): { mean: Float64Array; cov: Float64Array } {
  const n = features.length;
  const d = features[0].length;
  const mean = new Float64Array(d);
  for (const f of features) for (let i = 0; i < d; i++) mean[i] += f[i] / n;
  const cov = new Float64Array(d * d);
  for (const f of features) {
    for (let i = 0; i < d; i++) {
      const a = f[i] - mean[i];
      if (a === 0) continue;
      for (let j = i; j < d; j++) cov[i * d + j] += a * (f[j] - mean[j]);
    }
  }
  for (let i = 0; i < d; i++)
    for (let j = i; j < d; j++) {
      cov[i * d + j] /= Math.max(1, n - 1);
      cov[j * d + i] = cov[i * d + j];
    }
  return { mean, cov };
}

/** Eigenvalues and eigenvectors (columns of V) of a symmetric matrix, by cyclic Jacobi rotations. */
export function symmetricEigen(matrix: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i];
  return { values, vectors: v };
}

function matmulSquare(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) c[i * d + j] += aik * b[k * d + j];
    }
  return c;
}

/**
 * Fréchet distance between Gaussians fitted to two feature sets. Tr((Σ₁Σ₂)^½) is the sum
 * of the square roots of the eigenvalues of Σ₁^½ Σ₂ Σ₁^½ (symmetric, PSD, and similar to Σ₁Σ₂).
 */
export function frechetDistance(a: Float64Array[], b: Float64Array[]): number {
  const d = a[0].length;
  const fa = gaussianFit(a);
  const fb = gaussianFit(b);
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (fa.mean[i] - fb.mean[i]) ** 2;
  const { values, vectors } = symmetricEigen(fa.cov, d);
  // Σ₁^½ = V diag(√λ) Vᵀ
  const root = new Float64Array(d * d);
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += vectors[i * d + k] * Math.sqrt(Math.max(0, values[k])) * vectors[j * d + k];
      root[i * d + j] = s;
    }
  const m = matmulSquare(matmulSquare(root, fb.cov, d), root, d);
  // Symmetrise against rounding before the second decomposition.
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) {
      const s = (m[i * d + j] + m[j * d + i]) / 2;
      m[i * d + j] = s;
      m[j * d + i] = s;
    }
  let traceSqrt = 0;
  for (const l of symmetricEigen(m, d).values) traceSqrt += Math.sqrt(Math.max(0, l));
  let trace = 0;
  for (let i = 0; i < d; i++) trace += fa.cov[i * d + i] + fb.cov[i * d + i];
  return meanTerm + trace - 2 * traceSqrt;
}

export interface Coverage {
  /** How many samples the judge put in each class. */
  histogram: number[];
  /** Digits judged at least once. */
  digitsPresent: number;
  /** exp(entropy) of the judged-class distribution: 10 when all digits are equally common. */
  effectiveClasses: number;
}

export function coverage(predicted: Int32Array): Coverage {
  const histogram = new Array<number>(10).fill(0);
  for (const p of predicted) histogram[p]++;
  let h = 0;
  for (const c of histogram) if (c > 0) h -= (c / predicted.length) * Math.log(c / predicted.length);
  return { histogram, digitsPresent: histogram.filter((c) => c > 0).length, effectiveClasses: Math.exp(h) };
}

/**
 * Mean distance between two random samples of the same judged class, in feature space,
 * averaged over classes: collapse to one drawing per digit gives 0.
 */
export function withinClassSpread(features: Float64Array[], classes: Int32Array, pairs = 200, seed = 1): number {
  const rng = new SeededRng(seed);
  const byClass = new Map<number, number[]>();
  classes.forEach((c, i) => {
    const list = byClass.get(c) ?? [];
    list.push(i);
    byClass.set(c, list);
  });
  let total = 0;
  let counted = 0;
  for (const members of byClass.values()) {
    if (members.length < 2) continue;
    let s = 0;
    for (let p = 0; p < pairs; p++) {
      const i = members[rng.int(members.length)];
      let j = members[rng.int(members.length)];
      if (j === i) j = members[(members.indexOf(i) + 1) % members.length];
      let d2 = 0;
      for (let k = 0; k < features[i].length; k++) d2 += (features[i][k] - features[j][k]) ** 2;
      s += Math.sqrt(d2);
    }
    total += s / pairs;
    counted++;
  }
  return counted ? total / counted : 0;
}

/** The FD floor (test half against test half) and ceiling (uniform noise against the test set). */
export function frechetReference(judge: LeNet, test: MnistSet, n = 2000, seed = 1): { floor: number; ceiling: number } {
  const half = Math.min(n, Math.floor(test.count / 2));
  const a = judgeFeatures(judge, test.images.subarray(0, half * 784), half);
  const b = judgeFeatures(judge, test.images.subarray(half * 784, 2 * half * 784), half);
  const rng = new SeededRng(seed);
  const noise = Float32Array.from({ length: half * 784 }, () => rng.next());
  const c = judgeFeatures(judge, noise, half);
  return { floor: frechetDistance(a, b), ceiling: frechetDistance(c, a) };
}

import { crossEntropy, Linear, Module, matmul, seededRandom, Tensor } from "../../engine/index.js";

/**
 * A small image–text dual encoder for handwritten digits, in the manner of CLIP
 * (Radford et al. 2021, §2.3): two towers project into one space, vectors are
 * L2-normalised, and a learned temperature scales their dot products into logits.
 *
 *   image tower:  28×28 grey → Linear(784, hidden) → ReLU → Linear(hidden, dim)
 *   text tower:   hashed bag of terms (textFeatures.ts) → Linear(buckets, dim)
 */
export interface DigitDualEncoderConfig {
  imageSize: number;
  hidden: number;
  dim: number;
  textBuckets: number;
}

export const DEFAULT_DIGIT_ENCODER_CONFIG: DigitDualEncoderConfig = {
  imageSize: 28,
  hidden: 128,
  dim: 64,
  textBuckets: 2048,
};

/** Images as rows of grey values in [0, 1], white ink on black as in MNIST: [B, imageSize²]. */
export interface DigitImageBatch {
  pixels: Tensor;
}

/** Texts as hashedTextFeatures rows: [T, textBuckets]. */
export interface DigitTextBatch {
  features: Tensor;
}

/** Images, candidate captions, and for each image the row of its own caption. */
export interface DigitContrastiveBatch extends DigitImageBatch {
  captions: Tensor;
  targets: Int32Array;
}

export class DigitDualEncoder extends Module {
  readonly config: DigitDualEncoderConfig;
  imageHidden: Linear;
  imageOut: Linear;
  text: Linear;
  /** log of the logit scale, learned; CLIP starts it at log(1/0.07). */
  logScale: Tensor;

  constructor(config: DigitDualEncoderConfig = DEFAULT_DIGIT_ENCODER_CONFIG, seed = 1) {
    super();
    this.config = config;
    const rng = seededRandom(seed);
    const pixels = config.imageSize * config.imageSize;
    // He-style init for the ReLU layer; the text table starts small, so hashed features never
    // seen in training (new words in a query) add little to a text's vector.
    this.imageHidden = new Linear(pixels, config.hidden, { std: Math.sqrt(2 / pixels), rng });
    this.imageOut = new Linear(config.hidden, config.dim, { std: Math.sqrt(1 / config.hidden), rng });
    this.text = new Linear(config.textBuckets, config.dim, { bias: false, std: 0.01, rng });
    this.logScale = Tensor.full([1], Math.log(1 / 0.07), true);
  }

  encodeImages(batch: DigitImageBatch): Tensor {
    return l2Normalize(this.imageOut.forward(this.imageHidden.forward(batch.pixels).relu()));
  }

  encodeTexts(batch: DigitTextBatch): Tensor {
    return l2Normalize(this.text.forward(batch.features));
  }

  /** The contrastive loss: cross-entropy of each image's scaled similarities over the captions. */
  forward(batch: DigitContrastiveBatch): { loss: Tensor; accuracy: number } {
    const images = this.encodeImages(batch);
    const texts = this.encodeTexts({ features: batch.captions });
    const logits = matmul(images, texts, { transB: true }).mul(this.logScale.exp());
    const [rows, cols] = logits.shape as [number, number];
    let correct = 0;
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let c = 1; c < cols; c++) if (logits.data[r * cols + c]! > logits.data[r * cols + best]!) best = c;
      if (best === batch.targets[r]) correct++;
    }
    return { loss: crossEntropy(logits, batch.targets), accuracy: correct / rows };
  }
}

/** Each row divided by its L2 norm (ε keeps an all-zero row finite). */
export function l2Normalize(x: Tensor): Tensor {
  return x.div(x.mul(x).sum(-1, true).add(1e-12).log().mul(0.5).exp());
}

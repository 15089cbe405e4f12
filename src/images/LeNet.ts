import {
  Conv2d,
  crossEntropy,
  dropout,
  Linear,
  Module,
  maxPool2d,
  noGrad,
  SeededRng,
  type Tensor,
} from "../engine/index.js";

import type { ImageRecipe } from "./ImageRecipe.js";
import { evaluationBatches } from "./MnistBatches.js";
import type { MnistSet } from "./mnist.js";

/**
 * A LeNet-style digit classifier (LeCun et al. 1998, "Gradient-based learning applied
 * to document recognition"), modernised as is usual now: ReLU instead of tanh, max-pool
 * instead of sub-sampling, dropout before the head. It is genera's judge of generated
 * digits: its accuracy on samples says whether a generator drew the digit it was asked
 * for, and its 128-d penultimate features give the Fréchet distance.
 *
 *   28×28 → conv 5×5 (16, pad 2) → ReLU → pool 2 → 14×14
 *         → conv 5×5 (32)        → ReLU → pool 2 → 5×5
 *         → 800 → linear 128 → ReLU → dropout → linear 10
 */

export interface LeNetConfig {
  channels1: number;
  channels2: number;
  hidden: number;
  dropout: number;
}

export const LENET_DEFAULT: LeNetConfig = { channels1: 16, channels2: 32, hidden: 128, dropout: 0.25 };

/** What LeNet.forward reads: N images [N, 1, 28, 28] and, for the loss, their digits. */
export interface ClassifierBatch {
  images: Tensor;
  labels?: Int32Array;
}

export class LeNet extends Module {
  readonly config: LeNetConfig;
  conv1: Conv2d;
  conv2: Conv2d;
  fc1: Linear;
  fc2: Linear;
  readonly rng: SeededRng;

  constructor(config: LeNetConfig = LENET_DEFAULT, seed = 1) {
    super();
    this.config = { ...config };
    this.rng = new SeededRng(seed);
    const rng = () => this.rng.next();
    const { channels1, channels2, hidden } = config;
    this.conv1 = new Conv2d(1, channels1, 5, { rng, padding: 2 });
    this.conv2 = new Conv2d(channels1, channels2, 5, { rng });
    this.fc1 = new Linear(channels2 * 25, hidden, { rng, std: Math.sqrt(2 / (channels2 * 25)) });
    this.fc2 = new Linear(hidden, 10, { rng, std: Math.sqrt(1 / hidden) });
  }

  /** The 128-d representation the head reads (after ReLU, before dropout). */
  features(images: Tensor): Tensor {
    const N = images.shape[0];
    const h1 = maxPool2d(this.conv1.forward(images).relu());
    const h2 = maxPool2d(this.conv2.forward(h1).relu());
    return this.fc1.forward(h2.reshape([N, -1])).relu();
  }

  forward(batch: ClassifierBatch): { logits: Tensor; loss?: Tensor } {
    const h = dropout(this.features(batch.images), this.config.dropout, this.training, () => this.rng.next());
    const logits = this.fc2.forward(h);
    return batch.labels ? { logits, loss: crossEntropy(logits, batch.labels) } : { logits };
  }

  /** The most likely digit of each image, in evaluation mode. */
  predict(images: Tensor): Int32Array {
    const wasTraining = this.training;
    this.eval();
    try {
      const logits = noGrad(() => this.forward({ images }).logits);
      const N = images.shape[0];
      const out = new Int32Array(N);
      for (let n = 0; n < N; n++) {
        let best = 0;
        for (let j = 1; j < 10; j++) if (logits.data[n * 10 + j] > logits.data[n * 10 + best]) best = j;
        out[n] = best;
      }
      return out;
    } finally {
      this.train(wasTraining);
    }
  }
}

/** Accuracy and mean cross-entropy of a classifier on a labelled set. */
export function classifierAccuracy(model: LeNet, set: MnistSet, batchSize = 500): { accuracy: number; loss: number } {
  let correct = 0;
  let loss = 0;
  let n = 0;
  noGrad(() => {
    for (const batch of evaluationBatches(set, batchSize)) {
      const out = model.forward(batch);
      const predicted = model.predict(batch.images);
      for (let i = 0; i < predicted.length; i++) if (predicted[i] === batch.labels[i]) correct++;
      loss += out.loss!.item() * predicted.length;
      n += predicted.length;
    }
  });
  return { accuracy: correct / n, loss: loss / n };
}

export const classifierRecipe: ImageRecipe<LeNet> = {
  kind: "classifier",
  title: "LeNet digit classifier",
  defaults: { batchSize: 64, lr: 2e-3, epochs: 3 },
  create: (seed) => new LeNet(LENET_DEFAULT, seed),
  config: (model) => model.config,
  restore: (config) => new LeNet(config as unknown as LeNetConfig),
  loss: (model, batch) => {
    const { loss } = model.forward(batch);
    return { loss: loss! };
  },
  evaluate: (model, test) => {
    const { accuracy, loss } = classifierAccuracy(model, test);
    return { test_accuracy: accuracy, test_loss: loss };
  },
  plot: { yLabel: "cross-entropy (nats)", trainKeys: ["loss"], evalKeys: ["test_loss"] },
};

import { AdamW, crossEntropy, Linear, noGrad, SeededRng, Tensor } from "../engine/index.js";
import { HELD_OUT_TEMPLATES, TRAINING_TEMPLATES } from "./captions.js";
import { type DiffusionCondition, type DiffusionConfig, DiffusionModel } from "./Diffusion.js";
import type { ImageRecipe } from "./ImageRecipe.js";
import { type DigitBatch, evaluationBatches } from "./MnistBatches.js";
import type { MnistSet } from "./mnist.js";
import { type CaptionBank, captionBank, PROMPT_DIMENSION } from "./promptEncoder.js";

/**
 * How the two diffusion models train: the class-conditional one (`diffusion`, the digit
 * is the condition) and text-to-image (`text2image`, the condition is the sentence
 * embedding of a caption of the digit, drawn from many phrasings each step).
 */

const BASE: Omit<DiffusionConfig, "unet"> = {
  timesteps: 1000,
  betaStart: 1e-4,
  betaEnd: 0.02,
  conditionDropout: 0.1,
  prediction: "v",
  guidance: 3,
  samplingSteps: 20,
};

export const DIFFUSION_DEFAULT: DiffusionConfig = {
  ...BASE,
  unet: { channels: 16, embedDim: 64, groups: 8, conditioning: "class" },
};

export const TEXT2IMAGE_DEFAULT: DiffusionConfig = {
  ...BASE,
  unet: { channels: 16, embedDim: 64, groups: 8, conditioning: "class" },
  promptHead: { dimension: PROMPT_DIMENSION },
};

/** Test digits the held-out loss reads (fixed noise, so evaluations compare). */
const EVAL_DIGITS = 512;

function heldOutLoss(model: DiffusionModel, test: MnistSet, condition: (batch: DigitBatch) => DiffusionCondition) {
  const rng = new SeededRng(12345);
  let total = 0;
  let n = 0;
  noGrad(() => {
    for (const batch of evaluationBatches(test, 128, Math.min(EVAL_DIGITS, test.count))) {
      const m = batch.labels.length;
      total += model.forward({ images: batch.images, condition: condition(batch), rng }).loss.item() * m;
      n += m;
    }
  });
  return total / n;
}

const plot = { yLabel: "noise-prediction MSE", trainKeys: ["loss"], evalKeys: ["test_loss"] };

export const diffusionRecipe: ImageRecipe<DiffusionModel> = {
  kind: "diffusion",
  title: "Class-conditional DDPM (v-prediction MSE)",
  defaults: { batchSize: 32, lr: 1e-3, epochs: 2 },
  create: (seed) => new DiffusionModel(DIFFUSION_DEFAULT, seed),
  config: (model) => model.config,
  restore: (config) => new DiffusionModel(config as unknown as DiffusionConfig),
  loss: (model, batch) => ({
    loss: model.forward({ images: batch.images, condition: { classes: batch.labels } }).loss,
  }),
  evaluate: (model, test) => ({ test_loss: heldOutLoss(model, test, (b) => ({ classes: b.labels })) }),
  plot,
};

/** The caption embeddings text-to-image trains and evaluates on, computed once per process. */
let banks: Promise<{ training: CaptionBank; heldOut: CaptionBank }> | undefined;

export function captionBanks(): Promise<{ training: CaptionBank; heldOut: CaptionBank }> {
  banks ??= Promise.all([captionBank(TRAINING_TEMPLATES), captionBank(HELD_OUT_TEMPLATES)]).then(
    ([training, heldOut]) => ({ training, heldOut }),
  );
  return banks;
}

let loaded: { training: CaptionBank; heldOut: CaptionBank } | undefined;
/** The prompt head fitted on the training captions (by prepare()). */
let fittedHead: Linear | undefined;

/**
 * Fits the linear prompt head (sentence embedding → digit logits, softmax regression
 * with Adam, full batch) on the training captions only.
 */
export function fitPromptHead(bank: CaptionBank, steps = 400, seed = 1): Linear {
  const rng = new SeededRng(seed);
  const head = new Linear(PROMPT_DIMENSION, 10, { rng: () => rng.next(), std: 0.01 });
  const x = new Tensor(bank.vectors, [bank.digits.length, PROMPT_DIMENSION]);
  const optimizer = new AdamW(head.namedParameters(), { lr: 1e-2, weightDecay: 0 });
  for (let step = 0; step < steps; step++) {
    const loss = crossEntropy(head.forward(x), bank.digits);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  return head;
}

/** One caption of each digit drawn from a bank, as a [N, 512] condition. */
export function captionCondition(bank: CaptionBank, digits: ArrayLike<number>, rng: SeededRng): DiffusionCondition {
  const d = PROMPT_DIMENSION;
  const data = new Float32Array(digits.length * d);
  for (let i = 0; i < digits.length; i++) {
    const choices = bank.byDigit[digits[i]];
    const k = choices[rng.int(choices.length)];
    data.set(bank.vectors.subarray(k * d, (k + 1) * d), i * d);
  }
  return { embeddings: new Tensor(data, [digits.length, d]) };
}

function requireBanks(): { training: CaptionBank; heldOut: CaptionBank } {
  if (!loaded) throw new Error("text2image: captions are not embedded yet (the recipe's prepare() was not awaited)");
  return loaded;
}

export const text2imageRecipe: ImageRecipe<DiffusionModel> = {
  kind: "text2image",
  title: "Text-to-image DDPM on USE-lite caption embeddings (v-prediction MSE)",
  defaults: { batchSize: 32, lr: 1e-3, epochs: 2 },
  prepare: async () => {
    loaded = await captionBanks();
    fittedHead ??= fitPromptHead(loaded.training);
  },
  create: (seed) => {
    const model = new DiffusionModel(TEXT2IMAGE_DEFAULT, seed);
    if (!fittedHead) throw new Error("text2image: the prompt head is not fitted (prepare() was not awaited)");
    model.promptHead!.weight.data.set(fittedHead.weight.data);
    model.promptHead!.bias!.data.set(fittedHead.bias!.data);
    return model;
  },
  config: (model) => model.config,
  restore: (config) => new DiffusionModel(config as unknown as DiffusionConfig),
  loss: (model, batch) => ({
    loss: model.forward({
      images: batch.images,
      condition: captionCondition(requireBanks().training, batch.labels, model.rng),
    }).loss,
  }),
  evaluate: (model, test) => {
    // Captions in phrasings never trained on; their own generator so the draw is the same each time.
    const rng = new SeededRng(7);
    return { test_loss: heldOutLoss(model, test, (b) => captionCondition(requireBanks().heldOut, b.labels, rng)) };
  },
  plot,
};

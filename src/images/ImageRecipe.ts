import type { Metrics, Module, Optimizer, Tensor, TrainerContext } from "../engine/index.js";
import type { ImageModelKind } from "./imageCheckpoint.js";
import type { LeNet } from "./LeNet.js";
import type { DigitBatch } from "./MnistBatches.js";
import type { MnistSet } from "./mnist.js";

/**
 * How one kind of image model is built, trained and measured: the training harness
 * (trainImageModel) and the CLI only speak this interface, and each model's file
 * exports one.
 */
export interface ImageRecipe<M extends Module = Module> {
  kind: ImageModelKind;
  title: string;
  defaults: { batchSize: number; lr: number; epochs: number };
  /** Work done once before training (text-to-image embeds its captions). */
  prepare?(): Promise<void>;
  create(seed: number): M;
  /** The model's config as saved in config.json (and read back by create's counterpart, restore). */
  config(model: M): object;
  restore(config: Record<string, unknown>): M;
  /** The loss of one batch; the harness wraps it in the usual AdamW step. */
  loss?(model: M, batch: DigitBatch): { loss: Tensor; metrics?: Metrics };
  /** A whole training step, for models with more than one optimizer (the GAN). */
  step?(model: M, next: () => DigitBatch, ctx: TrainerContext, optimizers: Optimizer[]): Metrics;
  optimizers?(model: M, lr: number): Optimizer[];
  /** Held-out metrics on (part of) the test set; generators ask the judge (the shipped classifier) about their samples. */
  evaluate(model: M, test: MnistSet, tools: { judge: () => LeNet }): Metrics;
  plot: { yLabel: string; trainKeys: string[]; evalKeys: string[] };
}

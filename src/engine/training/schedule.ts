import { GeneraError } from "../../errors.js";

export interface CosineScheduleOptions {
  /** Peak learning rate, reached at the end of warmup. */
  lr: number;
  /** Floor the cosine decays to (default lr / 10, as in nanoGPT / Chinchilla). */
  minLr?: number;
  warmupSteps: number;
  /** Step at which the decay reaches minLr; later steps stay at minLr. */
  totalSteps: number;
}

/**
 * Linear warmup then cosine decay. Steps are 0-based: step 0 trains with lr/warmup
 * (never exactly 0, which would waste the step), step warmup-1 with the full lr.
 */
export function cosineWithWarmup(options: CosineScheduleOptions): (step: number) => number {
  const { lr, warmupSteps, totalSteps } = options;
  const minLr = options.minLr ?? lr / 10;
  if (!(lr >= 0) || !(minLr >= 0) || minLr > lr) {
    throw new GeneraError("INVALID_INPUT", `learning rates must satisfy 0 ≤ minLr (${minLr}) ≤ lr (${lr})`);
  }
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0 || !Number.isInteger(totalSteps) || totalSteps < 1) {
    throw new GeneraError(
      "INVALID_INPUT",
      `warmupSteps (${warmupSteps}) must be an integer ≥ 0 and totalSteps (${totalSteps}) an integer ≥ 1`,
    );
  }
  return (step: number): number => {
    if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
    if (step >= totalSteps) return minLr;
    const span = totalSteps - warmupSteps;
    const progress = span <= 0 ? 1 : (step - warmupSteps) / span;
    return minLr + 0.5 * (1 + Math.cos(Math.PI * progress)) * (lr - minLr);
  };
}

import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  AdamW,
  cosineWithWarmup,
  LossPlot,
  type Metrics,
  MetricsLog,
  type Module,
  noGrad,
  optimizerStep,
  Trainer,
  type TrainerCallback,
  type TrainerContext,
} from "../engine/index.js";
import { GeneraError } from "../errors.js";
import type { ImageRecipe } from "./ImageRecipe.js";
import { type ImageModelKind, saveImageModel } from "./imageCheckpoint.js";
import { MnistBatches } from "./MnistBatches.js";
import { loadMnist, type MnistSet } from "./mnist.js";

/** The first n digits of a set. */
function subset(set: MnistSet, n: number): MnistSet {
  const count = Math.min(n, set.count);
  const size = set.rows * set.cols;
  return { ...set, count, images: set.images.subarray(0, count * size), labels: set.labels.subarray(0, count) };
}

export interface ImageTrainOptions {
  recipe: ImageRecipe;
  /** Folder for the model, metrics.jsonl and loss.svg; nothing is written without it. */
  outDir?: string;
  /** Replace a model already in outDir. */
  overwrite?: boolean;
  /** Passes over the training set (default: the recipe's); `steps` wins when given. */
  epochs?: number;
  steps?: number;
  batchSize?: number;
  lr?: number;
  /** Stop (with an evaluation and a saved model) once this much time has passed; the LR decay is fitted to it. */
  maxSeconds?: number;
  seed?: number;
  /** Use only the first n training / test digits (quick runs, tests). */
  trainLimit?: number;
  testLimit?: number;
  /** Test digits used by the evaluations during training (default 2,000); the final one uses all of them. */
  evalDigits?: number;
  evalEvery?: number;
  onProgress?: (event: ImageTrainProgress) => void;
  signal?: AbortSignal;
}

export interface ImageTrainProgress {
  type: "start" | "step" | "eval" | "done";
  kind: ImageModelKind;
  step: number;
  totalSteps: number;
  elapsedSeconds: number;
  metrics?: Metrics;
  etaSeconds?: number;
}

export interface ImageTrainResult<M extends Module = Module> {
  model: M;
  steps: number;
  seconds: number;
  /** The last training metrics, averaged over the last 50 steps. */
  train: Metrics;
  eval: Metrics;
  evals: Array<{ step: number } & Metrics>;
}

/**
 * Trains one image model on MNIST with the engine's Trainer: shuffled batches, AdamW
 * with warmup and cosine decay (fitted to the time budget), held-out metrics from the
 * recipe, metrics.jsonl and loss.svg in outDir, and the model saved at the end.
 */
export async function trainImageModel(options: ImageTrainOptions): Promise<ImageTrainResult> {
  const { recipe, outDir } = options;
  const startedAt = performance.now();
  if (outDir && existsSync(join(outDir, "config.json")) && !options.overwrite) {
    throw new GeneraError("CONFLICT", `${outDir} already holds a model; pass --overwrite to replace it`, {
      details: { path: outDir },
    });
  }
  const seed = options.seed ?? 1;
  const batchSize = options.batchSize ?? recipe.defaults.batchSize;
  const lr = options.lr ?? recipe.defaults.lr;
  const train = loadMnist("train", { limit: options.trainLimit });
  const test = loadMnist("test", { limit: options.testLimit });
  const batches = new MnistBatches(train, batchSize, seed);
  const steps =
    options.steps ?? Math.max(1, Math.round((options.epochs ?? recipe.defaults.epochs) * batches.batchesPerEpoch));
  const model = recipe.create(seed);
  model.train();

  const warmupSteps = Math.min(100, Math.floor(steps / 20));
  const schedules = new Map<number, (step: number) => number>();
  const lrAt = (step: number, planned: number) => {
    let schedule = schedules.get(planned);
    if (!schedule) {
      schedule = cosineWithWarmup({ lr, minLr: lr / 20, warmupSteps, totalSteps: Math.max(planned, warmupSteps + 1) });
      schedules.set(planned, schedule);
    }
    return schedule(step);
  };
  const optimizers = recipe.optimizers?.(model, lr) ?? [new AdamW(model.namedParameters(), { lr, weightDecay: 0 })];
  const step =
    recipe.step !== undefined
      ? // Adversarial training keeps its learning rates constant (as DCGAN does).
        (ctx: TrainerContext) => recipe.step!(model, () => batches.next(), ctx, optimizers)
      : optimizerStep({
          optimizer: optimizers[0],
          gradClip: 1,
          lr: (ctx) => lrAt(ctx.step, ctx.plannedSteps),
          loss: () => recipe.loss!(model, batches.next()),
        });

  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    rmSync(join(outDir, "metrics.jsonl"), { force: true });
  }
  const recent: Metrics[] = [];
  const evals: Array<{ step: number } & Metrics> = [];
  let lastEval: Metrics = {};
  const emit = (e: Omit<ImageTrainProgress, "kind">) => options.onProgress?.({ ...e, kind: recipe.kind });
  let stepStart = performance.now();
  const stepTimes: number[] = [];
  const progress: TrainerCallback = {
    onStart: (ctx) => emit({ type: "start", step: ctx.step, totalSteps: ctx.plannedSteps, elapsedSeconds: 0 }),
    onStep: (ctx, m) => {
      recent.push(m);
      if (recent.length > 50) recent.shift();
      stepTimes.push((performance.now() - stepStart) / 1000);
      if (stepTimes.length > 20) stepTimes.shift();
      stepStart = performance.now();
      const avg = stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length;
      emit({
        type: "step",
        step: ctx.step,
        totalSteps: ctx.plannedSteps,
        elapsedSeconds: ctx.elapsedSeconds,
        metrics: m,
        etaSeconds: avg * (ctx.plannedSteps - ctx.step),
      });
    },
    onEval: (ctx, m) => {
      lastEval = m;
      evals.push({ step: ctx.step, ...m });
      emit({
        type: "eval",
        step: ctx.step,
        totalSteps: ctx.plannedSteps,
        elapsedSeconds: ctx.elapsedSeconds,
        metrics: m,
      });
    },
  };
  const callbacks: TrainerCallback[] = [progress];
  if (outDir) {
    callbacks.push(new MetricsLog(join(outDir, "metrics.jsonl")));
    callbacks.push(new LossPlot(join(outDir, "loss.svg"), { title: recipe.title, ...recipe.plot }));
  }
  const evalSet = subset(test, options.evalDigits ?? 2000);
  const evaluate = (set: MnistSet) =>
    noGrad(() => {
      model.eval();
      try {
        return recipe.evaluate(model, set);
      } finally {
        model.train();
      }
    });
  const trainer = new Trainer({
    steps,
    step,
    evaluate: () => evaluate(evalSet),
    evalEvery: options.evalEvery ?? Math.max(1, Math.floor(steps / 10)),
    save: outDir ? () => saveImageModel(outDir, { kind: recipe.kind, config: recipe.config(model), model }) : undefined,
    checkpointEvery: Math.max(1, Math.floor(steps / 10)),
    rngs: [batches.rng, ...model.randomGenerators()],
    startedAt,
    maxSeconds: options.maxSeconds,
    fitStepsToTime: options.maxSeconds !== undefined,
    signal: options.signal,
    callbacks,
  });
  const run = await trainer.run();
  const finalEval = evalSet.count === test.count ? (run.lastEval ?? lastEval) : evaluate(test);
  const trainMetrics: Metrics = {};
  for (const m of recent)
    for (const [k, v] of Object.entries(m)) trainMetrics[k] = (trainMetrics[k] ?? 0) + v / recent.length;
  model.eval();
  if (outDir) {
    // The final save carries the training summary in config.json.
    saveImageModel(outDir, {
      kind: recipe.kind,
      config: recipe.config(model),
      model,
      training: {
        steps: run.step,
        batch_size: batchSize,
        lr,
        seed,
        seconds: Math.round(run.elapsedSeconds),
        train_digits: train.count,
        eval: finalEval,
        parameters: model.numParameters(),
        updated: new Date().toISOString(),
      },
    });
  }
  emit({ type: "done", step: run.step, totalSteps: run.step, elapsedSeconds: run.elapsedSeconds, metrics: lastEval });
  return {
    model,
    steps: run.step,
    seconds: run.elapsedSeconds,
    train: trainMetrics,
    eval: run.lastEval ?? lastEval,
    evals,
  };
}

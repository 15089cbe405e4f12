import { existsSync, mkdirSync, readFileSync } from "node:fs";
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
  type TrainerSnapshot,
} from "../engine/index.js";
import { GeneraError } from "../errors.js";
import { atomicWriteFileSync } from "../util/atomicWrite.js";
import type { ImageRecipe } from "./ImageRecipe.js";
import {
  type ImageModelKind,
  loadImageTrainingState,
  loadImageWeights,
  loadMatchingWeights,
  readImageModelFile,
  saveImageModel,
} from "./imageCheckpoint.js";
import { loadJudge, resolveImageModelDir } from "./imageModels.js";
import type { LeNet } from "./LeNet.js";
import { MnistBatches } from "./MnistBatches.js";
import { loadMnist, type MnistSet } from "./mnist.js";

/** The model and training state of a folder whose training is to be resumed. */
function openForResume(
  recipe: ImageRecipe,
  outDir: string | undefined,
): { model: Module; state: NonNullable<ReturnType<typeof loadImageTrainingState>> } {
  if (!outDir) throw new GeneraError("INVALID_INPUT", "resuming needs the folder of the run (--out)");
  const file = readImageModelFile(outDir);
  if (file.kind !== recipe.kind) {
    throw new GeneraError("MODEL_MISMATCH", `${outDir} holds a ${file.kind} model, not a ${recipe.kind}`, {
      details: { path: outDir },
    });
  }
  const model = recipe.restore(file.config);
  loadImageWeights(outDir, model);
  const optimizerCount = recipe.optimizers?.(model, 0).length ?? 1;
  const state = loadImageTrainingState(outDir, optimizerCount);
  if (!state) {
    throw new GeneraError(
      "NOT_FOUND",
      `${outDir} has weights but no optimizer.safetensors / trainer_state.json to resume from (a shipped model, or one saved before resumable checkpoints)`,
      { details: { path: outDir } },
    );
  }
  return { model, state };
}

/** Records of metrics.jsonl up to a step (the rest is redone by the resumed run). */
function keptMetrics(path: string, step: number): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return []; // a line torn by a kill
      }
    })
    .filter((m) => !(typeof m.step === "number" && m.step > step));
}

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
  /**
   * Start from the weights of this model (a folder or a shipped name) wherever names and shapes match (a
   * text2image U-Net from a trained diffusion model); not with resume.
   */
  init?: string;
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
  /** Steps between checkpoints (default a tenth of the run); a stop always saves one. */
  checkpointEvery?: number;
  /** The classifier that judges a generator's samples during training (default: the shipped one). */
  judge?: string;
  onProgress?: (event: ImageTrainProgress) => void;
  signal?: AbortSignal;
  /**
   * Continue the training saved in outDir from its last checkpoint (weights, optimizer
   * state, step, random generators, batch order), bit-exact with a run never stopped.
   */
  resume?: boolean;
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
  const resumed = options.resume ? openForResume(recipe, outDir) : undefined;
  if (!resumed && outDir && existsSync(join(outDir, "config.json")) && !options.overwrite) {
    throw new GeneraError(
      "CONFLICT",
      `${outDir} already holds a model; resume its training (--resume) or pass --overwrite to replace it`,
      { details: { path: outDir } },
    );
  }
  // A resumed run keeps the settings it was started with unless told otherwise.
  const saved = resumed?.state.trainerState;
  const seed = options.seed ?? saved?.seed ?? 1;
  const batchSize = options.batchSize ?? saved?.batch_size ?? recipe.defaults.batchSize;
  const lr = options.lr ?? saved?.lr ?? recipe.defaults.lr;
  const trainLimit = options.trainLimit ?? saved?.train_limit ?? undefined;
  const train = loadMnist("train", { limit: trainLimit });
  const test = loadMnist("test", { limit: options.testLimit });
  const batches = new MnistBatches(train, batchSize, seed);
  const steps =
    options.steps ??
    (options.epochs === undefined ? saved?.steps : undefined) ??
    Math.max(1, Math.round((options.epochs ?? recipe.defaults.epochs) * batches.batchesPerEpoch));
  await recipe.prepare?.();
  const model = resumed?.model ?? recipe.create(seed);
  if (options.init !== undefined) {
    if (resumed)
      throw new GeneraError(
        "INVALID_INPUT",
        "a resumed run continues its own weights: give --init or --resume, not both",
      );
    loadMatchingWeights(resolveImageModelDir(options.init), model);
  }
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
  if (resumed) {
    if (resumed.state.optimizers.length !== optimizers.length) {
      throw new GeneraError(
        "INDEX_CORRUPT",
        `${outDir} has no optimizer state for all ${optimizers.length} optimizers`,
      );
    }
    optimizers.forEach((o, i) => {
      o.importState(resumed.state.optimizers[i]);
    });
  }
  const step =
    recipe.step !== undefined
      ? // Adversarial training brings its own step and learning rates.
        (ctx: TrainerContext) => recipe.step!(model, () => batches.next(), ctx, optimizers)
      : optimizerStep({
          optimizer: optimizers[0],
          gradClip: 1,
          lr: (ctx) => lrAt(ctx.step, ctx.plannedSteps),
          loss: () => recipe.loss!(model, batches.next()),
        });

  // Lines logged after the checkpoint being resumed describe steps this run will redo.
  const history = outDir && saved ? keptMetrics(join(outDir, "metrics.jsonl"), saved.step) : [];
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    atomicWriteFileSync(join(outDir, "metrics.jsonl"), history.map((m) => `${JSON.stringify(m)}\n`).join(""));
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
    const plot = new LossPlot(join(outDir, "loss.svg"), { title: recipe.title, ...recipe.plot });
    // A resumed run's plot starts with the curve so far.
    for (const { type, step: at, ...m } of history) {
      const ctx = { step: at as number, plannedSteps: steps, elapsedSeconds: 0 };
      if (type === "train") plot.onStep(ctx, m as Metrics);
      else if (type === "eval") plot.onEval(ctx, m as Metrics);
    }
    callbacks.push(plot);
  }
  const evalSet = subset(test, options.evalDigits ?? 2000);
  let judgeModel: LeNet | undefined;
  const judge = () => {
    judgeModel ??= loadJudge(options.judge);
    return judgeModel;
  };
  const modelRngs = model.randomGenerators();
  const evaluate = (set: MnistSet) =>
    noGrad(() => {
      // An evaluation must not move the training's random streams (the VAE draws ε from its
      // generator): a run stopped and resumed evaluates once more than one that was not.
      const states = modelRngs.map((r) => r.state);
      model.eval();
      try {
        return recipe.evaluate(model, set, { judge });
      } finally {
        model.train();
        modelRngs.forEach((r, i) => {
          r.state = states[i];
        });
      }
    });
  const evalEvery = options.evalEvery ?? saved?.eval_every ?? Math.max(1, Math.floor(steps / 10));
  const checkpointEvery = options.checkpointEvery ?? saved?.checkpoint_every ?? Math.max(1, Math.floor(steps / 10));
  let lastSnapshot: TrainerSnapshot | undefined;
  const checkpoint = (snapshot: TrainerSnapshot, training?: Record<string, unknown>) => {
    lastSnapshot = snapshot;
    if (!outDir) return;
    saveImageModel(outDir, {
      kind: recipe.kind,
      config: recipe.config(model),
      model,
      training,
      optimizers: optimizers.map((o) => o.exportState()),
      trainerState: {
        ...snapshot,
        batches: batches.position,
        steps,
        batch_size: batchSize,
        lr,
        seed,
        train_limit: trainLimit ?? null,
        eval_every: evalEvery,
        checkpoint_every: checkpointEvery,
      },
    });
  };
  const trainer = new Trainer({
    steps,
    step,
    evaluate: () => evaluate(evalSet),
    evalEvery,
    save: (snapshot) => checkpoint(snapshot),
    checkpointEvery,
    rngs: [batches.rng, ...modelRngs],
    resume: saved,
    startedAt,
    maxSeconds: options.maxSeconds,
    fitStepsToTime: options.maxSeconds !== undefined,
    signal: options.signal,
    callbacks,
  });
  // After the trainer restored the generators: redraw the batch order the checkpoint was in.
  if (saved) batches.position = saved.batches;
  const run = await trainer.run();
  const finalEval = evalSet.count === test.count ? (run.lastEval ?? lastEval) : evaluate(test);
  const trainMetrics: Metrics = {};
  for (const m of recent)
    for (const [k, v] of Object.entries(m)) trainMetrics[k] = (trainMetrics[k] ?? 0) + v / recent.length;
  model.eval();
  if (outDir && lastSnapshot) {
    // The final save carries the training summary in config.json.
    checkpoint(lastSnapshot, {
      steps: run.step,
      batch_size: batchSize,
      lr,
      seed,
      seconds: Math.round(run.elapsedSeconds),
      train_digits: train.count,
      // Where the weights started, when not from scratch.
      ...(options.init !== undefined ? { init: options.init } : {}),
      eval: finalEval,
      parameters: model.numParameters(),
      updated: new Date().toISOString(),
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

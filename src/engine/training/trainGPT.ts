import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GeneraError } from "../../errors.js";
import { atomicWriteFileSync } from "../../util/atomicWrite.js";
import {
  isCheckpointDir,
  loadCheckpoint,
  loadTrainingState,
  saveCheckpoint,
  type TrainerState,
} from "../checkpoints/checkpoint.js";
import { GPT, GPT_PRESETS, type GPTConfig } from "../models/gpt.js";
import { noGrad } from "../ops/index.js";
import { BPETokenizer } from "../tokenizers/BPETokenizer.js";
import { CharTokenizer } from "../tokenizers/CharTokenizer.js";
import type { Tokenizer } from "../tokenizers/Tokenizer.js";
import { BatchSampler, evaluationBatches, splitTokens, unigramBaseline, unigramEntropy } from "./data.js";
import { AdamW, type OptimizerState } from "./optim.js";
import { lineChartSvg } from "./plotSvg.js";
import { cosineWithWarmup } from "./schedule.js";
import {
  optimizerStep,
  smoothCurve,
  Trainer,
  type TrainerCallback,
  type TrainerContext,
  type TrainerSnapshot,
} from "./Trainer.js";

export type TokenizerChoice = "char" | "bpe" | Tokenizer;

export interface TrainOptions {
  /** Training text (see readCorpus for files and folders). */
  corpus: string;
  /**
   * Checkpoint folder; also receives metrics.jsonl and loss.svg. Without it nothing
   * is written (used by tune for throw-away trials).
   */
  outDir?: string;
  /** Continue from the checkpoint in outDir (weights, optimizer, step, sampler state). */
  resume?: boolean;
  /** Replace a checkpoint already in outDir instead of refusing. */
  overwrite?: boolean;
  tokenizer?: TokenizerChoice;
  /** BPE vocabulary size including bytes and special tokens (default 1024). */
  bpeVocabSize?: number;
  /** A GPT_PRESETS name (default "small"). */
  preset?: string;
  /** Overrides on top of the preset (vocabSize always comes from the tokenizer). */
  config?: Partial<Omit<GPTConfig, "vocabSize">>;
  /** Optimizer steps to reach (a resumed run continues to this total). */
  steps: number;
  batchSize?: number;
  /** Micro-batches per optimizer step; the effective batch is batchSize × gradAccumSteps. */
  gradAccumSteps?: number;
  lr?: number;
  minLr?: number;
  warmupSteps?: number;
  weightDecay?: number;
  /** Max global gradient norm; 0 disables clipping. */
  gradClip?: number;
  /** Steps between validation evaluations (default max(1, steps / 20)). */
  evalEvery?: number;
  /** Validation batches per evaluation (default 8). */
  evalBatches?: number;
  /** Steps between checkpoints (default evalEvery); a checkpoint is always written at the end. */
  checkpointEvery?: number;
  valFraction?: number;
  seed?: number;
  /** Stop early (with a final eval and checkpoint) once this much wall time has passed. */
  maxSeconds?: number;
  /**
   * With maxSeconds: plan the cosine decay for the number of steps the time budget
   * allows (re-estimated as training runs), so the learning rate has decayed when the
   * budget ends instead of stopping at a high rate.
   */
  fitScheduleToTime?: boolean;
  onProgress?: (event: TrainProgressEvent) => void;
  /** Stops training at the next step boundary, after a final checkpoint. */
  signal?: AbortSignal;
}

export interface TrainProgressEvent {
  type: "start" | "step" | "eval" | "checkpoint" | "done";
  step: number;
  totalSteps: number;
  loss?: number;
  valLoss?: number;
  bestValLoss?: number | null;
  lr?: number;
  gradNorm?: number;
  tokensPerSecond?: number;
  etaSeconds?: number;
  elapsedSeconds: number;
  unigramBaseline?: number;
  resumedFrom?: number;
  parameters?: number;
}

export interface EvalPoint {
  step: number;
  valLoss: number;
  trainLoss: number;
}

export interface TrainResult {
  model: GPT;
  tokenizer: Tokenizer;
  config: GPTConfig;
  outDir?: string;
  step: number;
  /** Mean training loss over the last few steps. */
  trainLoss: number;
  valLoss: number;
  bestValLoss: number;
  /** Entropy of the validation split's token distribution: the floor for any context-free predictor. */
  unigramBaseline: number;
  /** Cross-entropy on validation of unigram counts from the training split (add-one smoothed). */
  unigramCrossEntropy: number;
  evals: EvalPoint[];
  trainCurve: Array<[number, number]>;
  tokensSeen: number;
  seconds: number;
  resumedFrom?: number;
}

export const METRICS_FILE = "metrics.jsonl";
export const LOSS_SVG = "loss.svg";

function positiveInt(name: string, v: number): number {
  if (!(Number.isInteger(v) && v > 0))
    throw new GeneraError("INVALID_INPUT", `${name} must be a positive integer, got ${v}`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!(Number.isFinite(v) && v >= 0)) throw new GeneraError("INVALID_INPUT", `${name} must be a number ≥ 0, got ${v}`);
  return v;
}

export function resolveGPTConfig(preset: string, vocabSize: number, overrides: Partial<GPTConfig> = {}): GPTConfig {
  const base = GPT_PRESETS[preset];
  if (!base) {
    throw new GeneraError(
      "INVALID_INPUT",
      `unknown preset "${preset}"; choose one of ${Object.keys(GPT_PRESETS).join(", ")}`,
      { details: { preset } },
    );
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return { ...base, ...defined, vocabSize };
}

export function buildTokenizer(choice: TokenizerChoice, corpus: string, bpeVocabSize = 1024): Tokenizer {
  if (typeof choice !== "string") return choice;
  if (choice === "char") return CharTokenizer.fromCorpus(corpus);
  if (choice === "bpe") return BPETokenizer.train(corpus, { vocabSize: bpeVocabSize });
  throw new GeneraError("INVALID_INPUT", `tokenizer must be "char" or "bpe", got ${JSON.stringify(choice)}`);
}

/** Read metrics.jsonl, skipping a torn last line (a killed process may leave one). */
export function readMetrics(path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  const out: Array<Record<string, unknown>> = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // ignore a partial line
    }
  }
  return out;
}

export function writeLossSvg(path: string, metrics: Array<Record<string, unknown>>, title = "GPT training"): void {
  const train: Array<[number, number]> = [];
  const val: Array<[number, number]> = [];
  let baseline: number | undefined;
  for (const m of metrics) {
    if (m.type === "train") train.push([m.step as number, m.loss as number]);
    else if (m.type === "eval") val.push([m.step as number, m.val_loss as number]);
    else if (m.type === "meta" && typeof m.unigram_baseline === "number") baseline = m.unigram_baseline;
  }
  const svg = lineChartSvg({
    title,
    xLabel: "step",
    yLabel: "cross-entropy loss (nats/token)",
    series: [
      { name: "train (EMA)", points: smoothCurve(train) },
      { name: "validation", points: val, markers: true },
    ],
    hLines: baseline === undefined ? [] : [{ y: baseline, label: `unigram baseline ${baseline.toFixed(3)}` }],
  });
  atomicWriteFileSync(path, svg);
}

/**
 * Train a GPT on a corpus: AdamW with warmup + cosine decay, gradient clipping and
 * accumulation, periodic validation on fixed windows, atomic checkpoints that a
 * killed run resumes from, metrics.jsonl and loss.svg.
 */
export async function trainGPT(options: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const outDir = options.outDir;
  if (typeof options.corpus !== "string" || options.corpus.length === 0) {
    throw new GeneraError("INVALID_INPUT", "training corpus is empty");
  }

  // Model, tokenizer and where to start: a fresh run or the checkpoint being resumed.
  let model: GPT;
  let tokenizer: Tokenizer;
  let config: GPTConfig;
  let startStep = 0;
  let trainerState: TrainerState | undefined;
  let optimizerState: OptimizerState | undefined;
  let resumedFrom: number | undefined;
  const hasCheckpoint = outDir !== undefined && isCheckpointDir(outDir);
  if (options.resume && hasCheckpoint) {
    const ck = loadCheckpoint(outDir);
    if (ck.config.model_type !== "gpt") {
      throw new GeneraError("MODEL_MISMATCH", `${outDir} holds a ${ck.config.model_type} checkpoint, not a GPT`);
    }
    model = ck.model as GPT;
    tokenizer = ck.tokenizer;
    config = model.config;
    const state = loadTrainingState(outDir);
    if (!state) {
      throw new GeneraError(
        "NOT_FOUND",
        `${outDir} has weights but no optimizer.safetensors / trainer_state.json to resume from`,
        { details: { path: outDir } },
      );
    }
    trainerState = state.trainerState;
    optimizerState = state.optimizer;
    startStep = trainerState.step;
    resumedFrom = startStep;
  } else {
    if (hasCheckpoint && !options.overwrite && !options.resume) {
      throw new GeneraError(
        "CONFLICT",
        `${outDir} already holds a checkpoint; resume it (--resume) or choose another output folder`,
        { details: { path: outDir } },
      );
    }
    tokenizer = buildTokenizer(options.tokenizer ?? "char", options.corpus, options.bpeVocabSize);
    config = resolveGPTConfig(options.preset ?? "small", tokenizer.vocabSize, options.config);
    model = new GPT(config, options.seed ?? 1337);
  }

  // A resumed run keeps the hyper-parameters it was started with unless told otherwise.
  const prev = (key: string): number | undefined => {
    const v = trainerState?.[key];
    return typeof v === "number" ? v : undefined;
  };
  const totalSteps = positiveInt("steps", options.steps);
  const batchSize = positiveInt("batchSize", options.batchSize ?? prev("batch_size") ?? 16);
  const accum = positiveInt("gradAccumSteps", options.gradAccumSteps ?? prev("grad_accum_steps") ?? 1);
  const lr = nonNegative("lr", options.lr ?? prev("lr") ?? 1e-3);
  const minLr = nonNegative("minLr", options.minLr ?? prev("min_lr") ?? lr / 10);
  const warmup = Math.min(
    options.warmupSteps ?? prev("warmup_steps") ?? Math.min(100, Math.floor(totalSteps / 10)),
    totalSteps,
  );
  const weightDecay = nonNegative("weightDecay", options.weightDecay ?? prev("weight_decay") ?? 0.1);
  const gradClip = nonNegative("gradClip", options.gradClip ?? prev("grad_clip") ?? 1);
  const evalEvery = positiveInt("evalEvery", options.evalEvery ?? Math.max(1, Math.floor(totalSteps / 20)));
  const evalBatchCount = positiveInt("evalBatches", options.evalBatches ?? 8);
  const checkpointEvery = positiveInt("checkpointEvery", options.checkpointEvery ?? evalEvery);
  const valFraction = options.valFraction ?? prev("val_fraction") ?? 0.1;
  const seed = options.seed ?? prev("seed") ?? 1337;

  const tokens = tokenizer.encode(options.corpus);
  const { train, val } = splitTokens(tokens, valFraction, config.blockSize);
  const baseline = unigramEntropy(val, tokenizer.vocabSize);
  const unigramCE = unigramBaseline(train, val, tokenizer.vocabSize);
  const sampler = new BatchSampler(train, config.blockSize, batchSize, seed);
  if (trainerState) sampler.rng.state = trainerState.rng_state;
  const valBatches = evaluationBatches(val, config.blockSize, batchSize, evalBatchCount);

  const params = model.namedParameters();
  let plannedSteps = totalSteps;
  const makeSchedule = (total: number) =>
    cosineWithWarmup({ lr, minLr: Math.min(minLr, lr), warmupSteps: Math.min(warmup, total), totalSteps: total });
  let schedule = makeSchedule(plannedSteps);
  const optimizer = new AdamW(params, { lr, weightDecay, beta1: 0.9, beta2: 0.95 });
  if (optimizerState) optimizer.importState(optimizerState);

  const metricsPath = outDir ? join(outDir, METRICS_FILE) : undefined;
  let metrics: Array<Record<string, unknown>> = [];
  if (metricsPath) {
    // Lines logged after the last checkpoint describe steps the resumed run will redo.
    metrics =
      resumedFrom !== undefined
        ? readMetrics(metricsPath).filter((m) => !(typeof m.step === "number" && m.step > startStep))
        : [];
    if (!metrics.some((m) => m.type === "meta")) {
      metrics.unshift({
        type: "meta",
        unigram_baseline: baseline,
        unigram_cross_entropy: unigramCE,
        train_tokens: train.length,
        val_tokens: val.length,
        vocab_size: tokenizer.vocabSize,
        tokenizer: tokenizer.kind,
        parameters: model.numParameters(),
        config,
      });
    }
    atomicWriteFileSync(metricsPath, metrics.map((m) => `${JSON.stringify(m)}\n`).join(""));
  }
  const log = (record: Record<string, unknown>) => {
    metrics.push(record);
    if (metricsPath) appendFileSync(metricsPath, `${JSON.stringify(record)}\n`);
  };

  const evaluate = (): number =>
    noGrad(() => {
      model.eval();
      let sum = 0;
      for (const b of valBatches) {
        sum += model.forward({ ids: b.x, batchSize: b.batchSize, seqLen: b.blockSize, targets: b.y }).loss!.item();
      }
      model.train();
      return sum / valBatches.length;
    });

  let bestVal = trainerState?.best_val_loss ?? Number.POSITIVE_INFINITY;
  let tokensSeen = trainerState?.tokens_seen ?? 0;
  const evals: EvalPoint[] = metrics
    .filter((m) => m.type === "eval")
    .map((m) => ({ step: m.step as number, valLoss: m.val_loss as number, trainLoss: m.train_loss as number }));
  const trainCurve: Array<[number, number]> = metrics
    .filter((m) => m.type === "train")
    .map((m) => [m.step as number, m.loss as number]);
  const recent: number[] = [];
  const meanRecent = () => (recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : Number.NaN);
  let lastVal = evals.length ? evals[evals.length - 1].valLoss : Number.NaN;
  let ctxNow: TrainerContext = { step: startStep, plannedSteps: totalSteps, elapsedSeconds: 0 };
  const emit = (e: Omit<TrainProgressEvent, "totalSteps" | "elapsedSeconds">) =>
    options.onProgress?.({ ...e, totalSteps: ctxNow.plannedSteps, elapsedSeconds: ctxNow.elapsedSeconds });

  const save = (snapshot: TrainerSnapshot) => {
    if (!outDir) return;
    const [samplerState, ...modelRngStates] = snapshot.rng_states;
    const state: TrainerState = {
      step: snapshot.step,
      rng_state: samplerState,
      model_rng_states: modelRngStates,
      best_val_loss: Number.isFinite(bestVal) ? bestVal : null,
      tokens_seen: tokensSeen,
      elapsed_seconds: snapshot.elapsed_seconds,
      seed,
      total_steps: ctxNow.plannedSteps,
      batch_size: batchSize,
      grad_accum_steps: accum,
      lr,
      min_lr: minLr,
      warmup_steps: warmup,
      weight_decay: weightDecay,
      grad_clip: gradClip,
      val_fraction: valFraction,
    };
    saveCheckpoint(outDir, {
      model,
      modelType: "gpt",
      config,
      tokenizer,
      optimizer: optimizer.exportState(),
      trainerState: state,
      training: {
        step: snapshot.step,
        train_loss: recent.length ? meanRecent() : null,
        val_loss: Number.isFinite(lastVal) ? lastVal : null,
        best_val_loss: state.best_val_loss,
        unigram_baseline: baseline,
        unigram_cross_entropy: unigramCE,
        tokens_seen: tokensSeen,
        parameters: model.numParameters(),
        updated: new Date().toISOString(),
      },
    });
    writeLossSvg(join(outDir, LOSS_SVG), metrics);
  };

  // Exact resume: the sampler's generator (batch order) and the model's (dropout) continue where they stopped.
  const modelRngs = model.randomGenerators();
  const savedModelRngs = trainerState?.model_rng_states;
  const resume: TrainerSnapshot | undefined = trainerState
    ? {
        step: startStep,
        elapsed_seconds: trainerState.elapsed_seconds,
        // A checkpoint from before model generators were saved resumes with fresh ones.
        rng_states: [
          trainerState.rng_state,
          ...(Array.isArray(savedModelRngs) && savedModelRngs.length === modelRngs.length
            ? (savedModelRngs as number[])
            : modelRngs.map((r) => r.state)),
        ],
      }
    : undefined;
  const stepTimes: number[] = [];
  const stepTokens = batchSize * accum * config.blockSize;
  let stepStart = performance.now();
  const progress: TrainerCallback = {
    onStart: (ctx) => {
      ctxNow = ctx;
      emit({
        type: "start",
        step: ctx.step,
        unigramBaseline: baseline,
        resumedFrom,
        parameters: model.numParameters(),
      });
    },
    onStep: (ctx, m) => {
      tokensSeen += stepTokens;
      const dt = (performance.now() - stepStart) / 1000;
      stepStart = performance.now();
      stepTimes.push(dt);
      if (stepTimes.length > 20) stepTimes.shift();
      recent.push(m.loss);
      if (recent.length > 20) recent.shift();
      const avgDt = stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length;
      const tokensPerSecond = stepTokens / avgDt;
      trainCurve.push([ctx.step, m.loss]);
      log({
        type: "train",
        step: ctx.step,
        loss: m.loss,
        lr: m.lr,
        grad_norm: m.grad_norm,
        tokens_per_second: Math.round(tokensPerSecond),
        elapsed_seconds: Number(ctx.elapsedSeconds.toFixed(3)),
      });
      emit({
        type: "step",
        step: ctx.step,
        loss: m.loss,
        lr: m.lr,
        gradNorm: m.grad_norm,
        tokensPerSecond,
        etaSeconds: avgDt * (ctx.plannedSteps - ctx.step),
      });
    },
    onEval: (ctx, m) => {
      lastVal = m.val_loss;
      bestVal = Math.min(bestVal, lastVal);
      const trainLoss = meanRecent();
      evals.push({ step: ctx.step, valLoss: lastVal, trainLoss });
      log({ type: "eval", step: ctx.step, val_loss: lastVal, train_loss: trainLoss, unigram_baseline: baseline });
      emit({
        type: "eval",
        step: ctx.step,
        loss: trainLoss,
        valLoss: lastVal,
        bestValLoss: bestVal,
        unigramBaseline: baseline,
      });
    },
    onCheckpoint: (ctx) => {
      if (outDir) emit({ type: "checkpoint", step: ctx.step });
    },
  };

  model.train();
  const trainer = new Trainer({
    steps: totalSteps,
    step: optimizerStep({
      optimizer,
      gradAccumSteps: accum,
      gradClip,
      lr: (ctx) => {
        if (ctx.plannedSteps !== plannedSteps) {
          plannedSteps = ctx.plannedSteps;
          schedule = makeSchedule(plannedSteps);
        }
        return schedule(ctx.step);
      },
      loss: () => {
        const b = sampler.next();
        return model.forward({ ids: b.x, batchSize: b.batchSize, seqLen: b.blockSize, targets: b.y }).loss!;
      },
    }),
    evaluate: () => ({ val_loss: evaluate() }),
    evalEvery,
    save,
    checkpointEvery,
    rngs: [sampler.rng, ...modelRngs],
    resume,
    startedAt: t0,
    maxSeconds: options.maxSeconds,
    fitStepsToTime: options.fitScheduleToTime,
    signal: options.signal,
    callbacks: [progress],
  });
  const run = await trainer.run();
  emit({ type: "done", step: run.step, valLoss: lastVal, bestValLoss: bestVal, unigramBaseline: baseline });
  model.eval();
  return {
    model,
    tokenizer,
    config,
    outDir,
    step: run.step,
    trainLoss: meanRecent(),
    valLoss: lastVal,
    bestValLoss: bestVal,
    unigramBaseline: baseline,
    unigramCrossEntropy: unigramCE,
    evals,
    trainCurve,
    tokensSeen,
    seconds: run.elapsedSeconds,
    resumedFrom,
  };
}

import { appendFileSync } from "node:fs";
import { GeneraError } from "../../errors.js";
import { atomicWriteFileSync } from "../../util/atomicWrite.js";
import { Tensor } from "../ops/index.js";
import type { SeededRng } from "../random.js";
import { clipGradNorm, type Optimizer, scaleGrads } from "./optim.js";
import { lineChartSvg, type PlotSeries } from "./plotSvg.js";

/**
 * One training loop for every model in genera (GPT, the encoder-decoder, the image
 * models): it counts steps, keeps the time budget, honours an abort signal, runs
 * evaluations and checkpoints on schedule and tells its callbacks what happened.
 * What a step *does* is the model's business: a `step` function that draws its batch,
 * runs forward and backward and updates the weights (`optimizerStep` builds the usual
 * one; a GAN brings its own two-player step).
 *
 * Exact resume: a checkpoint saves the step, the elapsed time and the state of every
 * seeded generator the run draws from (batch order, dropout, noise), so a resumed run
 * makes the same draws as one that was never interrupted.
 */

/** Numbers a step or an evaluation reports; `loss` is the one the progress line shows. */
export type Metrics = Record<string, number>;

export interface TrainerContext {
  /** Steps done so far (the step being run is `step`, 0-based). */
  step: number;
  /** Steps the run means to reach; the time budget may lower it while training. */
  plannedSteps: number;
  elapsedSeconds: number;
}

/** What a checkpoint must hold besides weights and optimizer state to resume exactly. */
export interface TrainerSnapshot {
  step: number;
  elapsed_seconds: number;
  /** States of the run's seeded generators, in the order given to the trainer. */
  rng_states: number[];
}

export interface TrainerCallback {
  onStart?(ctx: TrainerContext): void;
  onStep?(ctx: TrainerContext, metrics: Metrics): void;
  onEval?(ctx: TrainerContext, metrics: Metrics): void;
  onCheckpoint?(ctx: TrainerContext): void;
  onEnd?(ctx: TrainerContext, reason: "done" | "time" | "aborted"): void;
}

export interface TrainerOptions {
  /** Steps to reach (a resumed run continues to this total). */
  steps: number;
  /** Runs optimisation step `ctx.step` and returns its metrics (at least `loss`). */
  step: (ctx: TrainerContext) => Metrics;
  /** Held-out metrics; run every `evalEvery` steps and at the end. */
  evaluate?: (ctx: TrainerContext) => Metrics;
  evalEvery?: number;
  /** Writes a checkpoint (weights, optimizer, and this snapshot); every `checkpointEvery` steps and at the end. */
  save?: (snapshot: TrainerSnapshot, ctx: TrainerContext) => void;
  checkpointEvery?: number;
  /** Every seeded generator the run draws from; their states go into each snapshot. */
  rngs?: SeededRng[];
  /** Where a resumed run starts: the snapshot of its last checkpoint. */
  resume?: TrainerSnapshot;
  /** Stop (with a final evaluation and checkpoint) once this much wall time has passed. */
  maxSeconds?: number;
  /** performance.now() when the run began (its setup counts against maxSeconds); default: when run() is called. */
  startedAt?: number;
  /**
   * With maxSeconds: lower `plannedSteps` to what the budget allows (re-estimated every
   * 10 steps), so a schedule that reads it has decayed when the time is up.
   */
  fitStepsToTime?: boolean;
  signal?: AbortSignal;
  callbacks?: TrainerCallback[];
}

export interface TrainerResult {
  step: number;
  reason: "done" | "time" | "aborted";
  elapsedSeconds: number;
  lastEval?: Metrics;
}

function positiveInt(name: string, v: number): number {
  if (!(Number.isInteger(v) && v > 0))
    throw new GeneraError("INVALID_INPUT", `${name} must be a positive integer, got ${v}`);
  return v;
}

export class Trainer {
  constructor(private readonly options: TrainerOptions) {
    positiveInt("steps", options.steps);
    if (options.evalEvery !== undefined) positiveInt("evalEvery", options.evalEvery);
    if (options.checkpointEvery !== undefined) positiveInt("checkpointEvery", options.checkpointEvery);
    const rngs = options.rngs ?? [];
    const saved = options.resume?.rng_states;
    if (saved && saved.length !== rngs.length) {
      throw new GeneraError(
        "INDEX_CORRUPT",
        `the checkpoint saved ${saved.length} random generator states but this run has ${rngs.length}`,
      );
    }
    saved?.forEach((state, i) => {
      rngs[i].state = state;
    });
  }

  async run(): Promise<TrainerResult> {
    const o = this.options;
    const t0 = o.startedAt ?? performance.now();
    const before = o.resume?.elapsed_seconds ?? 0;
    const ctx: TrainerContext = { step: o.resume?.step ?? 0, plannedSteps: o.steps, elapsedSeconds: before };
    const startStep = ctx.step;
    const tick = () => {
      ctx.elapsedSeconds = before + (performance.now() - t0) / 1000;
    };
    const callbacks = o.callbacks ?? [];
    const snapshot = (): TrainerSnapshot => ({
      step: ctx.step,
      elapsed_seconds: ctx.elapsedSeconds,
      rng_states: (o.rngs ?? []).map((r) => r.state),
    });
    let lastEval: Metrics | undefined;
    let lastEvalStep = -1;
    let lastSaveStep = startStep;
    const evaluate = () => {
      if (!o.evaluate) return;
      lastEval = o.evaluate(ctx);
      lastEvalStep = ctx.step;
      tick();
      for (const c of callbacks) c.onEval?.(ctx, lastEval);
    };
    const save = () => {
      if (!o.save) return;
      tick();
      o.save(snapshot(), ctx);
      lastSaveStep = ctx.step;
      for (const c of callbacks) c.onCheckpoint?.(ctx);
    };

    for (const c of callbacks) c.onStart?.(ctx);
    const loopStart = performance.now();
    let reason: TrainerResult["reason"] = "done";
    while (ctx.step < ctx.plannedSteps) {
      if (o.signal?.aborted) {
        reason = "aborted";
        break;
      }
      if (o.maxSeconds !== undefined && (performance.now() - t0) / 1000 >= o.maxSeconds) {
        reason = "time";
        break;
      }
      const metrics = o.step(ctx);
      if (!Number.isFinite(metrics.loss)) {
        throw new GeneraError(
          "INTERNAL",
          `training diverged at step ${ctx.step + 1} (loss ${metrics.loss}); lower the learning rate`,
          { details: { step: ctx.step + 1, ...metrics } },
        );
      }
      ctx.step++;
      tick();
      this.fitToTime(ctx, startStep, t0, loopStart);
      for (const c of callbacks) c.onStep?.(ctx, metrics);
      if (o.evalEvery && (ctx.step % o.evalEvery === 0 || ctx.step === ctx.plannedSteps)) evaluate();
      if (o.checkpointEvery && ctx.step % o.checkpointEvery === 0) save();
      // Let timers, signals and progress output run between steps.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (lastEvalStep !== ctx.step) evaluate();
    if (lastSaveStep !== ctx.step || ctx.step === startStep) save();
    tick();
    for (const c of callbacks) c.onEnd?.(ctx, reason);
    return { step: ctx.step, reason, elapsedSeconds: ctx.elapsedSeconds, lastEval };
  }

  /** Steps the rest of the budget allows, from the average step time of this run (evaluations included). */
  private fitToTime(ctx: TrainerContext, startStep: number, t0: number, loopStart: number): void {
    const o = this.options;
    const done = ctx.step - startStep;
    if (!o.fitStepsToTime || o.maxSeconds === undefined || done < 10 || done % 10 !== 0) return;
    const perStep = (performance.now() - loopStart) / 1000 / done;
    // Keep 3% of the budget for the final evaluation and checkpoint.
    const remaining = o.maxSeconds * 0.97 - (performance.now() - t0) / 1000;
    const fit = Math.max(ctx.step + 1, Math.min(o.steps, ctx.step + Math.floor(remaining / perStep)));
    if (Math.abs(fit - ctx.plannedSteps) > Math.max(2, ctx.plannedSteps * 0.01)) ctx.plannedSteps = fit;
  }
}

export interface OptimizerStepOptions {
  optimizer: Optimizer;
  /** Loss of micro-batch `micro` of the step (a scalar with a graph), plus any metrics to report. */
  loss: (ctx: TrainerContext, micro: number) => Tensor | { loss: Tensor; metrics?: Metrics };
  /** Learning rate of a step (default: the optimizer's own, unchanged). */
  lr?: (ctx: TrainerContext) => number;
  /** Micro-batches per step; gradients are averaged over them. */
  gradAccumSteps?: number;
  /** Max global gradient norm; 0 or undefined disables clipping. */
  gradClip?: number;
}

/**
 * The usual supervised step: forward and backward over `gradAccumSteps` micro-batches,
 * average, clip, one optimizer update. Reports loss, lr and the gradient norm.
 */
export function optimizerStep(options: OptimizerStepOptions): (ctx: TrainerContext) => Metrics {
  const { optimizer } = options;
  const accum = positiveInt("gradAccumSteps", options.gradAccumSteps ?? 1);
  const params = optimizer.params;
  return (ctx) => {
    let lossSum = 0;
    const extra: Metrics = {};
    for (let micro = 0; micro < accum; micro++) {
      const out = options.loss(ctx, micro);
      const { loss, metrics } = out instanceof Tensor ? { loss: out, metrics: undefined } : out;
      loss.backward();
      lossSum += loss.item();
      if (metrics) for (const [k, v] of Object.entries(metrics)) extra[k] = (extra[k] ?? 0) + v / accum;
    }
    if (accum > 1) scaleGrads(params, 1 / accum);
    const gradNorm = options.gradClip ? clipGradNorm(params, options.gradClip) : Number.NaN;
    const lr = options.lr ? options.lr(ctx) : optimizer.lr;
    optimizer.lr = lr;
    optimizer.step();
    optimizer.zeroGrad();
    return { loss: lossSum / accum, lr, ...(options.gradClip ? { grad_norm: gradNorm } : {}), ...extra };
  };
}

/** Appends each step's and evaluation's metrics to a JSON-lines file. */
export class MetricsLog implements TrainerCallback {
  constructor(
    readonly path: string,
    private readonly extra: () => Metrics = () => ({}),
  ) {}

  onStep(ctx: TrainerContext, metrics: Metrics): void {
    this.write({ type: "train", step: ctx.step, ...metrics, elapsed_seconds: round(ctx.elapsedSeconds) });
  }

  onEval(ctx: TrainerContext, metrics: Metrics): void {
    this.write({ type: "eval", step: ctx.step, ...metrics, ...this.extra() });
  }

  private write(record: Record<string, unknown>): void {
    appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}

function round(x: number): number {
  return Number(x.toFixed(3));
}

/** Exponential moving average, for a readable training curve from noisy per-step losses. */
export function smoothCurve(points: Array<[number, number]>, alpha = 0.1): Array<[number, number]> {
  let s: number | undefined;
  return points.map(([x, y]) => {
    s = s === undefined ? y : alpha * y + (1 - alpha) * s;
    return [x, s];
  });
}

/**
 * Draws the loss curves as an SVG at every checkpoint and at the end: each named
 * training metric smoothed per step, each evaluation metric as markers.
 */
export class LossPlot implements TrainerCallback {
  private readonly train = new Map<string, Array<[number, number]>>();
  private readonly evals = new Map<string, Array<[number, number]>>();

  constructor(
    readonly path: string,
    private readonly opts: { title: string; yLabel: string; trainKeys: string[]; evalKeys?: string[] },
  ) {}

  onStep(ctx: TrainerContext, metrics: Metrics): void {
    for (const key of this.opts.trainKeys) if (key in metrics) push(this.train, key, [ctx.step, metrics[key]]);
  }

  onEval(ctx: TrainerContext, metrics: Metrics): void {
    for (const key of this.opts.evalKeys ?? []) if (key in metrics) push(this.evals, key, [ctx.step, metrics[key]]);
  }

  onCheckpoint(): void {
    this.write();
  }

  onEnd(): void {
    this.write();
  }

  write(): void {
    const series: PlotSeries[] = [
      ...[...this.train].map(([name, points]) => ({ name: `${name} (EMA)`, points: smoothCurve(points) })),
      ...[...this.evals].map(([name, points]) => ({ name, points, markers: true })),
    ];
    if (series.every((s) => s.points.length === 0)) return;
    atomicWriteFileSync(
      this.path,
      lineChartSvg({ title: this.opts.title, xLabel: "step", yLabel: this.opts.yLabel, series }),
    );
  }
}

function push<K>(map: Map<K, Array<[number, number]>>, key: K, point: [number, number]): void {
  const list = map.get(key) ?? [];
  list.push(point);
  map.set(key, list);
}

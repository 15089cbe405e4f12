import { GeneraError } from "../../errors.js";
import { GPT_PRESETS, type GPTConfig } from "../models/gpt.js";
import { SeededRng } from "../random.js";
import type { Tokenizer } from "../tokenizers/Tokenizer.js";
import { buildTokenizer, type TokenizerChoice, trainGPT } from "./trainGPT.js";

export interface TuneSpace {
  lr?: number[];
  batchSize?: number[];
  dModel?: number[];
  nLayers?: number[];
}

export interface TuneOptions {
  corpus: string;
  tokenizer?: TokenizerChoice;
  bpeVocabSize?: number;
  preset?: string;
  /** Fixed overrides applied to every trial before the searched values. */
  config?: Partial<Omit<GPTConfig, "vocabSize">>;
  space: TuneSpace;
  /** "grid" tries every combination; "random" draws `trials` of them without repeats. */
  mode?: "grid" | "random";
  trials?: number;
  stepsPerTrial: number;
  /** Validation batches per trial evaluation (default 8). */
  evalBatches?: number;
  warmupSteps?: number;
  seed?: number;
  /** Per-trial wall-time cap, so one slow configuration cannot eat the budget. */
  maxSecondsPerTrial?: number;
  onTrial?: (result: TrialResult, index: number, total: number) => void;
  signal?: AbortSignal;
}

export interface TrialParams {
  lr: number;
  batchSize: number;
  dModel: number;
  nLayers: number;
}

export interface TrialResult {
  params: TrialParams;
  /** nHeads actually used (the preset's, reduced to divide dModel). */
  nHeads: number;
  valLoss: number;
  trainLoss: number;
  steps: number;
  seconds: number;
  parameters: number;
  tokensPerSecond: number;
  /** Set when the trial failed (e.g. diverged); such trials sort last. */
  error?: string;
}

export interface TuneResult {
  /** Sorted by validation loss, best first. */
  trials: TrialResult[];
  best: TrialResult | undefined;
  unigramBaseline: number;
}

function cartesian(space: Required<TuneSpace>): TrialParams[] {
  const out: TrialParams[] = [];
  for (const lr of space.lr)
    for (const batchSize of space.batchSize)
      for (const dModel of space.dModel)
        for (const nLayers of space.nLayers) out.push({ lr, batchSize, dModel, nLayers });
  return out;
}

/** The preset's head count, lowered until it divides dModel. */
function headsFor(dModel: number, wanted: number): number {
  let h = Math.min(wanted, dModel);
  while (dModel % h !== 0) h--;
  return h;
}

/**
 * Short training runs over a grid (or random sample) of learning rate, batch size,
 * width and depth, all on the same tokenizer, split and seed, so differences come
 * from the hyper-parameters. Results are sorted by validation loss.
 */
export async function tune(options: TuneOptions): Promise<TuneResult> {
  const presetName = options.preset ?? "tiny";
  const preset = GPT_PRESETS[presetName];
  if (!preset) throw new GeneraError("INVALID_INPUT", `unknown preset "${presetName}"`);
  const base = { ...preset, ...options.config };
  const space: Required<TuneSpace> = {
    lr: options.space.lr?.length ? options.space.lr : [1e-3],
    batchSize: options.space.batchSize?.length ? options.space.batchSize : [16],
    dModel: options.space.dModel?.length ? options.space.dModel : [base.dModel],
    nLayers: options.space.nLayers?.length ? options.space.nLayers : [base.nLayers],
  };
  for (const [k, vs] of Object.entries(space)) {
    for (const v of vs) {
      if (!(Number.isFinite(v) && v > 0) || (k !== "lr" && !Number.isInteger(v))) {
        throw new GeneraError("INVALID_INPUT", `tune: ${k} value ${v} is not valid`);
      }
    }
  }
  let combos = cartesian(space);
  if ((options.mode ?? "grid") === "random") {
    const rng = new SeededRng(options.seed ?? 1);
    for (let i = combos.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [combos[i], combos[j]] = [combos[j], combos[i]];
    }
    combos = combos.slice(0, Math.max(1, options.trials ?? 8));
  }
  // One tokenizer for all trials: otherwise losses would be in different units.
  const tokenizer: Tokenizer = buildTokenizer(options.tokenizer ?? "char", options.corpus, options.bpeVocabSize);
  const results: TrialResult[] = [];
  let unigramBaseline = Number.NaN;
  for (let i = 0; i < combos.length; i++) {
    if (options.signal?.aborted) break;
    const p = combos[i];
    const nHeads = headsFor(p.dModel, base.nHeads);
    let result: TrialResult;
    try {
      const r = await trainGPT({
        corpus: options.corpus,
        tokenizer,
        preset: presetName,
        config: { ...options.config, dModel: p.dModel, nLayers: p.nLayers, nHeads, dFF: 4 * p.dModel },
        steps: options.stepsPerTrial,
        batchSize: p.batchSize,
        lr: p.lr,
        warmupSteps: options.warmupSteps,
        evalEvery: options.stepsPerTrial,
        evalBatches: options.evalBatches ?? 8,
        seed: options.seed ?? 1337,
        maxSeconds: options.maxSecondsPerTrial,
        signal: options.signal,
      });
      unigramBaseline = r.unigramBaseline;
      result = {
        params: p,
        nHeads,
        valLoss: r.valLoss,
        trainLoss: r.trainLoss,
        steps: r.step,
        seconds: r.seconds,
        parameters: r.model.numParameters(),
        tokensPerSecond: r.tokensSeen / Math.max(r.seconds, 1e-9),
      };
    } catch (error) {
      if (!(error instanceof GeneraError) || error.code !== "INTERNAL") throw error;
      result = {
        params: p,
        nHeads,
        valLoss: Number.POSITIVE_INFINITY,
        trainLoss: Number.NaN,
        steps: 0,
        seconds: 0,
        parameters: 0,
        tokensPerSecond: 0,
        error: error.message,
      };
    }
    results.push(result);
    options.onTrial?.(result, i, combos.length);
  }
  results.sort((a, b) => a.valLoss - b.valLoss);
  return { trials: results, best: results[0], unigramBaseline };
}

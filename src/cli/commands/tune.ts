import type { Command } from "commander";
import { readCorpus } from "../../engine/training/corpus.js";
import { type TrialResult, tune } from "../../engine/training/tune.js";
import { GeneraError } from "../../errors.js";
import { numberFlag, numberListFlag } from "../flags.js";
import { formatDuration } from "./trainOptions.js";

function row(cells: Array<string | number>, widths: number[]): string {
  return `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
}

export function formatTrialTable(trials: TrialResult[], baseline: number): string {
  const header = [
    "rank",
    "lr",
    "batch",
    "d_model",
    "layers",
    "heads",
    "params",
    "steps",
    "val loss",
    "train loss",
    "time",
  ];
  const rows = trials.map((t, i) => [
    i + 1,
    t.params.lr.toExponential(1),
    t.params.batchSize,
    t.params.dModel,
    t.params.nLayers,
    t.nHeads,
    t.parameters.toLocaleString(),
    t.steps,
    t.error ? "failed" : t.valLoss.toFixed(4),
    Number.isFinite(t.trainLoss) ? t.trainLoss.toFixed(4) : "--",
    formatDuration(t.seconds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  return [
    row(header, widths),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map((r) => row(r, widths)),
    "",
    `unigram baseline (validation entropy): ${baseline.toFixed(4)} nats/token`,
  ].join("\n");
}

export function register(program: Command): void {
  program
    .command("tune")
    .description("short training runs over learning rate, batch size, width and depth; prints val loss per trial")
    .requiredOption("--corpus <path>", "a text file, or a folder whose .md/.txt files are read")
    .option("--preset <name>", "base model preset", "tiny")
    .option("--tokenizer <kind>", "char | bpe", "char")
    .option("--steps <n>", "steps per trial", numberFlag("--steps", { integer: true, min: 1 }), 100)
    .option("--lr <list>", "learning rates, comma-separated", numberListFlag("--lr", { min: 0 }), [1e-3, 3e-3])
    .option("--batch-size <list>", "batch sizes", numberListFlag("--batch-size", { integer: true, min: 1 }))
    .option("--d-model <list>", "widths", numberListFlag("--d-model", { integer: true, min: 1 }))
    .option("--n-layers <list>", "depths", numberListFlag("--n-layers", { integer: true, min: 1 }))
    .option("--block-size <n>", "context length", numberFlag("--block-size", { integer: true, min: 1 }))
    .option(
      "--random <n>",
      "try n random combinations instead of the full grid",
      numberFlag("--random", { integer: true, min: 1 }),
    )
    .option("--max-minutes <x>", "time cap per trial", numberFlag("--max-minutes", { min: 0 }))
    .option("--seed <n>", "random seed", numberFlag("--seed", { integer: true, min: 0 }))
    .option("--json", "print the results as JSON")
    .action(async (opts) => {
      if (opts.tokenizer !== "char" && opts.tokenizer !== "bpe") {
        throw new GeneraError(
          "INVALID_INPUT",
          `--tokenizer must be char or bpe, got ${JSON.stringify(opts.tokenizer)}`,
        );
      }
      const result = await tune({
        corpus: readCorpus(opts.corpus),
        tokenizer: opts.tokenizer,
        preset: opts.preset,
        config: opts.blockSize ? { blockSize: opts.blockSize } : undefined,
        space: { lr: opts.lr, batchSize: opts.batchSize, dModel: opts.dModel, nLayers: opts.nLayers },
        mode: opts.random ? "random" : "grid",
        trials: opts.random,
        stepsPerTrial: opts.steps,
        seed: opts.seed,
        maxSecondsPerTrial: opts.maxMinutes !== undefined ? opts.maxMinutes * 60 : undefined,
        onTrial: (t, i, n) =>
          process.stderr.write(
            `trial ${i + 1}/${n}: lr ${t.params.lr} batch ${t.params.batchSize} d_model ${t.params.dModel} ` +
              `layers ${t.params.nLayers} → val ${t.error ? "failed" : t.valLoss.toFixed(4)} (${formatDuration(t.seconds)})\n`,
          ),
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(`${formatTrialTable(result.trials, result.unigramBaseline)}\n`);
    });
}

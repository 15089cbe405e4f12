import type { Command } from "commander";
import { GPT_PRESETS } from "../../engine/models/gpt.js";
import { readCorpusFiles } from "../../engine/training/corpus.js";
import { type TrainProgressEvent, trainGPT } from "../../engine/training/trainGPT.js";
import { GeneraError } from "../../errors.js";
import { numberFlag } from "../flags.js";
import { createProgressReporter, stopOnInterrupt } from "../progress.js";
import { formatDuration } from "./trainOptions.js";

export function register(program: Command): void {
  program
    .command("train")
    .description("train a GPT from scratch on your text; writes a checkpoint folder, metrics.jsonl and loss.svg")
    .requiredOption("--corpus <path>", "a text file, or a folder whose .md/.txt files are read")
    .requiredOption("--out <dir>", "checkpoint folder to write (and to resume from)")
    .option("--preset <name>", `model size: ${Object.keys(GPT_PRESETS).join(" | ")}`, "small")
    .option("--tokenizer <kind>", "char | bpe", "char")
    .option("--bpe-vocab <n>", "BPE vocabulary size", numberFlag("--bpe-vocab", { integer: true, min: 260 }), 1024)
    .option("--steps <n>", "optimizer steps", numberFlag("--steps", { integer: true, min: 1 }), 2000)
    .option("--batch-size <n>", "sequences per micro-batch", numberFlag("--batch-size", { integer: true, min: 1 }))
    .option("--grad-accum <n>", "micro-batches per step", numberFlag("--grad-accum", { integer: true, min: 1 }))
    .option("--lr <x>", "peak learning rate (AdamW)", numberFlag("--lr", { min: 0 }))
    .option("--min-lr <x>", "final learning rate of the cosine decay", numberFlag("--min-lr", { min: 0 }))
    .option("--warmup <n>", "linear warmup steps", numberFlag("--warmup", { integer: true, min: 0 }))
    .option("--weight-decay <x>", "AdamW weight decay", numberFlag("--weight-decay", { min: 0 }))
    .option("--grad-clip <x>", "max gradient norm (0 = off)", numberFlag("--grad-clip", { min: 0 }))
    .option("--eval-every <n>", "steps between validation runs", numberFlag("--eval-every", { integer: true, min: 1 }))
    .option("--eval-batches <n>", "validation batches per run", numberFlag("--eval-batches", { integer: true, min: 1 }))
    .option(
      "--checkpoint-every <n>",
      "steps between checkpoints",
      numberFlag("--checkpoint-every", { integer: true, min: 1 }),
    )
    .option("--block-size <n>", "context length", numberFlag("--block-size", { integer: true, min: 1 }))
    .option("--d-model <n>", "model width", numberFlag("--d-model", { integer: true, min: 1 }))
    .option("--n-layers <n>", "transformer blocks", numberFlag("--n-layers", { integer: true, min: 1 }))
    .option("--n-heads <n>", "attention heads", numberFlag("--n-heads", { integer: true, min: 1 }))
    .option("--dropout <p>", "dropout probability", numberFlag("--dropout", { min: 0, max: 0.99 }))
    .option(
      "--val-fraction <x>",
      "share of the corpus held out for validation",
      numberFlag("--val-fraction", { min: 0.001, max: 0.5 }),
    )
    .option(
      "--max-minutes <x>",
      "time budget: the LR schedule is fitted to it and training stops (with a checkpoint) when it ends",
      numberFlag("--max-minutes", { min: 0 }),
    )
    .option("--seed <n>", "random seed", numberFlag("--seed", { integer: true, min: 0 }))
    .option("--resume", "continue the run in --out from its last checkpoint")
    .option("--overwrite", "replace a checkpoint already in --out")
    .option("--json", "print the result as one JSON object")
    .action(async (opts) => {
      if (opts.tokenizer !== "char" && opts.tokenizer !== "bpe") {
        throw new GeneraError(
          "INVALID_INPUT",
          `--tokenizer must be char or bpe, got ${JSON.stringify(opts.tokenizer)}`,
        );
      }
      const files = readCorpusFiles(opts.corpus);
      const corpus = files.map((f) => f.text.trim()).join("\n\n");
      process.stderr.write(`corpus: ${files.length} file(s), ${corpus.length.toLocaleString()} characters\n`);

      // Ctrl-C stops at the next step with a checkpoint; a second Ctrl-C quits at once.
      const interrupt = stopOnInterrupt();
      const progress = createProgressReporter("train", { plainIntervalMs: 5000 });
      let valText = "--";
      let baseline = Number.NaN;
      const onProgress = (e: TrainProgressEvent) => {
        if (e.type === "start") {
          baseline = e.unigramBaseline ?? Number.NaN;
          process.stderr.write(
            `${e.resumedFrom !== undefined ? `resuming at step ${e.resumedFrom}; ` : ""}` +
              `${(e.parameters ?? 0).toLocaleString()} parameters; unigram baseline ${baseline.toFixed(3)} nats/token\n`,
          );
        } else if (e.type === "eval" && e.valLoss !== undefined) {
          valText = e.valLoss.toFixed(3);
          if (!process.stderr.isTTY) {
            process.stderr.write(
              `eval step ${e.step}: val ${valText} (train ${e.loss?.toFixed(3)}, unigram ${baseline.toFixed(3)})\n`,
            );
          }
        } else if (e.type === "step") {
          progress.update({
            done: e.step,
            total: e.totalSteps,
            etaSeconds: e.etaSeconds,
            fields: {
              loss: (e.loss ?? Number.NaN).toFixed(3),
              val: valText,
              lr: (e.lr ?? 0).toExponential(1),
              "tok/s": Math.round(e.tokensPerSecond ?? 0),
            },
          });
        }
      };
      let result: Awaited<ReturnType<typeof trainGPT>>;
      try {
        result = await trainGPT({
          corpus,
          outDir: opts.out,
          resume: Boolean(opts.resume),
          overwrite: Boolean(opts.overwrite),
          tokenizer: opts.tokenizer,
          bpeVocabSize: opts.bpeVocab,
          preset: opts.preset,
          config: {
            blockSize: opts.blockSize,
            dModel: opts.dModel,
            nLayers: opts.nLayers,
            nHeads: opts.nHeads,
            dFF: opts.dModel !== undefined ? 4 * opts.dModel : undefined,
            dropout: opts.dropout,
          },
          steps: opts.steps,
          batchSize: opts.batchSize,
          gradAccumSteps: opts.gradAccum,
          lr: opts.lr,
          minLr: opts.minLr,
          warmupSteps: opts.warmup,
          weightDecay: opts.weightDecay,
          gradClip: opts.gradClip,
          evalEvery: opts.evalEvery,
          evalBatches: opts.evalBatches,
          checkpointEvery: opts.checkpointEvery,
          valFraction: opts.valFraction,
          maxSeconds: opts.maxMinutes !== undefined ? opts.maxMinutes * 60 : undefined,
          // A time budget also shapes the learning-rate decay, so it ends decayed rather than cut off.
          fitScheduleToTime: opts.maxMinutes !== undefined,
          seed: opts.seed,
          signal: interrupt.signal,
          onProgress,
        });
      } finally {
        progress.stop();
        interrupt.dispose();
      }
      const summary = {
        out: opts.out,
        step: result.step,
        trainLoss: result.trainLoss,
        valLoss: result.valLoss,
        bestValLoss: result.bestValLoss,
        unigramBaseline: result.unigramBaseline,
        tokensSeen: result.tokensSeen,
        seconds: result.seconds,
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      process.stdout.write(
        [
          `step ${result.step}: train loss ${result.trainLoss.toFixed(3)}, val loss ${result.valLoss.toFixed(3)} ` +
            `(best ${result.bestValLoss.toFixed(3)}), unigram baseline ${result.unigramBaseline.toFixed(3)}`,
          `${result.tokensSeen.toLocaleString()} tokens in ${formatDuration(result.seconds)}`,
          `checkpoint: ${opts.out} (metrics.jsonl, loss.svg); try: genera generate --model ${opts.out} "Once"`,
        ]
          .map((line) => `${line}\n`)
          .join(""),
      );
    });
}

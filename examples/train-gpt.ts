/**
 * Train a character-level GPT from scratch on the Markdown notes in examples/knowledge/
 * (or, if that folder is empty, on the Markdown files of this repository), within a
 * wall-clock budget, and compare its validation loss with the unigram baseline: the
 * loss of the best predictor that ignores context. Writes a checkpoint folder with
 * metrics.jsonl and loss.svg, and prints the curve as a table plus a sample.
 *
 *   node --import ./scripts/ts.mjs examples/train-gpt.ts [--minutes 9.5] [--out .genera/gpt-knowledge]
 *
 * Then: npx genera generate --model .genera/gpt-knowledge "Attention is"
 *
 * Measured (2 cores, Node 20, 31 notes = 114k characters, 112k parameters, the packed
 * fused-multiply-add matmul): validation loss 1.771 nats/char after 3,108 steps (3.18M
 * tokens) in 536 s, against a unigram baseline of 3.328 (47% below it); val 3.05 at step
 * 50, 2.37 at 550, 2.06 at 1,050, 1.85 at 2,050.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { readCorpus, TokenStreamDecoder, trainGPT } from "../src/engine/index.js";
import { generateTokens } from "../src/engine/models/generateStream.js";

const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "9.5" },
    out: { type: "string", default: ".genera/gpt-knowledge" },
    corpus: { type: "string" },
    steps: { type: "string", default: "5000" },
    resume: { type: "boolean", default: false },
  },
});

function hasMarkdown(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => f.endsWith(".md") && statSync(join(dir, f)).size > 0);
  } catch {
    return false;
  }
}

/** Markdown anywhere in the repository (outside dependencies and build output), as a fallback corpus. */
function repoMarkdown(): string {
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".md")) texts.push(readCorpus(p));
    }
  };
  walk(".");
  return texts.join("\n\n");
}

const knowledge = "examples/knowledge";
const corpus = args.corpus ? readCorpus(args.corpus) : hasMarkdown(knowledge) ? readCorpus(knowledge) : repoMarkdown();
console.log(
  `corpus: ${args.corpus ?? (hasMarkdown(knowledge) ? knowledge : "repository Markdown")}, ${corpus.length.toLocaleString()} characters`,
);

const budget = Number(args.minutes) * 60;
let lastLine = 0;
const result = await trainGPT({
  corpus,
  outDir: args.out,
  overwrite: !args.resume,
  resume: args.resume,
  tokenizer: "char",
  preset: "tiny",
  // Tuned for 2 CPU cores and ~10 minutes (see `genera tune`): a small, shallow model with a
  // short context sees more tokens per second, which matters more here than capacity.
  config: { blockSize: 64, dModel: 64, nHeads: 4, nLayers: 2, dFF: 256, dropout: 0 },
  steps: Number(args.steps),
  batchSize: 16,
  lr: 3e-3,
  minLr: 3e-4,
  warmupSteps: 50,
  weightDecay: 0.1,
  gradClip: 1,
  evalEvery: 50,
  evalBatches: 4,
  checkpointEvery: 100,
  // Leave room for the final evaluation and checkpoint inside the budget.
  maxSeconds: budget - 15,
  fitScheduleToTime: true,
  onProgress: (e) => {
    if (e.type === "start") {
      console.log(
        `${e.parameters?.toLocaleString()} parameters; unigram baseline ${e.unigramBaseline?.toFixed(3)} nats/char`,
      );
    } else if (e.type === "eval") {
      console.log(
        `step ${String(e.step).padStart(5)}  ${e.elapsedSeconds.toFixed(0).padStart(4)}s  ` +
          `train ${e.loss?.toFixed(3)}  val ${e.valLoss?.toFixed(3)}`,
      );
    } else if (e.type === "step" && e.elapsedSeconds - lastLine > 60) {
      lastLine = e.elapsedSeconds;
      console.log(`  … step ${e.step}, ${Math.round(e.tokensPerSecond ?? 0)} tokens/s`);
    }
  },
});

console.log("\n| step | train loss | val loss | val / unigram |");
console.log("|---:|---:|---:|---:|");
const shown = result.evals.filter((_, i, a) => i % Math.max(1, Math.floor(a.length / 12)) === 0 || i === a.length - 1);
for (const e of shown) {
  console.log(
    `| ${e.step} | ${e.trainLoss.toFixed(3)} | ${e.valLoss.toFixed(3)} | ${(e.valLoss / result.unigramBaseline).toFixed(3)} |`,
  );
}
console.log(
  `\nvalidation loss ${result.valLoss.toFixed(3)} (best ${result.bestValLoss.toFixed(3)}) vs unigram baseline ` +
    `${result.unigramBaseline.toFixed(3)} nats/char (${((1 - result.valLoss / result.unigramBaseline) * 100).toFixed(1)}% below); ` +
    `unigram cross-entropy from training counts ${result.unigramCrossEntropy.toFixed(3)}`,
);
console.log(
  `${result.step} steps, ${result.tokensSeen.toLocaleString()} tokens, ${result.seconds.toFixed(0)} s ` +
    `→ ${args.out}/loss.svg, metrics.jsonl, model.safetensors`,
);

// A sample, streamed character by character.
const prompt = "Attention ";
const dec = new TokenStreamDecoder(result.tokenizer);
process.stdout.write(`\nsample: ${prompt}`);
for (const id of generateTokens(result.model, result.tokenizer.encode(prompt), {
  maxNewTokens: 200,
  temperature: 0.8,
  topK: 20,
  seed: 1,
})) {
  process.stdout.write(dec.push(id));
}
process.stdout.write(`${dec.flush()}\n`);
if (!(result.valLoss < result.unigramBaseline)) process.exitCode = 1;

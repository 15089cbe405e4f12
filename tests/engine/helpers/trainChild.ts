// Child process for the SIGKILL resume test: trains and prints each finished step,
// so the parent can kill it mid-run at a moment of its choosing.
import { trainGPT } from "../../../src/engine/training/trainGPT.js";
import { syntheticCorpus, TINY_CONFIG } from "./corpus.js";

const [outDir, steps] = process.argv.slice(2);
await trainGPT({
  corpus: syntheticCorpus(),
  outDir,
  resume: true,
  preset: "tiny",
  config: TINY_CONFIG,
  steps: Number(steps),
  batchSize: 4,
  lr: 3e-3,
  evalEvery: 4,
  evalBatches: 1,
  checkpointEvery: 3,
  seed: 11,
  onProgress: (e) => {
    if (e.type === "step" || e.type === "checkpoint") process.stdout.write(`${e.type} ${e.step}\n`);
  },
});
process.stdout.write("finished\n");

/**
 * Joins tool models trained alike from different seeds (train-tool-model.ts --seed N) into
 * one checkpoint whose members' log-probabilities are averaged (ToolModel), scores it, and
 * writes it with every member's training curves:
 *
 *   node --import ./scripts/ts.mjs examples/agent/ensemble-tool-models.ts --out models/tool-model RUN_DIR RUN_DIR RUN_DIR [--dev]
 *
 * The runs must share their vocabulary (the same training data): only the seed may differ.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { RequestVectors } from "../../src/agents/toolModel/RequestVectors.js";
import { ToolModel } from "../../src/agents/toolModel/ToolModel.js";
import { CachedEmbeddings } from "../../src/embeddings/CachedEmbeddings.js";
import { UniversalSentenceEncoderEmbeddings } from "../../src/embeddings/UniversalSentenceEncoderEmbeddings.js";
import { GeneraError } from "../../src/errors.js";
import { confusionMarkdown, refusalScores, scoreToolModel } from "./evaluateToolModel.js";
import { generateToolDataset, holdOutDev } from "./toolData.js";
import { readTrainingMetrics, writeTrainingChart } from "./trainingChart.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: "string" },
    test: { type: "string", default: "2000" },
    /** Score on the dev split (the runs were trained with --dev) instead of the held-out set. */
    dev: { type: "boolean", default: false },
    "vector-cache": { type: "string" },
  },
});
if (!values.out || positionals.length < 2) {
  throw new GeneraError("INVALID_INPUT", "usage: ensemble-tool-models.ts --out DIR RUN_DIR RUN_DIR [RUN_DIR…] [--dev]");
}

const use = new UniversalSentenceEncoderEmbeddings();
const embeddings = values["vector-cache"]
  ? new CachedEmbeddings({ embeddings: use, dir: values["vector-cache"], cacheQueries: true })
  : use;
const vectors = new RequestVectors(embeddings);
const runs = positionals.map((dir) => ToolModel.load(dir, vectors));
const words = JSON.stringify(runs[0]?.vocab.words);
for (const [i, run] of runs.entries()) {
  if (JSON.stringify(run.vocab.words) !== words) {
    throw new GeneraError(
      "MODEL_MISMATCH",
      `${positionals[i]} was trained on other data than ${positionals[0]} (its vocabulary differs): members must differ only by seed`,
    );
  }
}
const model = new ToolModel(
  runs.flatMap((r) => r.members),
  runs[0]?.vocab as ToolModel["vocab"],
  vectors,
);

holdOutDev(values.dev);
const test = generateToolDataset(values.dev ? "dev" : "test", Number(values.test));
const score = await scoreToolModel(model, test);
console.log(
  `${model.members.length} members, ${model.numParameters().toLocaleString()} parameters: ` +
    `${values.dev ? "dev" : "held-out"} exact ${(score.exact * 100).toFixed(2)}%, intent ${(score.intent * 100).toFixed(2)}% of ${score.count}`,
);
console.log(confusionMarkdown(score.confusion));
const refusals = refusalScores(score.confusion);

const configs = positionals.map(
  (dir) => JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>,
);
model.save(values.out, {
  // The members' training dropout (a loaded model runs with none).
  dropout: configs[0]?.dropout,
  trainedSteps: configs[0]?.trainedSteps,
  trainSeconds: configs.reduce((s, c) => s + Number(c.trainSeconds ?? 0), 0),
  heldOutExact: Number(score.exact.toFixed(4)),
  heldOutIntent: Number(score.intent.toFixed(4)),
  heldOutRefusalRecall: Number(refusals.recall.toFixed(3)),
  heldOutRefusalPrecision: Number(refusals.precision.toFixed(3)),
  memberHeldOutExact: configs.map((c) => c.heldOutExact),
});
writeTrainingChart(
  values.out,
  positionals.flatMap((dir) => readTrainingMetrics(readFileSync(join(dir, "metrics.jsonl"), "utf8"))),
);
console.log(`wrote ${values.out}`);
await use.close();

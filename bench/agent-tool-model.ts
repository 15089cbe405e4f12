/**
 * The offline tool model on held-out requests: exact tool calls (intent, tool names and
 * every argument), intent accuracy, the confusion table, and the same scores on fresh
 * requests in the training phrasings as the in-distribution baseline.
 *
 *   npm run bench:agent [-- --model models/tool-model --count 2000]
 */
import { parseArgs } from "node:util";
import { confusionMarkdown, refusalScores, scoreToolModel } from "../examples/agent/evaluateToolModel.js";
import { generateToolDataset } from "../examples/agent/toolData.js";
import { ToolModel } from "../src/agents/toolModel/ToolModel.js";

const { values } = parseArgs({
  options: { model: { type: "string" }, count: { type: "string", default: "2000" }, errors: { type: "boolean" } },
});
const count = Number(values.count);
const heldOut = generateToolDataset("test", count);
const seen = generateToolDataset("train", count, 1234);

// The first request of a process loads the checkpoint and starts USE-lite; later ones reuse both.
const loadStarted = performance.now();
const model = ToolModel.load(values.model);
await model.predict("what is 12 times 7");
const firstMs = performance.now() - loadStarted;
const singles: number[] = [];
for (const ex of heldOut.slice(0, 40)) {
  const t = performance.now();
  await model.predict(ex.text);
  singles.push(performance.now() - t);
}
singles.sort((a, b) => a - b);
const quantile = (q: number) => singles[Math.min(singles.length - 1, Math.floor(q * singles.length))] as number;

const started = performance.now();
const held = await scoreToolModel(model, heldOut);
const ms = performance.now() - started;
const inDist = await scoreToolModel(model, seen);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

console.log(`tool model: ${model.numParameters().toLocaleString()} parameters\n`);
console.log("| requests | exact calls | intent | count |");
console.log("|---|---:|---:|---:|");
console.log(`| held-out phrasings and values | ${pct(held.exact)} | ${pct(held.intent)} | ${held.count} |`);
console.log(
  `| training phrasings, new draws (baseline) | ${pct(inDist.exact)} | ${pct(inDist.intent)} | ${inDist.count} |`,
);
const refusals = refusalScores(held.confusion);
console.log(`\nheld-out refusals: recall ${refusals.recall.toFixed(3)}, precision ${refusals.precision.toFixed(3)}`);
console.log(`${(held.count / (ms / 1000)).toFixed(0)} requests/s in batches of 64 (USE-lite vectors included)`);
console.log(
  `first request of a process (load + USE-lite start + plan): ${firstMs.toFixed(0)} ms; ` +
    `then one request at a time: median ${quantile(0.5).toFixed(0)} ms, p90 ${quantile(0.9).toFixed(0)} ms ` +
    `(${singles.length} held-out requests, new words embedded as they come)\n`,
);
console.log("Held-out confusion (rows: gold intent, columns: predicted):\n");
console.log(confusionMarkdown(held.confusion));
if (values.errors) for (const e of held.errors) console.log(JSON.stringify(e));
process.exit(0); // the USE-lite worker would keep an idle process a little longer

/**
 * The offline tool model on held-out requests: exact tool calls (intent, tool names and
 * every argument), intent accuracy, the confusion table, and the same scores on fresh
 * requests in the training phrasings as the in-distribution baseline.
 *
 *   npm run bench:agent [-- --model models/tool-model --count 2000]
 */
import { parseArgs } from "node:util";
import { confusionMarkdown, scoreToolModel } from "../examples/agent/evaluateToolModel.js";
import { generateToolDataset } from "../examples/agent/toolData.js";
import { ToolModel } from "../src/agents/toolModel/ToolModel.js";

const { values } = parseArgs({
  options: { model: { type: "string" }, count: { type: "string", default: "2000" }, errors: { type: "boolean" } },
});
const model = ToolModel.load(values.model);
const count = Number(values.count);
const heldOut = generateToolDataset("test", count);
const seen = generateToolDataset("train", count, 1234);

const started = performance.now();
const held = scoreToolModel(model, heldOut);
const ms = performance.now() - started;
const inDist = scoreToolModel(model, seen);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

console.log(`tool model: ${model.tagger.numParameters().toLocaleString()} parameters\n`);
console.log("| requests | exact calls | intent | count |");
console.log("|---|---:|---:|---:|");
console.log(`| held-out phrasings and values | ${pct(held.exact)} | ${pct(held.intent)} | ${held.count} |`);
console.log(
  `| training phrasings, new draws (baseline) | ${pct(inDist.exact)} | ${pct(inDist.intent)} | ${inDist.count} |`,
);
console.log(`\n${(held.count / (ms / 1000)).toFixed(0)} requests/s in batches of 64 (one thread)\n`);
console.log("Held-out confusion (rows: gold intent, columns: predicted):\n");
console.log(confusionMarkdown(held.confusion));
if (values.errors) for (const e of held.errors) console.log(JSON.stringify(e));

/**
 * Trains the offline tool model from scratch with genera's engine on the generated
 * dataset, checks it on held-out requests, and writes the checkpoint genera ships:
 *
 *   nice -n 10 npx tsx examples/agent/train-tool-model.ts [--out models/tool-model] [--steps 1500]
 *
 * Writes config.json, vocab.json, model.safetensors, metrics.jsonl and loss.svg.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { encodeRequest, RequestVocabulary, UNK } from "../../src/agents/toolModel/requestTokens.js";
import { ToolCallTagger } from "../../src/agents/toolModel/ToolCallTagger.js";
import { batchRequests, ToolModel } from "../../src/agents/toolModel/ToolModel.js";
import { INTENTS, TAGS } from "../../src/agents/toolModel/toolPlan.js";
import { AdamW, clipGradNorm, cosineWithWarmup, lineChartSvg, seededRandom } from "../../src/engine/index.js";
import { confusionMarkdown, scoreToolModel } from "./evaluateToolModel.js";
import { generateToolDataset } from "./toolData.js";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "models/tool-model" },
    steps: { type: "string", default: "1500" },
    batch: { type: "string", default: "32" },
    lr: { type: "string", default: "0.003" },
    train: { type: "string", default: "16000" },
    test: { type: "string", default: "2000" },
    d: { type: "string", default: "64" },
    layers: { type: "string", default: "2" },
  },
});
const steps = Number(values.steps);
const batchSize = Number(values.batch);
const MAX_LEN = 48;
/**
 * Known words are read as UNK this often — inside argument spans much more often, since
 * held-out values (topics, paths, documents) are words the model has never seen — so the
 * model learns to find a span's extent from the words around it.
 */
const WORD_DROPOUT = 0.1;
const SPAN_WORD_DROPOUT = 0.25;
/** How often a whole argument span is unknown words, as a held-out topic or path is. */
const SPAN_DROPOUT = 0.35;

const train = generateToolDataset("train", Number(values.train));
const val = generateToolDataset("train", 500, 99);
const test = generateToolDataset("test", Number(values.test));
const vocab = RequestVocabulary.build(train.map((e) => e.text));
const d = Number(values.d);
const tagger = new ToolCallTagger({
  vocabSize: vocab.size,
  maxLen: MAX_LEN,
  dModel: d,
  nHeads: 4,
  nLayers: Number(values.layers),
  dFF: 2 * d,
  dropout: 0.1,
});
const model = new ToolModel(tagger, vocab);
console.log(
  `tool model: ${tagger.numParameters().toLocaleString()} parameters, vocabulary ${vocab.size}, ` +
    `${train.length} training requests, ${test.length} held-out; ${INTENTS.length} intents, ${TAGS.length} tags`,
);

const encoded = train.map((e) => ({
  row: encodeRequest(e.text, vocab, MAX_LEN),
  intent: INTENTS.indexOf(e.intent),
  tags: e.tags.map((t) => TAGS.indexOf(t)),
}));
const optimizer = new AdamW(tagger.namedParameters(), { lr: Number(values.lr), weightDecay: 0.01 });
const schedule = cosineWithWarmup({
  lr: Number(values.lr),
  minLr: Number(values.lr) / 10,
  warmupSteps: 100,
  totalSteps: steps,
});
const rng = seededRandom(11);
const unk = vocab.id(UNK);
const metrics: Array<Record<string, number>> = [];
const started = Date.now();
let smooth = 0;

for (let step = 0; step < steps; step++) {
  const picked = Array.from(
    { length: batchSize },
    () => encoded[Math.floor(rng() * encoded.length)] as (typeof encoded)[number],
  );
  const rows = picked.map(({ row, tags }) => {
    const wholeSpans = rng() < SPAN_DROPOUT;
    return {
      ...row,
      // Position 0 is [CLS]; token i sits at i + 1, its tag at tags[i] (0 = outside any span).
      words: row.words.map((w, i) => {
        if (i === 0) return w;
        const inSpan = (tags[i - 1] ?? 0) > 0;
        if (inSpan && wholeSpans) return unk;
        return rng() < (inSpan ? SPAN_WORD_DROPOUT : WORD_DROPOUT) ? unk : w;
      }),
    };
  });
  const batch = batchRequests(rows, { intents: picked.map((p) => p.intent), tags: picked.map((p) => p.tags) });
  optimizer.lr = schedule(step);
  optimizer.zeroGrad();
  const { loss } = tagger.forward(batch);
  if (!loss) throw new Error("no loss");
  loss.backward();
  clipGradNorm(optimizer.params, 1);
  optimizer.step();
  const value = loss.data[0] as number;
  smooth = step === 0 ? value : 0.95 * smooth + 0.05 * value;
  if (step % 25 === 0 || step === steps - 1) metrics.push({ step, loss: value });
  if (step % 250 === 0 || step === steps - 1) {
    const v = scoreToolModel(model, val);
    tagger.train();
    metrics.push({ step, valExact: v.exact });
    const elapsed = (Date.now() - started) / 1000;
    const eta = (elapsed / (step + 1)) * (steps - step - 1);
    process.stdout.write(
      `step ${String(step).padStart(5)}/${steps}  loss ${smooth.toFixed(4)}  val exact ${(v.exact * 100).toFixed(1)}%  ` +
        `${elapsed.toFixed(0)} s (ETA ${eta.toFixed(0)} s)\n`,
    );
  }
}

const score = scoreToolModel(model, test);
const seconds = Math.round((Date.now() - started) / 1000);
console.log(
  `\nheld-out requests: exact ${(score.exact * 100).toFixed(2)}%, intent ${(score.intent * 100).toFixed(2)}% of ${score.count}`,
);
console.log(confusionMarkdown(score.confusion));
for (const e of score.errors.slice(0, 15)) console.log(JSON.stringify(e));

model.save(values.out, { trainedSteps: steps, trainSeconds: seconds, heldOutExact: Number(score.exact.toFixed(4)) });
writeFileSync(join(values.out, "metrics.jsonl"), `${metrics.map((m) => JSON.stringify(m)).join("\n")}\n`);
const title = "Offline tool model: training loss (intent + tags) and validation exact-call accuracy";
const svg = lineChartSvg({
  title,
  xLabel: "step",
  yLabel: "loss / accuracy",
  series: [
    {
      name: "training loss",
      points: metrics.filter((m) => m.loss !== undefined).map((m) => [m.step as number, m.loss as number]),
    },
    {
      name: "validation exact calls",
      points: metrics.filter((m) => m.valExact !== undefined).map((m) => [m.step as number, m.valExact as number]),
      markers: true,
    },
  ],
});
// A <title> names the chart for screen readers (and the linter asks for one).
writeFileSync(join(values.out, "loss.svg"), svg.replace(/(<svg[^>]*>)/, `$1<title>${title}</title>`));
console.log(`wrote ${values.out} in ${seconds} s`);

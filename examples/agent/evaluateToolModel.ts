/**
 * Scores the offline tool model on a set of requests: a request counts as right only
 * when the intent, every tool call's name and every argument (and, after a search, the
 * operation on its figure) are exactly the gold ones.
 */
import type { ToolModel } from "../../src/agents/toolModel/ToolModel.js";
import { INTENTS, type Intent } from "../../src/agents/toolModel/toolPlan.js";
import type { ToolExample } from "./toolData.js";

export interface ToolModelScore {
  /** Right intent, right calls, right arguments. */
  exact: number;
  intent: number;
  count: number;
  /** confusion[gold][predicted] = count of requests. */
  confusion: Record<Intent, Record<Intent, number>>;
  /** Some wrong predictions, to read. */
  errors: Array<{ text: string; gold: unknown; predicted: unknown }>;
}

export async function scoreToolModel(
  model: ToolModel,
  examples: ToolExample[],
  batchSize = 64,
): Promise<ToolModelScore> {
  const confusion = Object.fromEntries(
    INTENTS.map((g) => [g, Object.fromEntries(INTENTS.map((p) => [p, 0]))]),
  ) as ToolModelScore["confusion"];
  let exact = 0;
  let intent = 0;
  const errors: ToolModelScore["errors"] = [];
  for (let i = 0; i < examples.length; i += batchSize) {
    const batch = examples.slice(i, i + batchSize);
    const predictions = await model.predictBatch(batch.map((e) => e.text));
    batch.forEach((ex, j) => {
      const { plan } = predictions[j] as (typeof predictions)[number];
      confusion[ex.intent][plan.intent]++;
      if (plan.intent === ex.intent) intent++;
      const same =
        plan.intent === ex.intent &&
        JSON.stringify(plan.calls) === JSON.stringify(ex.calls) &&
        (plan.operation ?? "") === (ex.operation ?? "");
      if (same) exact++;
      else if (errors.length < 40) {
        errors.push({
          text: ex.text,
          gold: { intent: ex.intent, calls: ex.calls, operation: ex.operation },
          predicted: { intent: plan.intent, calls: plan.calls, operation: plan.operation },
        });
      }
    });
  }
  return {
    exact: exact / examples.length,
    intent: intent / examples.length,
    count: examples.length,
    confusion,
    errors,
  };
}

/** The confusion table as Markdown: rows are the gold intent, columns the predicted one. */
export function confusionMarkdown(confusion: ToolModelScore["confusion"]): string {
  const short = (i: string) => i.replace("search_calculate", "search+calc").replace("read_document", "read_doc");
  const header = `| gold \\ predicted | ${INTENTS.map(short).join(" | ")} | recall |`;
  const rule = `|---|${INTENTS.map(() => "---:").join("|")}|---:|`;
  const rows = INTENTS.map((g) => {
    const row = INTENTS.map((p) => confusion[g][p]);
    const total = row.reduce((a, b) => a + b, 0);
    const recall = total ? (confusion[g][g] / total).toFixed(3) : "—";
    return `| ${short(g)} | ${row.join(" | ")} | ${recall} |`;
  });
  return [header, rule, ...rows].join("\n");
}

/**
 * Refusals: of the requests no tool serves, the share refused (recall); of the refusals
 * made, the share that were right (precision).
 */
export function refusalScores(confusion: ToolModelScore["confusion"]): { recall: number; precision: number } {
  const toRefuse = INTENTS.reduce((n, p) => n + confusion.refuse[p], 0);
  const refused = INTENTS.reduce((n, gold) => n + confusion[gold].refuse, 0);
  return {
    recall: confusion.refuse.refuse / Math.max(1, toRefuse),
    precision: confusion.refuse.refuse / Math.max(1, refused),
  };
}

/**
 * The tool model's loss.svg and metrics.jsonl: training loss and validation exact-call
 * accuracy per step, one pair of curves per run (an ensemble's members each have theirs).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { lineChartSvg } from "../../src/engine/index.js";

export type TrainingMetric = { step: number; loss?: number; valExact?: number; member?: number };

const TITLE = "Offline tool model: training loss (intent + tags) and validation exact-call accuracy";

export function writeTrainingChart(dir: string, runs: TrainingMetric[][]): void {
  const rows = runs.flatMap((metrics, member) => metrics.map((m) => (runs.length > 1 ? { ...m, member } : m)));
  writeFileSync(join(dir, "metrics.jsonl"), `${rows.map((m) => JSON.stringify(m)).join("\n")}\n`);
  // Short names for an ensemble's members: the legend is narrow.
  const name = (what: string, short: string, member: number) =>
    runs.length > 1 ? `${short}, member ${member + 1}` : what;
  const svg = lineChartSvg({
    title: TITLE,
    xLabel: "step",
    yLabel: "loss / accuracy",
    series: runs.flatMap((metrics, member) => [
      {
        name: name("training loss", "loss", member),
        points: metrics.filter((m) => m.loss !== undefined).map((m) => [m.step, m.loss as number] as [number, number]),
      },
      {
        name: name("validation exact calls", "val. exact", member),
        points: metrics
          .filter((m) => m.valExact !== undefined)
          .map((m) => [m.step, m.valExact as number] as [number, number]),
        markers: true,
      },
    ]),
  });
  // A <title> names the chart for screen readers (and the linter asks for one); lineChartSvg may write it already.
  writeFileSync(
    join(dir, "loss.svg"),
    svg.includes("<title>") ? svg : svg.replace(/(<svg[^>]*>)/, `$1<title>${TITLE}</title>`),
  );
}

/** A run's metrics as the training script wrote them (metrics.jsonl), split by member. */
export function readTrainingMetrics(text: string): TrainingMetric[][] {
  const runs: TrainingMetric[][] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const m = JSON.parse(line) as TrainingMetric;
    const member = m.member ?? 0;
    runs[member] ??= [];
    const { member: _member, ...rest } = m;
    runs[member].push(rest);
  }
  return runs;
}

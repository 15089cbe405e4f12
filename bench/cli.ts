/**
 * Start-up cost of the `genera` command and of `import "genera"`, against Node's own start in
 * the same run (issue goal: each command within 0.5 s of `node -e 0`).
 *
 *   npm run build && node --import ./scripts/ts.mjs bench/cli.ts        (npm run bench:cli)
 *   GENERA_ROOT=/path/to/other/checkout node --import ./scripts/ts.mjs bench/cli.ts   (the same cases on another build)
 *
 * Each command runs ROUNDS times, alternating with the baseline, so a busy machine slows both
 * alike; the table shows medians and the difference to the baseline's median. `stats` runs on a
 * small index built first (three Markdown files), so it opens a real store; `index` re-runs on
 * those unchanged files, so it shows what a run pays before its first file (store, loaders,
 * embedding model) and whether the image stack stays unloaded on a corpus without images.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ROOT = resolve(process.env.GENERA_ROOT ?? ".");
const BIN = join(ROOT, "bin/genera.js");

const dir = mkdtempSync(join(tmpdir(), "genera-bench-cli-"));
const docs = join(dir, "docs");
mkdirSync(docs);
for (const [name, text] of [
  ["a.md", "# Alpha\n\nAlpha is the first letter."],
  ["b.md", "# Beta\n\nBeta comes second."],
  ["c.md", "# Gamma\n\nGamma is third."],
]) {
  writeFileSync(join(docs, name), text);
}
const env = { ...process.env, GENERA_DATA_DIR: join(dir, "data") };

function seconds(args: string[], expectOk: boolean): number {
  const t0 = performance.now();
  const run = spawnSync(process.execPath, args, { env, encoding: "utf8", cwd: ROOT });
  const elapsed = (performance.now() - t0) / 1000;
  if ((run.status === 0) !== expectOk) {
    throw new Error(`${args.join(" ")} exited ${run.status}: ${run.stderr}`);
  }
  return elapsed;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cases: { name: string; args: string[]; ok: boolean }[] = [
  { name: "genera --version", args: [BIN, "--version"], ok: true },
  { name: "genera stats", args: [BIN, "stats"], ok: true },
  { name: "genera search x --k abc (flag error)", args: [BIN, "search", "x", "--k", "abc"], ok: false },
  { name: "genera index --chunk-size abc (flag error)", args: [BIN, "index", docs, "--chunk-size", "abc"], ok: false },
  { name: "genera serve --port abc (flag error)", args: [BIN, "serve", "--port", "abc"], ok: false },
  { name: "genera index (3 unchanged Markdown files)", args: [BIN, "index", docs], ok: true },
  {
    name: 'import "genera" (the root export)',
    args: ["--input-type=module", "-e", `await import("genera")`],
    ok: true,
  },
  {
    name: "import @langchain/core's Runnable + Document (floor)",
    args: [
      "--input-type=module",
      "-e",
      `await import("@langchain/core/runnables"); await import("@langchain/core/documents")`,
    ],
    ok: true,
  },
];

try {
  seconds([BIN, "index", docs], true);
  const baseline: number[] = [];
  const times = cases.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    baseline.push(seconds(["-e", "0"], true));
    cases.forEach((c, i) => {
      times[i].push(seconds(c.args, c.ok));
    });
  }
  const base = median(baseline);
  const rows = [
    ["node -e 0 (baseline)", base.toFixed(3), "-"],
    ...cases.map((c, i) => {
      const m = median(times[i]);
      return [c.name, m.toFixed(3), `+${(m - base).toFixed(3)}`];
    }),
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`${"command".padEnd(width)}  median s  vs baseline (goal: +0.5 s or less)`);
  for (const [name, m, d] of rows) console.log(`${name.padEnd(width)}  ${m.padStart(8)}  ${d.padStart(8)}`);
  console.log(`(${ROUNDS} rounds each, alternating with the baseline)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

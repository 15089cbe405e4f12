// npm run bench:ingest — index a generated corpus of 1,000 files (~1 MB) from
// scratch, re-index it unchanged, then after changing 1% of the files.
// Goal: unchanged re-index ≤ 3% of the first index's time; 1% change ≤ 5%.
//
// npm run bench:ingest -- --against=<git revision> [--rounds=3] [--files=1000]
//   runs this bench on that revision's code and on this tree's, in turns (one child process
//   each, the order swapped every round), and prints the first index's throughput of this tree
//   against that revision's in every round: a ratio the machine's load hits alike. The revision's
//   code is extracted with `git archive`; it runs on this tree's node_modules (older revisions
//   need what they used then: tsx for those without scripts/ts.mjs).
import { execFileSync, execSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createEmbeddings } from "../src/embeddings/createEmbeddings.js";
import { seededRandom as rng } from "../src/engine/random.js";
import { type IndexSummary, KnowledgeBase } from "../src/knowledge/KnowledgeBase.js";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const FILES = Number(arg("files") ?? 1000);
const AGAINST = arg("against");
const WORDS = (
  "model token attention layer vector index query document chunk embedding retrieval answer source training loss " +
  "gradient optimizer weight bias kernel matrix batch epoch sample noise image text audio prompt context window " +
  "latency memory cache thread worker queue server client request response session record store hash file"
).split(" ");

function fileText(i: number, version: number): string {
  const r = rng(i * 31 + version);
  const paragraphs: string[] = [];
  let size = 0;
  while (size < 950) {
    const n = 12 + Math.floor(r() * 18);
    const words = Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]);
    const p = `${words.join(" ")} ${i}-${version}.`;
    paragraphs.push(p.charAt(0).toUpperCase() + p.slice(1));
    size += p.length;
  }
  return `# Document ${i}\n\n${paragraphs.join("\n\n")}\n`;
}

function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** One run of the bench in this process: the table, and the first index's figures. */
async function measure(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "genera-bench-ingest-"));
  const corpus = join(work, "corpus");
  mkdirSync(corpus);
  let bytes = 0;
  for (let i = 0; i < FILES; i++) {
    const text = fileText(i, 0);
    bytes += text.length;
    writeFileSync(join(corpus, `doc-${String(i).padStart(4, "0")}.md`), text);
  }

  const embeddings = createEmbeddings({ provider: "use", workers: 0, cache: true, cacheDir: join(work, "cache") });
  const kb = await KnowledgeBase.open({ dir: join(work, "store"), embeddings, ownsEmbeddings: true });
  const rows: Array<{ phase: string; s: IndexSummary }> = [];
  const run = async (phase: string) => {
    const s = await kb.index([corpus], {
      onProgress: (e) => {
        if (e.phase === "index" && e.filesDone % 100 === 0)
          process.stderr.write(`\r${phase}: ${e.filesDone}/${e.filesTotal}`);
      },
    });
    process.stderr.write("\n");
    rows.push({ phase, s });
  };

  await run("first index");
  await run("unchanged re-index");
  const changed = Math.max(1, Math.round(FILES / 100));
  for (let i = 0; i < changed; i++) {
    writeFileSync(join(corpus, `doc-${String((i * 97) % FILES).padStart(4, "0")}.md`), fileText((i * 97) % FILES, 1));
  }
  await run(`after changing ${changed} files`);
  await kb.close();

  const base = rows[0]!.s.seconds;
  console.log(
    `\nCorpus: ${FILES} files, ${(bytes / 1024 / 1024).toFixed(2)} MB, embeddings ${embeddings.constructor.name}\n`,
  );
  console.log("| phase | time (s) | files/s | chunks embedded | chunks/s | ratio to first | goal |");
  console.log("|---|---:|---:|---:|---:|---:|---|");
  rows.forEach(({ phase, s }, i) => {
    const files = s.added + s.updated + s.unchanged;
    const goal = i === 0 ? "" : i === 1 ? "≤ 3%" : "≤ 5%";
    console.log(
      `| ${phase} | ${s.seconds.toFixed(2)} | ${(files / s.seconds).toFixed(0)} | ${s.chunksAdded} | ` +
        `${(s.chunksAdded / s.seconds).toFixed(1)} | ${((s.seconds / base) * 100).toFixed(2)}% | ${goal} |`,
    );
  });
  console.log(`\nPeak RSS: ${peakRssMiB().toFixed(0)} MiB`);
  rmSync(work, { recursive: true, force: true });
}

/** The first index's seconds and chunks from a run's table (the format every revision prints). */
function firstIndex(output: string): { seconds: number; chunks: number } {
  const row = output.split("\n").find((line) => line.startsWith("| first index |"));
  const cells = row?.split("|").map((c) => c.trim());
  if (!cells) throw new Error(`no "first index" row in:\n${output}`);
  return { seconds: Number(cells[2]), chunks: Number(cells[4]) };
}

/** Runs this bench on `revision`'s code and on this tree's in turns (see the top of the file). */
async function compare(revision: string, rounds: number): Promise<void> {
  const root = resolve(import.meta.dirname, "..");
  const commit = execFileSync("git", ["rev-parse", "--verify", `${revision}^{commit}`], {
    cwd: root,
    encoding: "utf8",
  }).trim();
  const base = mkdtempSync(join(tmpdir(), "genera-bench-ingest-base-"));
  try {
    execSync(`git archive ${commit} | tar -x -C ${JSON.stringify(base)}`, { cwd: root });
    symlinkSync(join(root, "node_modules"), join(base, "node_modules"), "dir");
    // CPU seconds of the finished children (Linux: utime + stime of waited-for children, in
    // clock ticks of 1/100 s): unlike wall time, not moved by the machine's load or by the nice
    // value indexing runs at.
    const childCpu = () => {
      if (process.platform !== "linux") return Number.NaN;
      const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
      return (Number(fields[13]) + Number(fields[14])) / 100;
    };
    const run = (tree: string) => {
      const cpuBefore = childCpu();
      const loader = existsSync(join(tree, "scripts", "ts.mjs")) ? join(tree, "scripts", "ts.mjs") : "tsx";
      const output = execFileSync(
        process.execPath,
        ["--import", loader, join(tree, "bench", "ingest.ts"), `--files=${FILES}`],
        {
          cwd: tree,
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        },
      );
      return { ...firstIndex(output), cpu: childCpu() - cpuBefore };
    };
    console.log(`\nFirst index of ${FILES} files: this tree against ${revision} (${commit.slice(0, 7)}), in turns\n`);
    console.log(
      "| round | baseline s | this tree s | baseline chunks | this tree chunks | files/s this / baseline | " +
        "run CPU s baseline | run CPU s this tree | CPU baseline / this |",
    );
    console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const order = round % 2 ? [base, root] : [root, base];
      const results = new Map(order.map((tree) => [tree, run(tree)]));
      const b = results.get(base)!;
      const t = results.get(root)!;
      ratios.push(b.seconds / t.seconds);
      cpuRatios.push(b.cpu / t.cpu);
      console.log(
        `| ${round} | ${b.seconds.toFixed(2)} | ${t.seconds.toFixed(2)} | ${b.chunks} | ${t.chunks} | ` +
          `${(b.seconds / t.seconds).toFixed(3)} | ${b.cpu.toFixed(1)} | ${t.cpu.toFixed(1)} | ${(b.cpu / t.cpu).toFixed(3)} |`,
      );
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
    console.log(
      `\nMedian throughput ratio ${median(ratios).toFixed(3)} (goal ≥ 0.90: at most 10% slower); ` +
        `median CPU ratio of the whole runs ${median(cpuRatios).toFixed(3)}`,
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

if (AGAINST) await compare(AGAINST, Number(arg("rounds") ?? 3));
else await measure();

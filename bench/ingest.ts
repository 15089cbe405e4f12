// npm run bench:ingest — index a generated corpus of 1,000 files (~1 MB) from
// scratch, re-index it unchanged, then after changing 1% of the files.
// Goal: unchanged re-index ≤ 3% of the first index's time; 1% change ≤ 5%.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEmbeddings } from "../src/embeddings/createEmbeddings.js";
import { seededRandom as rng } from "../src/engine/random.js";
import { type IndexSummary, KnowledgeBase } from "../src/knowledge/KnowledgeBase.js";

const FILES = Number(process.argv.find((a) => a.startsWith("--files="))?.split("=")[1] ?? 1000);
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

/**
 * Loader benchmark: walking a generated tree with walkFiles against a bare recursive
 * readdir (the floor: no binary sniff, no realpath, no patterns), then loading and
 * splitting each text format, reported per file and per MiB.
 *
 *   node --import ./scripts/ts.mjs bench/loaders.ts [files=5000]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { walkFiles } from "../loaders/DirectoryLoader.js";
import { loadFile } from "../loaders/loadFile.js";
import { splitDocuments } from "../loaders/splitter.js";

const files = Number(process.argv[2] ?? 5000);
const dir = mkdtempSync(join(tmpdir(), "genera-bench-loaders-"));

const paragraph = (i: number) =>
  `Paragraph ${i} explains how retrieval finds the right chunk for a question, and why keyword search helps with names and numbers.`;
const makers: Record<string, (i: number) => string> = {
  md: (i) =>
    `---\ntitle: Note ${i}\n---\n# Note ${i}\n\n${Array.from({ length: 12 }, (_, p) => `## Part ${p}\n\n${paragraph(p)}`).join("\n\n")}\n`,
  html: (i) =>
    `<html><head><title>Page ${i}</title><script>var x=1</script></head><body><nav>menu</nav><main><h1>Page ${i}</h1>${Array.from({ length: 12 }, (_, p) => `<h2>Part ${p}</h2><p>${paragraph(p)}</p>`).join("")}</main></body></html>`,
  txt: (i) => Array.from({ length: 12 }, (_, p) => paragraph(p + i)).join("\n\n"),
  csv: () => `name,description\n${Array.from({ length: 12 }, (_, p) => `item${p},"${paragraph(p)}"`).join("\n")}\n`,
  ts: (i) =>
    Array.from(
      { length: 12 },
      (_, p) => `export function f${i}_${p}(x: number): number {\n  // ${paragraph(p)}\n  return x * ${p};\n}\n`,
    ).join("\n"),
};
const exts = Object.keys(makers);
let bytes = 0;
for (let i = 0; i < files; i++) {
  const sub = join(dir, `d${i % 50}`, `e${i % 7}`);
  mkdirSync(sub, { recursive: true });
  const ext = exts[i % exts.length] as string;
  const content = (makers[ext] as (i: number) => string)(i);
  bytes += Buffer.byteLength(content);
  writeFileSync(join(sub, `f${i}.${ext}`), content);
}

async function bareWalk(path: string): Promise<number> {
  let n = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isDirectory()) n += await bareWalk(join(path, entry.name));
    else n++;
  }
  return n;
}

const rows: string[][] = [];
let t = performance.now();
const bare = await bareWalk(dir);
const bareS = (performance.now() - t) / 1000;
rows.push(["recursive readdir (baseline)", String(bare), bareS.toFixed(2), (bare / bareS).toFixed(0), "1.00"]);
t = performance.now();
const walked: string[] = [];
for await (const f of walkFiles(dir)) walked.push(f.absPath);
const walkS = (performance.now() - t) / 1000;
rows.push([
  "walkFiles",
  String(walked.length),
  walkS.toFixed(2),
  (walked.length / walkS).toFixed(0),
  (bareS / walkS).toFixed(2),
]);

console.log(`\n${files} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB, Node ${process.version}\n`);
console.log("| listing | files | seconds | files/s | speed vs baseline |\n|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);

console.log("\n| format | files | load ms/file | split ms/file | chunks/file |\n|---|---|---|---|---|");
for (const ext of exts) {
  const paths = walked.filter((p) => p.endsWith(`.${ext}`)).slice(0, 300);
  let loadMs = 0;
  let splitMs = 0;
  let chunks = 0;
  for (const p of paths) {
    let s = performance.now();
    const docs = await loadFile(p, { root: dir });
    loadMs += performance.now() - s;
    s = performance.now();
    chunks += (await splitDocuments(docs, { chunkSize: 800, chunkOverlap: 100 })).length;
    splitMs += performance.now() - s;
  }
  console.log(
    `| ${ext} | ${paths.length} | ${(loadMs / paths.length).toFixed(2)} | ${(splitMs / paths.length).toFixed(2)} | ${(chunks / paths.length).toFixed(1)} |`,
  );
}
rmSync(dir, { recursive: true, force: true });

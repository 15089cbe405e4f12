/**
 * Splitter benchmark: genera's span splitter against LangChain's
 * RecursiveCharacterTextSplitter (Markdown separators) on the same generated Markdown.
 * Reports speed and structure quality: chunks that cut a fenced code block, chunks
 * with no text besides a heading, and whether offsets map back to the source.
 *
 *   node --import ./scripts/ts.mjs bench/splitter.ts [megabytes=4]
 */
import { Document } from "@langchain/core/documents";
import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";
import { splitDocuments } from "../loaders/splitter.js";

const megabytes = Number(process.argv[2] ?? 4);
const CHUNK = 800;
const OVERLAP = 100;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function corpus(bytes: number): Document[] {
  const rand = rng(7);
  const vocab =
    "model attention layer token vector index query answer source chunk embedding retrieval training loss".split(" ");
  const word = () => vocab[Math.floor(rand() * vocab.length)];
  const sentence = () => `${Array.from({ length: 6 + Math.floor(rand() * 14) }, word).join(" ")}.`;
  const docs: Document[] = [];
  let total = 0;
  for (let d = 0; total < bytes; d++) {
    const parts = [`# Document ${d}`];
    for (let s = 0; s < 4 + Math.floor(rand() * 8); s++) {
      parts.push(`## Section ${s}`);
      for (let p = 0; p < 1 + Math.floor(rand() * 4); p++) {
        if (rand() < 0.25) {
          const lines = Array.from({ length: 3 + Math.floor(rand() * 25) }, () => `  ${word()}(${word()}, ${word()});`);
          parts.push(`\`\`\`js\n${lines.join("\n")}\n\`\`\``);
        } else {
          parts.push(Array.from({ length: 2 + Math.floor(rand() * 8) }, sentence).join(" "));
        }
      }
    }
    const text = parts.join("\n\n");
    total += text.length;
    docs.push(new Document({ pageContent: text, metadata: { source: `doc${d}.md`, format: "markdown" } }));
  }
  return docs;
}

function quality(chunks: Document[]) {
  let brokenFences = 0;
  let headingOnly = 0;
  for (const c of chunks) {
    if ((c.pageContent.match(/```/g) ?? []).length % 2 !== 0) brokenFences++;
    if (c.pageContent.split("\n").every((l) => /^#{1,6} /.test(l) || !l.trim())) headingOnly++;
  }
  return { brokenFences, headingOnly };
}

async function main() {
  const docs = corpus(megabytes * 1024 * 1024);
  const chars = docs.reduce((s, d) => s + d.pageContent.length, 0);
  const rows: string[][] = [];

  const lc = RecursiveCharacterTextSplitter.fromLanguage("markdown", { chunkSize: CHUNK, chunkOverlap: OVERLAP });
  const runLc = () => lc.splitDocuments(docs);
  const runOurs = () => splitDocuments(docs, { chunkSize: CHUNK, chunkOverlap: OVERLAP });
  // Alternating rounds after a warm-up, median time: the machine is shared and noisy.
  await runLc();
  await runOurs();
  const lcTimes: number[] = [];
  const ourTimes: number[] = [];
  let lcChunks: Document[] = [];
  let ours: Document[] = [];
  for (let round = 0; round < 3; round++) {
    let t = performance.now();
    lcChunks = await runLc();
    lcTimes.push((performance.now() - t) / 1000);
    t = performance.now();
    ours = await runOurs();
    ourTimes.push((performance.now() - t) / 1000);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const lcSeconds = median(lcTimes);
  const ourSeconds = median(ourTimes);
  const byId = new Map(docs.map((d) => [d.metadata.source as string, d.pageContent]));
  const exact = ours.every(
    (c) =>
      (byId.get(c.metadata.source as string) as string).slice(c.metadata.startChar, c.metadata.endChar) ===
      c.pageContent,
  );

  const q1 = quality(lcChunks);
  const q2 = quality(ours);
  const mb = chars / 1024 / 1024;
  rows.push([
    "LangChain RecursiveCharacterTextSplitter (markdown)",
    lcSeconds.toFixed(2),
    (mb / lcSeconds).toFixed(1),
    "1.00",
    String(lcChunks.length),
    String(q1.brokenFences),
    String(q1.headingOnly),
    "n/a (loc.lines only)",
  ]);
  rows.push([
    "genera splitDocuments",
    ourSeconds.toFixed(2),
    (mb / ourSeconds).toFixed(1),
    (lcSeconds / ourSeconds).toFixed(2),
    String(ours.length),
    String(q2.brokenFences),
    String(q2.headingOnly),
    exact ? "yes" : "NO",
  ]);
  console.log(
    `\n${docs.length} Markdown documents, ${mb.toFixed(1)} MiB, chunkSize ${CHUNK}, overlap ${OVERLAP}, Node ${process.version}\n`,
  );
  console.log(
    "| splitter | seconds | MiB/s | speed vs LangChain | chunks | chunks cutting a code block | heading-only chunks | offsets exact |",
  );
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
}

await main();

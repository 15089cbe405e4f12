/**
 * Query latency of keyword-only, dense-only and hybrid retrieval over 10,000 chunks,
 * and the size of both indexes on disk.
 *
 * Run: node --import ./scripts/ts.mjs bench/retrieval.ts   (npm run bench:retrieval)
 *      GENERA_BENCH_CHUNKS=2000 for a quicker run; GENERA_BENCH_QUERIES (default 200)
 *
 * The corpus is generated (Zipf-distributed words, names and numbers, 1,000 files × 10
 * chunks). Embedding 10k chunks with USE-lite takes ~1 minute (8 on tfjs), so corpus vectors come
 * from a cheap deterministic stand-in (hashed bag of words, 512-d like USE): the HNSW
 * graph has the same size and search cost, only the ranking is meaningless. QUERIES are
 * embedded with the real USE-lite model on every call, because that is what a user
 * waits for. A second table uses pre-computed query vectors to isolate the retrieval
 * work itself. Ratios are against dense-only in the same run; modes are interleaved
 * query by query so machine noise hits them alike.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { Embeddings, type EmbeddingsInterface } from "@langchain/core/embeddings";
import { UniversalSentenceEncoderEmbeddings } from "../src/embeddings/UniversalSentenceEncoderEmbeddings.js";
import { seededRandom as rng } from "../src/engine/random.js";
import { HybridRetriever, type RetrievalMode } from "../vectorstores/HybridRetriever.js";
import { HNSWVectorStore } from "../vectorstores/hnsw.js";
import { KeywordIndex } from "../vectorstores/KeywordIndex.js";

const CHUNKS = Number(process.env.GENERA_BENCH_CHUNKS ?? 10_000);
const QUERIES = Number(process.env.GENERA_BENCH_QUERIES ?? 200);
const DIM = 512;

/** Deterministic PRNG (mulberry32) so every run indexes the same corpus. */
const SYLLABLES = ["ka", "lo", "mi", "ren", "tor", "va", "sel", "qui", "dan", "por", "el", "ix", "um", "bra", "sto"];
const COMMON = "the of and to in is that for it as with was on be by this are from at or an which".split(" ");

function makeWord(r: () => number): string {
  const n = 2 + Math.floor(r() * 3);
  let w = "";
  for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)];
  return w;
}

function generateCorpus(chunks: number): Document[] {
  const r = rng(42);
  const vocab = Array.from({ length: 8000 }, () => makeWord(r));
  // Zipf: word i drawn with probability ∝ 1 / (i + 1).
  const cumulative: number[] = [];
  let total = 0;
  for (let i = 0; i < vocab.length; i++) {
    total += 1 / (i + 1);
    cumulative.push(total);
  }
  const zipf = () => {
    const x = r() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return vocab[lo];
  };
  const docs: Document[] = [];
  const perFile = 10;
  for (let i = 0; i < chunks; i++) {
    const file = Math.floor(i / perFile);
    const title = `${makeWord(r)} ${makeWord(r)}`;
    const words: string[] = [];
    while (words.join(" ").length < 750) {
      const x = r();
      if (x < 0.3) words.push(COMMON[Math.floor(r() * COMMON.length)]);
      else if (x < 0.31) words.push(String(Math.floor(r() * 100_000)));
      else if (x < 0.32) words.push(`${makeWord(r)[0].toUpperCase()}${makeWord(r)}`);
      else words.push(zipf());
    }
    docs.push(
      new Document({
        id: `f${file}#${i % perFile}`,
        pageContent: `${words.join(" ")}.`,
        metadata: { source: `docs/file-${file}.md`, title, headings: [title, `section ${i % perFile}`] },
      }),
    );
  }
  return docs;
}

/** The cheap stand-in for corpus vectors: a hashed bag of words, unit length. */
function hashVector(text: string): number[] {
  const v = new Array<number>(DIM).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const h = createHash("md5").update(word).digest();
    v[h.readUInt32LE(0) % DIM] += h[4] & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/** Serves pre-computed query vectors, to time retrieval without the encoder. */
class FixedQueryEmbeddings extends Embeddings {
  constructor(private readonly vectors: Map<string, number[]>) {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.vectors.get(t) ?? hashVector(t));
  }
  async embedQuery(text: string): Promise<number[]> {
    return this.vectors.get(text) ?? hashVector(text);
  }
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function dirBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + dirBytes(join(path, name)), 0);
}

async function timeModes(
  store: HNSWVectorStore,
  keywordIndex: KeywordIndex,
  embeddings: EmbeddingsInterface,
  queries: string[],
): Promise<Map<RetrievalMode, { wall: number[]; cpu: number[] }>> {
  // A view of the same HNSW graph with another query encoder: the retriever reads `embeddings` from the store.
  const view = Object.create(store, { embeddings: { value: embeddings } }) as HNSWVectorStore;
  const modes: RetrievalMode[] = ["keyword", "dense", "hybrid"];
  const retrievers = new Map(
    modes.map((mode) => [mode, new HybridRetriever({ vectorStore: view, keywordIndex, mode })]),
  );
  const times = new Map(modes.map((m) => [m, { wall: [] as number[], cpu: [] as number[] }]));
  for (const [i, query] of queries.entries()) {
    // Rotate the order so no mode always runs first (cache warmth, GC timing).
    for (let j = 0; j < modes.length; j++) {
      const mode = modes[(i + j) % modes.length];
      const cpu = process.cpuUsage();
      const t = performance.now();
      await retrievers.get(mode)!.invoke(query);
      times.get(mode)!.wall.push(performance.now() - t);
      // CPU time of the whole process, the encoder's worker thread included: on a machine with no
      // free core a search takes about this much of its share, so hybrid / dense here is what a
      // busy machine shows, whatever the load was while measuring.
      const used = process.cpuUsage(cpu);
      times.get(mode)!.cpu.push((used.user + used.system) / 1000);
    }
  }
  return times;
}

function printTable(title: string, times: Map<RetrievalMode, { wall: number[]; cpu: number[] }>): void {
  const p50 = (values: number[]) =>
    percentile(
      [...values].sort((a, b) => a - b),
      50,
    );
  const stats = new Map(
    [...times].map(([mode, { wall, cpu }]) => {
      const sorted = [...wall].sort((a, b) => a - b);
      return [
        mode,
        {
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          mean: wall.reduce((a, b) => a + b, 0) / wall.length,
          cpu: p50(cpu),
        },
      ];
    }),
  );
  const dense = stats.get("dense")!;
  console.log(`\n### ${title}\n`);
  console.log("| mode | p50 ms | p99 ms | mean ms | p50 / dense p50 | CPU ms p50 | CPU / dense CPU |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const [mode, s] of stats) {
    console.log(
      `| ${mode} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.mean.toFixed(2)} | ${(s.p50 / dense.p50).toFixed(2)} | ` +
        `${s.cpu.toFixed(2)} | ${(s.cpu / dense.cpu).toFixed(2)} |`,
    );
  }
}

async function main(): Promise<void> {
  let t = performance.now();
  const docs = generateCorpus(CHUNKS);
  const vectors = docs.map((d) => hashVector(d.pageContent));
  const use = new UniversalSentenceEncoderEmbeddings();
  const store = new HNSWVectorStore(use, { initialCapacity: CHUNKS, modelId: use.modelId });
  await store.addVectors(vectors, docs);
  const buildDense = performance.now() - t;
  t = performance.now();
  const keywordIndex = KeywordIndex.rebuildFrom(docs);
  const buildKeyword = performance.now() - t;

  const dir = mkdtempSync(join(tmpdir(), "genera-bench-retrieval-"));
  try {
    await store.save(join(dir, "hnsw"));
    // What the knowledge base's store persists per chunk (analysed terms) and reopens from.
    t = performance.now();
    const analysed = docs.map((doc) => ({ id: doc.id as string, terms: keywordIndex.termsOf(doc), document: doc }));
    const saveKeyword = performance.now() - t;
    const keywordBytes = analysed.reduce((n, a) => n + Buffer.byteLength(Object.values(a.terms).join("\n")), 0);
    t = performance.now();
    new KeywordIndex().addAnalyzed(analysed);
    const loadKeyword = performance.now() - t;
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);

    // Questions built from chunk words: a rare word or two plus common ones, like a user's query.
    const r = rng(7);
    const queries = Array.from({ length: QUERIES }, () => {
      const words = docs[Math.floor(r() * docs.length)].pageContent.replace(/\.$/, "").split(" ");
      const start = Math.floor(r() * Math.max(1, words.length - 8));
      return `what about ${words.slice(start, start + 3 + Math.floor(r() * 5)).join(" ")}?`;
    });

    // Warm up the encoder workers (model load) and the code paths.
    await Promise.all(queries.slice(0, 8).map((q) => use.embedQuery(q)));
    await timeModes(store, keywordIndex, use, queries.slice(0, 10));

    console.log(`\n## Retrieval latency, ${docs.length.toLocaleString("en")} chunks, ${queries.length} queries\n`);
    console.log(
      `Build: HNSW ${(buildDense / 1000).toFixed(1)} s (vectors precomputed), keyword ${(buildKeyword / 1000).toFixed(1)} s. ` +
        `Keyword terms analysed for storing ${(saveKeyword / 1000).toFixed(2)} s, index reopened from them ${(loadKeyword / 1000).toFixed(2)} s.`,
    );
    console.log(
      `On disk: HNSW ${mib(dirBytes(join(dir, "hnsw")))} MiB, keyword terms ${mib(keywordBytes)} MiB ` +
        `(the chunk texts are stored once, with the documents).`,
    );
    printTable("Query embedded with USE-lite on every call", await timeModes(store, keywordIndex, use, queries));

    const queryVectors = new Map<string, number[]>();
    for (const q of queries) queryVectors.set(q, await use.embedQuery(q));
    printTable(
      "Retrieval only (query vectors precomputed)",
      await timeModes(store, keywordIndex, new FixedQueryEmbeddings(queryVectors), queries),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await use.close();
  }
}

await main();

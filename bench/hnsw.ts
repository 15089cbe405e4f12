/**
 * HNSW benchmark: raw hnswlib-node vs genera's HNSWVectorStore vs @langchain/community's HNSWLib, side by side on
 * the same seeded clustered unit vectors (Gaussian centroids + noise). Raw hnswlib and ours use our defaults (M=16,
 * efConstruction=64); the community wrapper cannot be configured and always builds with hnswlib's M=16,
 * efConstruction=200, so each store is measured as a user gets it. @langchain/community is not a dependency: without
 * it the community columns are left out (bench/communityHnswlib.ts says how to add them).
 *
 *   node --import ./scripts/ts.mjs bench/hnsw.ts                 # 100,000 × 384, 1,000 queries, 10,000 one-at-a-time adds (several minutes)
 *   node --import ./scripts/ts.mjs bench/hnsw.ts --n 10000       # quick check
 *
 * Flags: --n, --dim, --clusters, --queries, --k, --adds, --exact-queries, --rounds, --seed.
 * Recall@k is measured against hnswlib's exact BruteforceSearch over all queries; the plain-JS exact scan runs on
 * --exact-queries queries and its QPS is extrapolated. QPS is the best of --rounds interleaved rounds, because
 * the machine is shared and the best round is the least disturbed one. All times are CPU seconds of this process
 * (see `seconds`), so QPS = queries per CPU-second on one thread.
 */

import { Document } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";
import hnswlib from "hnswlib-node";
import { seededRandom as mulberry32 } from "../src/engine/random.js";
import { HNSW_DEFAULTS, HNSWVectorStore } from "../vectorstores/index.js";
import { COMMUNITY_INSTALL, loadCommunityHnswlib } from "./communityHnswlib.js";

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const N = flag("n", 100_000);
const DIM = flag("dim", 384);
const CLUSTERS = flag("clusters", Math.min(1000, Math.max(10, Math.round(N / 100))));
const QUERIES = flag("queries", 1000);
const K = flag("k", 10);
const ADDS = flag("adds", Math.min(10_000, N));
const EXACT_QUERIES = flag("exact-queries", Math.min(50, QUERIES));
const ROUNDS = flag("rounds", 5);
const SEED = flag("seed", 20240611);
const { M, efConstruction: EF_CONSTRUCTION } = HNSW_DEFAULTS;
const EFS = [...new Set([10, 50, HNSW_DEFAULTS.efSearch, 100, 200])].sort((a, b) => a - b);
const CHUNK = 10_000;

/** The stores get precomputed vectors; embedding must never be called. */
class NoEmbeddings extends Embeddings {
  readonly modelId = "bench-vectors";
  constructor() {
    super({});
  }
  async embedDocuments(): Promise<number[][]> {
    throw new Error("the benchmark passes vectors directly");
  }
  async embedQuery(): Promise<number[]> {
    throw new Error("the benchmark passes vectors directly");
  }
}

function makeData() {
  const random = mulberry32(SEED);
  let spare: number | undefined;
  const gaussian = () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - random();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * random();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
  const normaliseInto = (out: Float32Array, offset: number, v: Float64Array) => {
    let norm = 0;
    for (let j = 0; j < DIM; j++) norm += v[j] * v[j];
    const scale = 1 / Math.sqrt(norm);
    for (let j = 0; j < DIM; j++) out[offset + j] = v[j] * scale;
  };
  const centroids = new Float32Array(CLUSTERS * DIM);
  const tmp = new Float64Array(DIM);
  for (let c = 0; c < CLUSTERS; c++) {
    for (let j = 0; j < DIM; j++) tmp[j] = gaussian();
    normaliseInto(centroids, c * DIM, tmp);
  }
  // Noise norm ≈ 0.6 around a unit centroid: clusters overlap enough that the graph search has work to do.
  const noise = 0.6 / Math.sqrt(DIM);
  const sample = (out: Float32Array, offset: number) => {
    const c = Math.floor(random() * CLUSTERS) * DIM;
    for (let j = 0; j < DIM; j++) tmp[j] = centroids[c + j] + noise * gaussian();
    normaliseInto(out, offset, tmp);
  };
  const base = new Float32Array(N * DIM);
  for (let i = 0; i < N; i++) sample(base, i * DIM);
  const queryData = new Float32Array(QUERIES * DIM);
  for (let i = 0; i < QUERIES; i++) sample(queryData, i * DIM);
  const adds = new Float32Array(ADDS * DIM);
  for (let i = 0; i < ADDS; i++) sample(adds, i * DIM);
  return { base, queryData, adds };
}

const row = (data: Float32Array, i: number): number[] => Array.from(data.subarray(i * DIM, (i + 1) * DIM));
const rows = (data: Float32Array, from: number, to: number): number[][] => {
  const out: number[][] = [];
  for (let i = from; i < to; i++) out.push(row(data, i));
  return out;
};

/**
 * Seconds of this process's CPU time (user + system) since `start`. Everything timed here runs on one thread, and
 * CPU time does not count the time other processes on a shared machine hold the cores.
 */
function seconds(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function recall(results: number[][], truth: number[][]): number {
  let hits = 0;
  for (let q = 0; q < results.length; q++) {
    const expected = new Set(truth[q]);
    for (const label of results[q]) if (expected.has(label)) hits++;
  }
  return hits / (results.length * K);
}

/** NaN is a baseline that was not run (community not installed). */
const fmt = (x: number, digits = 0) =>
  Number.isNaN(x) ? "—" : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const HNSWLib = await loadCommunityHnswlib();
  if (!HNSWLib)
    console.error(`@langchain/community is not installed: no community columns (${COMMUNITY_INSTALL} adds them)`);
  console.log(
    `# HNSW benchmark: ${fmt(N)} × ${DIM} clustered unit vectors (${CLUSTERS} centroids, seed ${SEED}), ${QUERIES} queries, k=${K}, M=${M}, efConstruction=${EF_CONSTRUCTION} (community: 16, 200), node ${process.version}; times are single-thread CPU seconds\n`,
  );
  let t = process.cpuUsage();
  const { base, queryData, adds } = makeData();
  const queries = rows(queryData, 0, QUERIES);
  console.error(`data generated in ${seconds(t).toFixed(1)} s`);

  // Ground truth from hnswlib's exact scan (C++), for every query.
  const exact = new hnswlib.BruteforceSearch("ip", DIM);
  exact.initIndex(N);
  for (let i = 0; i < N; i++) exact.addPoint(row(base, i), i);
  t = process.cpuUsage();
  const truth = queries.map((q) => exact.searchKnn(q, K).neighbors);
  const bruteQps = QUERIES / seconds(t);
  console.error(`ground truth in ${(QUERIES / bruteQps).toFixed(1)} s`);

  // Plain-JS exact scan on a few queries: dot products over the flat Float32Array, top-k kept by insertion.
  t = process.cpuUsage();
  const jsExact: number[][] = [];
  for (let q = 0; q < EXACT_QUERIES; q++) {
    const query = queryData.subarray(q * DIM, (q + 1) * DIM);
    const topScores = new Float64Array(K).fill(Number.NEGATIVE_INFINITY);
    const topIds = new Int32Array(K).fill(-1);
    for (let i = 0; i < N; i++) {
      let s = 0;
      const o = i * DIM;
      for (let j = 0; j < DIM; j++) s += base[o + j] * query[j];
      if (s <= topScores[K - 1]) continue;
      let p = K - 1;
      while (p > 0 && topScores[p - 1] < s) {
        topScores[p] = topScores[p - 1];
        topIds[p] = topIds[p - 1];
        p--;
      }
      topScores[p] = s;
      topIds[p] = i;
    }
    jsExact.push(Array.from(topIds));
  }
  const jsExactQps = EXACT_QUERIES / seconds(t);
  const jsExactRecall = recall(jsExact, truth.slice(0, EXACT_QUERIES));

  // Builds: same vectors, fed in chunks of 10,000 (conversion to plain arrays is outside the timed region).
  const build = { raw: 0, ours: 0, community: 0 };
  const raw = new hnswlib.HierarchicalNSW("cosine", DIM);
  raw.initIndex(N, M, EF_CONSTRUCTION, 100);
  const ours = new HNSWVectorStore(new NoEmbeddings(), { dimension: DIM });
  const newCommunity = () => HNSWLib && new HNSWLib(new NoEmbeddings(), { space: "cosine", numDimensions: DIM });
  const community = newCommunity();
  for (let from = 0; from < N; from += CHUNK) {
    const to = Math.min(N, from + CHUNK);
    const vectors = rows(base, from, to);
    const docs = vectors.map(
      (_, i) => new Document({ pageContent: `document ${from + i}`, metadata: { i: from + i } }),
    );
    const ids = vectors.map((_, i) => String(from + i));
    t = process.cpuUsage();
    for (let i = 0; i < vectors.length; i++) raw.addPoint(vectors[i], from + i);
    build.raw += seconds(t);
    t = process.cpuUsage();
    await ours.addVectors(vectors, docs, { ids });
    build.ours += seconds(t);
    t = process.cpuUsage();
    await community?.addVectors(vectors, docs);
    build.community += seconds(t);
    console.error(
      `built ${to}/${N}: raw ${build.raw.toFixed(1)} s, ours ${build.ours.toFixed(1)} s, community ${build.community.toFixed(1)} s`,
    );
  }

  // Searches, interleaved by implementation and repeated; labels are the insertion order for all three.
  type Impl = "raw" | "ours" | "community";
  const search: Record<Impl, (q: number[]) => Promise<number[]>> = {
    raw: async (q) => raw.searchKnn(q, K).neighbors,
    ours: async (q) => (await ours.similaritySearchVectorWithScore(q, K)).map(([d]) => Number(d.id)),
    community: async (q) =>
      (await community?.similaritySearchVectorWithScore(q, K))?.map(([d]) => d.metadata.i as number) ?? [],
  };
  const setEf: Record<Impl, (ef: number) => void> = {
    raw: (ef) => raw.setEf(ef),
    ours: (ef) => {
      ours.efSearch = ef;
    },
    community: (ef) => community?.index.setEf(ef),
  };
  const impls: Impl[] = community ? ["raw", "ours", "community"] : ["raw", "ours"];
  const results: Record<number, Record<Impl, { qps: number; recall: number }>> = {};
  for (const ef of EFS) {
    results[ef] = {} as Record<Impl, { qps: number; recall: number }>;
    for (const impl of impls) {
      setEf[impl](ef);
      for (let q = 0; q < Math.min(100, QUERIES); q++) await search[impl](queries[q]);
    }
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so no implementation always runs right after another one's cache-warm pass.
      const order = impls.map((_, i) => impls[(i + round) % impls.length]);
      for (const impl of order) {
        setEf[impl](ef);
        const found: number[][] = [];
        t = process.cpuUsage();
        for (const q of queries) found.push(await search[impl](q));
        const qps = QUERIES / seconds(t);
        const prev = results[ef][impl];
        results[ef][impl] = { qps: Math.max(prev?.qps ?? 0, qps), recall: recall(found, truth) };
      }
    }
    console.error(`ef ${ef} done`);
  }

  // One call per document, on fresh stores and on the stores just built: the community wrapper resizes its index
  // and scans its whole docstore on every add, so its cost per add grows with the store.
  const addDocs = Array.from({ length: ADDS }, (_, i) => new Document({ pageContent: `added ${i}` }));
  const addVectors = rows(adds, 0, ADDS);
  const oneByOne = async (store: { addVectors(v: number[][], d: Document[]): Promise<unknown> } | undefined) => {
    if (!store) return Number.NaN;
    const start = process.cpuUsage();
    for (let i = 0; i < ADDS; i++) await store.addVectors([addVectors[i]], [addDocs[i]]);
    return seconds(start);
  };
  const addTimes = {
    fresh: {
      ours: await oneByOne(new HNSWVectorStore(new NoEmbeddings())),
      community: await oneByOne(newCommunity()),
    },
    built: { ours: await oneByOne(ours), community: await oneByOne(community) },
  };
  console.error("one-at-a-time adds done");

  console.log("## Build (batches of 10,000)\n");
  console.log("| implementation | build s | vs raw |");
  console.log("|---|---:|---:|");
  for (const impl of impls) console.log(`| ${impl} | ${fmt(build[impl], 1)} | ${fmt(build[impl] / build.raw, 2)}× |`);

  console.log(
    `\n## Search (k=${K}, best of ${ROUNDS} rounds; ours' default efSearch = ${HNSW_DEFAULTS.efSearch}; the community wrapper never changes hnswlib's ef = 10)\n`,
  );
  const compared = impls.filter((impl) => impl !== "raw");
  console.log(`| ef | raw QPS | raw recall |${compared.map((i) => ` ${i} QPS | ${i} recall | ${i}/raw |`).join("")}`);
  console.log(`|---:|---:|---:|${compared.map(() => "---:|---:|---:|").join("")}`);
  for (const ef of EFS) {
    const r = results[ef];
    const mark = ef === HNSW_DEFAULTS.efSearch ? " (default)" : "";
    const cells = compared.map(
      (i) => ` ${fmt(r[i].qps)} | ${fmt(r[i].recall, 4)} | ${fmt(r[i].qps / r.raw.qps, 2)}× |`,
    );
    console.log(`| ${ef}${mark} | ${fmt(r.raw.qps)} | ${fmt(r.raw.recall, 4)} |${cells.join("")}`);
  }
  const blank = compared.map(() => " | | |").join("");
  console.log(`| exact (hnswlib BruteforceSearch) | ${fmt(bruteQps, 1)} | 1.0000 |${blank}`);
  console.log(
    `| exact (plain JS, ${EXACT_QUERIES} queries, extrapolated) | ${fmt(jsExactQps, 1)} | ${fmt(jsExactRecall, 4)} |${blank}`,
  );

  console.log(`\n## ${fmt(ADDS)} documents added one call at a time\n`);
  console.log("| onto | community s | community adds/s | ours s | ours adds/s | ours speed-up |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const [onto, times] of [
    ["an empty store", addTimes.fresh],
    [`the ${fmt(N)}-document store`, addTimes.built],
  ] as const) {
    console.log(
      `| ${onto} | ${fmt(times.community, 1)} | ${fmt(ADDS / times.community)} | ${fmt(times.ours, 1)} | ${fmt(ADDS / times.ours)} | ${fmt(times.community / times.ours, 1).replace(/\d$/, "$&×")} |`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

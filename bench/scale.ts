/**
 * `npm run bench:scale`: the Postgres store against the embedded one.
 *
 * 1. Parity: every shipped QA set with a corpus (examples/knowledge + knowledge-qa.jsonl,
 *    examples/eval/<set>/corpus + qa.jsonl; the sets made from Debian packages are built by their build.ts)
 *    indexed into both stores with the default offline encoder; `genera eval`'s figures (runEval:
 *    retrieval at the configured k and mode, the configured answerer's answers) side by side.
 * 2. Dense search: N clustered vectors (SCALE_CHUNKS, default 20,000, dimension 384) in both
 *    stores; pgvector HNSW recall@10 against exact search, and query p50/p99 for dense,
 *    keyword and hybrid search (the knowledge base's retriever) on each store.
 *
 * 3. Workers: SCALE_WORKER_CHUNKS (default 2,000) chunks in files of 20 enqueued on a
 *    BullMQ queue (a redis-server started here), indexed by one, then two `genera worker`
 *    processes, then one worker with `--concurrency 2` (the built CLI, USE-lite with
 *    SCALE_WORKER_THREADS threads each, default 1; each worker its own empty embedding cache);
 *    chunks/s, the ratio to one worker, and the CPU each side used per chunk (SCALE_WORKER_RUNS
 *    picks the runs, e.g. 1x1,2x1); what no machine load changes: the workers' Postgres round trips
 *    and Redis commands per job (counted by proxies in front of both), and where a job's time went
 *    (its own timings per step). SCALE_COUNT=1 puts the counting proxies in (one more loopback hop
 *    per message and a process of their own, so that run's timings are not comparable with one
 *    without them); SCALE_PG_DELAY_MS=n holds each Postgres reply n ms, as a network would (proxies too).
 *
 * The 100k goal in one command: SCALE_CHUNKS=100000 SCALE_WORKER_CHUNKS=100000 npm run bench:scale
 *
 * Postgres here is PGlite (pgvector 0.8) over the wire protocol, reached with `pg`: one session
 * runs every query in turn, so its latencies are a single-process Postgres's, not a server's.
 * SCALE_PARTS=parity,dense,workers picks parts (recall, not in the default: recall@10 of both
 * indexes built in one go, the 100k point in minutes; firstload, not in the default: a first load
 * of SCALE_CHUNKS into an empty Postgres store with the index built after the rows, against the
 * index there from the first commit); SCALE_SETS=a,b picks QA sets.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Writable } from "node:stream";
import { Document } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";
import { type EvalReport, runEval } from "../src/cli/commands/eval.js";
import { loadConfig } from "../src/config.js";
import { createEmbeddings } from "../src/embeddings/createEmbeddings.js";
import { EmbeddedStore } from "../src/knowledge/EmbeddedStore.js";
import { KnowledgeBase } from "../src/knowledge/KnowledgeBase.js";
import type { KnowledgeStore } from "../src/knowledge/KnowledgeStore.js";
import { PostgresStore } from "../src/knowledge/PostgresStore.js";
import { createChatModel } from "../src/llms/createChatModel.js";
import { IndexQueue } from "../src/queue/IndexQueue.js";
import { connectRedis } from "../src/queue/redis.js";
import { startPostgres } from "../tests/helpers/postgres.js";
import { startRedis } from "../tests/helpers/redis.js";
import { HNSW_DEFAULTS } from "../vectorstores/hnsw.js";
import { WireCounters } from "./wireCounters.js";

const ROOT = resolve(import.meta.dirname, "..");
const WORK = process.env.GENERA_BENCH_CACHE ?? join(tmpdir(), "genera-bench-scale");
const PARTS = new Set((process.env.SCALE_PARTS ?? "parity,dense,workers").split(","));
const N = Number(process.env.SCALE_CHUNKS ?? 20_000);
const DIM = 384;
const QUERIES = 200;

interface QaSet {
  name: string;
  corpus: string;
  qaFile: string;
  qa: Array<{ question: string; sources?: string[] }>;
}

function readJsonl(path: string): QaSet["qa"] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

function shippedSets(): QaSet[] {
  const sets: QaSet[] = [
    {
      name: "knowledge",
      corpus: join(ROOT, "examples/knowledge"),
      qaFile: join(ROOT, "examples/eval/knowledge-qa.jsonl"),
      qa: readJsonl(join(ROOT, "examples/eval/knowledge-qa.jsonl")),
    },
  ];
  // Every set under examples/eval (a folder with qa.jsonl): the ones built from Debian packages need their corpus built first.
  const evalDir = join(ROOT, "examples/eval");
  for (const name of readdirSync(evalDir).sort()) {
    const dir = join(evalDir, name);
    if (!existsSync(join(dir, "qa.jsonl"))) continue;
    if (!existsSync(join(dir, "corpus"))) {
      console.error(`${name}: no corpus, skipped (build it: npx tsx examples/eval/${name}/build.ts --corpus)`);
      continue;
    }
    sets.push({
      name,
      corpus: join(dir, "corpus"),
      qaFile: join(dir, "qa.jsonl"),
      qa: readJsonl(join(dir, "qa.jsonl")),
    });
  }
  return sets;
}

/** The `genera eval` figures compared (retrieval at the configured k, answers by the configured answerer). */
const EVAL_FIGURES = [
  ["R@1", (r: EvalReport) => r.retrieval.recall[1]],
  ["R@k", (r: EvalReport) => r.retrieval.recall[r.k]],
  ["MRR", (r: EvalReport) => r.retrieval.mrr],
  ["nDCG@k", (r: EvalReport) => r.retrieval.ndcg[r.k]],
  ["answer F1", (r: EvalReport) => r.answers?.f1],
  ["contains gold", (r: EvalReport) => r.answers?.containsAnswer],
  ["cited first", (r: EvalReport) => r.answers?.citedFirst],
  ["correct", (r: EvalReport) => r.answers?.correct],
] as const;

/** `genera eval` (runEval, the configured retriever and answerer) on every shipped set, on both stores. */
async function parity(url: string): Promise<void> {
  const embeddings = createEmbeddings({ cacheDir: join(WORK, "embedding-cache") });
  const config = loadConfig();
  const llm = await createChatModel(config.llm, { embeddings });
  const k = config.retrieval.k;
  const only = process.env.SCALE_SETS?.split(",");
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  console.log(
    `\n\`genera eval\` figures (k ${k}, ${config.retrieval.mode}, ${config.llm.provider} answers), embedded / postgres (difference):\n`,
  );
  console.log(
    `| set | questions | ${EVAL_FIGURES.map(([name]) => name.replace("k", String(k))).join(" | ")} | largest difference |`,
  );
  console.log(`|---|---|${EVAL_FIGURES.map(() => "---|").join("")}---|`);
  try {
    for (const set of shippedSets().filter((s) => !only || only.includes(s.name))) {
      const reports: Partial<Record<"embedded" | "postgres", EvalReport>> = {};
      for (const kind of ["embedded", "postgres"] as const) {
        const started = performance.now();
        const kb = await KnowledgeBase.open({
          dir: join(WORK, "parity", set.name),
          embeddings,
          store:
            kind === "postgres"
              ? await PostgresStore.open({
                  url,
                  modelId: (embeddings as { modelId: string }).modelId,
                  tablePrefix: set.name.replaceAll("-", "_"),
                  maxConnections: 1,
                })
              : undefined,
        });
        try {
          await kb.index([set.corpus]);
          const retriever = kb.asRetriever({ k, mode: config.retrieval.mode });
          reports[kind] = await runEval(set.qaFile, { retriever, llm, k, json: true, out: silent });
          const { chunks } = await kb.counts();
          console.error(
            `${set.name} ${kind}: ${chunks} chunks, ${set.qa.length} questions, ${((performance.now() - started) / 1000).toFixed(0)} s`,
          );
        } finally {
          await kb.close();
        }
      }
      const f = (x: number) => x.toFixed(3);
      const d = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(3)}`;
      let largest = 0;
      const cells = EVAL_FIGURES.map(([, get]) => {
        const e = get(reports.embedded as EvalReport);
        const p = get(reports.postgres as EvalReport);
        if (e === undefined || p === undefined) return "n/a";
        largest = Math.max(largest, Math.abs(p - e));
        return `${f(e)} / ${f(p)} (${d(p - e)})`;
      });
      console.log(`| ${set.name} | ${set.qa.length} | ${cells.join(" | ")} | ${f(largest)} |`);
    }
  } finally {
    await (embeddings as { close?: () => Promise<void> }).close?.();
  }
}

/** Seeded clustered unit vectors: what sentence embeddings look like to an index. */
function clustered(n: number, seed: number): number[][] {
  let s = seed >>> 0;
  const rand = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: 64 }, () => Array.from({ length: DIM }, gauss));
  return Array.from({ length: n }, () => {
    const c = centres[Math.floor(rand() * centres.length)] as number[];
    const v = c.map((x) => x + 0.6 * gauss());
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

const WORDS = "alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega river mountain cloud forest".split(
  " ",
);

/**
 * Hands the benchmark's fixed vectors out: the stores get theirs in each commit; a hybrid query
 * text gets the vector registered for it (the embedded store embeds only to rebuild a lost graph).
 */
class FixedEmbeddings extends Embeddings {
  readonly queries = new Map<string, number[]>();
  constructor() {
    super({});
  }
  async embedDocuments(): Promise<number[][]> {
    throw new Error("not used");
  }
  async embedQuery(text: string): Promise<number[]> {
    const vector = this.queries.get(text);
    if (!vector) throw new Error(`no vector for ${text}`);
    return vector;
  }
}

async function dense(url: string): Promise<void> {
  // Queries drawn around the same centres as the chunks, as a question lands near its answers (queries from
  // centres of their own, as before, are far from every chunk: a case no embedding model makes).
  const all = clustered(N + QUERIES, 7);
  const vectors = all.slice(0, N);
  const queries = all.slice(N);
  const docs = vectors.map(
    (_, i) =>
      new Document({
        id: `c${i}`,
        pageContent: `${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} chunk ${i}`,
        metadata: { source: `f${Math.floor(i / 20)}.md` },
      }),
  );
  const dir = join(WORK, "dense-embedded");
  rmSync(dir, { recursive: true, force: true });
  const fixed = new FixedEmbeddings();
  const queryText = (qi: number) => `${WORDS[qi % WORDS.length]} ${WORDS[(qi * 3) % WORDS.length]} q${qi}`;
  for (const [qi, q] of queries.entries()) fixed.queries.set(queryText(qi), q);
  const stores: Array<[string, KnowledgeStore]> = [
    ["embedded", await EmbeddedStore.open({ dir, embeddings: fixed, modelId: "bench", onRepair: () => {} })],
    ["postgres", await PostgresStore.open({ url, modelId: "bench", tablePrefix: "dense", maxConnections: 1 })],
  ];
  const lines: string[] = [];
  for (const [name, store] of stores) {
    const started = performance.now();
    await commitFiles(store, name, docs, vectors, 0);
    // A first load: the Postgres store builds its vector index here, once over all the rows.
    await store.finishLoad?.();
    const indexSeconds = (performance.now() - started) / 1000;
    process.stderr.write(`\r${name}: ${N} chunks in ${indexSeconds.toFixed(0)} s\n`);

    let hits = 0;
    const denseMs: number[] = [];
    const keywordMs: number[] = [];
    for (const [qi, q] of queries.entries()) {
      const exact = (exactTop10(vectors, [q])[0] as number[]).map((i) => `c${i}`);
      let t = performance.now();
      const found = await store.denseSearch(q, { k: 10 });
      denseMs.push(performance.now() - t);
      const got = new Set(found.map((h) => h.document.id));
      hits += exact.filter((id) => got.has(id)).length;
      t = performance.now();
      await store.keywordSearch(`${WORDS[qi % WORDS.length]} ${WORDS[(qi * 3) % WORDS.length]}`, { k: 50 });
      keywordMs.push(performance.now() - t);
    }
    // Hybrid: the knowledge base's retriever over this store (keyword + dense, fused), k 10.
    const kb = await KnowledgeBase.open({ dir, embeddings: fixed, modelId: "bench", store });
    const retriever = kb.asRetriever({ k: 10, mode: "hybrid" });
    const hybridMs: number[] = [];
    for (const qi of queries.keys()) {
      const t = performance.now();
      await retriever.invoke(queryText(qi));
      hybridMs.push(performance.now() - t);
    }
    const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)] ?? 0;
    const pp = (xs: number[]) => `${pct(xs, 0.5).toFixed(1)} / ${pct(xs, 0.99).toFixed(1)}`;
    lines.push(
      `| ${name} | ${(N / indexSeconds).toFixed(0)} | ${(hits / (queries.length * 10)).toFixed(4)} | ${pp(denseMs)} | ${pp(keywordMs)} | ${pp(hybridMs)} |`,
    );
    await kb.close();
  }
  console.log(
    `\n${N} chunks × ${DIM}-d clustered vectors, ${QUERIES} queries (HNSW M ${HNSW_DEFAULTS.M}, efConstruction ${HNSW_DEFAULTS.efConstruction}, efSearch ${HNSW_DEFAULTS.efSearch} on both):\n`,
  );
  console.log(
    "| store | chunks/s committed | recall@10 vs exact | dense p50 / p99 ms | keyword p50 / p99 ms | hybrid p50 / p99 ms |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const line of lines) console.log(line);
}

/** Commits `docs` with their `vectors` from file `from` on, 20 chunks a file, one commit each (as an index run). */
async function commitFiles(
  store: KnowledgeStore,
  name: string,
  docs: Document[],
  vectors: number[][],
  from: number,
): Promise<void> {
  for (let f = from; f * 20 < docs.length; f++) {
    await store.commit({
      put: [
        {
          record: {
            path: `/bench/f${f}.md`,
            root: "/bench",
            source: `f${f}.md`,
            hash: String(f),
            size: 1,
            mtimeMs: 0,
            indexedAt: new Date(0).toISOString(),
          },
          chunks: docs.slice(f * 20, f * 20 + 20),
          vectors: vectors.slice(f * 20, f * 20 + 20),
        },
      ],
    });
    if (f % 200 === 0) process.stderr.write(`\r${name}: ${f * 20}/${docs.length} chunks`);
  }
}

/**
 * A first load of SCALE_CHUNKS clustered vectors (commits of 20, as an index run makes them)
 * into an empty Postgres store, two ways in the same run: the vector index there from the first
 * commit (every later commit inserts into it: what the store did before, and what a later load
 * still does), and the store's first-load path (rows first, the index built once at finishLoad).
 * Recall@10 against exact search checks that both end with an index of the same quality.
 */
async function firstLoad(url: string): Promise<void> {
  const all = clustered(N + QUERIES, 11);
  const vectors = all.slice(0, N);
  const queries = all.slice(N);
  const exact = exactTop10(vectors, queries);
  const docs = vectors.map(
    (_, i) => new Document({ id: `c${i}`, pageContent: `${WORDS[i % WORDS.length]} chunk ${i}` }),
  );
  // CPU seconds too: the client and PGlite both run in this process, and CPU time is the steadier figure on a shared machine.
  const rows: Array<{ name: string; commits: number; build: number; cpu: number; recall: number }> = [];
  for (const [name, prefix] of [
    ["index from the first commit", "load_index_first"],
    ["index built after the rows", "load_deferred"],
  ] as const) {
    const store = await PostgresStore.open({ url, modelId: "bench", tablePrefix: prefix, maxConnections: 1 });
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    if (prefix === "load_index_first") {
      await commitFiles(store, name, docs.slice(0, 20), vectors, 0);
      await store.finishLoad();
    }
    await commitFiles(store, name, docs, vectors, prefix === "load_index_first" ? 1 : 0);
    const committed = performance.now();
    await store.finishLoad();
    const built = performance.now();
    const cpu = process.cpuUsage(cpu0);
    let hits = 0;
    for (const [qi, q] of queries.entries()) {
      const found = new Set((await store.denseSearch(q, { k: 10 })).map((h) => h.document.id));
      hits += (exact[qi] as number[]).filter((i) => found.has(`c${i}`)).length;
    }
    process.stderr.write(`\r${name}: ${N} chunks in ${((built - started) / 1000).toFixed(0)} s\n`);
    rows.push({
      name,
      commits: (committed - started) / 1000,
      build: (built - committed) / 1000,
      cpu: (cpu.user + cpu.system) / 1e6,
      recall: hits / (QUERIES * 10),
    });
    await store.close();
  }
  const base = rows[0] as (typeof rows)[number];
  console.log(
    `\nFirst load into an empty Postgres store (PGlite), ${N} × ${DIM}-d clustered vectors in commits of 20, HNSW M ${HNSW_DEFAULTS.M}, efConstruction ${HNSW_DEFAULTS.efConstruction}:\n`,
  );
  console.log("| vector index | commits s | index build s | total s | speed-up | CPU s | CPU ratio | recall@10 |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const total = r.commits + r.build;
    console.log(
      `| ${r.name} | ${r.commits.toFixed(1)} | ${r.build.toFixed(1)} | ${total.toFixed(1)} | ${((base.commits + base.build) / total).toFixed(2)}× | ${r.cpu.toFixed(1)} | ${(base.cpu / r.cpu).toFixed(2)}× | ${r.recall.toFixed(4)} |`,
    );
  }
}

/** The ids of the 10 nearest `vectors` to each query by brute force (unit vectors: largest dot product). */
function exactTop10(vectors: number[][], queries: number[][]): number[][] {
  return queries.map((q) =>
    vectors
      .map((v, i) => ({ i, s: v.reduce((a, x, j) => a + x * (q[j] as number), 0) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 10)
      .map((h) => h.i),
  );
}

/**
 * Recall@10 against exact search at SCALE_CHUNKS, each index built in one go with the stores'
 * parameters (M 16, efConstruction 64): pgvector by CREATE INDEX over the loaded rows (the same
 * insertion algorithm as row-by-row inserts, without the store's commits: the 100k point in minutes
 * instead of an hour on PGlite), hnswlib as the embedded graph. Queries come from the data's centres.
 */
async function recall(url: string): Promise<void> {
  const all = clustered(N + QUERIES, 7);
  const vectors = all.slice(0, N);
  const queries = all.slice(N);
  const exact = exactTop10(vectors, queries);
  const score = (found: number[][]) =>
    found.reduce((hits, ids, q) => hits + ids.filter((id) => exact[q]?.includes(id)).length, 0) / (QUERIES * 10);
  const rows: string[] = [];

  const { HierarchicalNSW } = createRequire(import.meta.url)("hnswlib-node") as typeof import("hnswlib-node");
  let started = performance.now();
  const graph = new HierarchicalNSW("cosine", DIM);
  graph.initIndex(N, HNSW_DEFAULTS.M, HNSW_DEFAULTS.efConstruction, 100);
  for (const [i, v] of vectors.entries()) graph.addPoint(v, i);
  const hnswSeconds = (performance.now() - started) / 1000;
  for (const ef of [64, 100]) {
    graph.setEf(ef);
    rows.push(
      `| hnswlib (embedded) | ${ef} | ${score(queries.map((q) => graph.searchKnn(q, 10).neighbors)).toFixed(4)} | ${hnswSeconds.toFixed(0)} |`,
    );
  }

  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("CREATE EXTENSION IF NOT EXISTS vector");
    await client.query("DROP TABLE IF EXISTS recall_vectors");
    await client.query(`CREATE TABLE recall_vectors (id int PRIMARY KEY, embedding vector(${DIM}) NOT NULL)`);
    started = performance.now();
    for (let from = 0; from < N; from += 1000) {
      const slice = vectors.slice(from, from + 1000);
      await client.query("INSERT INTO recall_vectors SELECT * FROM unnest($1::int[], $2::text[]::vector[])", [
        slice.map((_, i) => from + i),
        slice.map((v) => `[${v.join(",")}]`),
      ]);
      process.stderr.write(`\rpgvector: ${from + slice.length}/${N} rows`);
    }
    await client.query("SET maintenance_work_mem = '512MB'");
    await client.query(
      `CREATE INDEX ON recall_vectors USING hnsw (embedding vector_cosine_ops) WITH (m = ${HNSW_DEFAULTS.M}, ef_construction = ${HNSW_DEFAULTS.efConstruction})`,
    );
    const pgSeconds = (performance.now() - started) / 1000;
    process.stderr.write(`\rpgvector: ${N} rows loaded and indexed in ${pgSeconds.toFixed(0)} s\n`);
    for (const ef of [64, 100]) {
      await client.query(`SET hnsw.ef_search = ${ef}`);
      const found: number[][] = [];
      for (const q of queries) {
        const { rows: hits } = await client.query<{ id: number }>(
          "SELECT id FROM recall_vectors ORDER BY embedding <=> $1::vector LIMIT 10",
          [`[${q.join(",")}]`],
        );
        found.push(hits.map((h) => h.id));
      }
      rows.push(`| pgvector (postgres) | ${ef} | ${score(found).toFixed(4)} | ${pgSeconds.toFixed(0)} |`);
    }
    await client.query("DROP TABLE recall_vectors");
  } finally {
    await client.end();
  }
  console.log(
    `\nRecall@10 vs exact, ${N} × ${DIM}-d clustered vectors, ${QUERIES} queries near the data, M ${HNSW_DEFAULTS.M}, efConstruction ${HNSW_DEFAULTS.efConstruction}, built in one go:\n`,
  );
  console.log("| index | ef_search | recall@10 | build s |");
  console.log("|---|---|---|---|");
  for (const row of rows) console.log(row);
}

/** `words` words of seeded prose: distinct paragraphs, so no embedding is ever reused. */
function prose(words: number, seed: number): string {
  const vocabulary =
    `${WORDS.join(" ")} index query vector shard replica worker queue chunk batch commit lock retry`.split(" ");
  let s = seed >>> 0;
  return Array.from({ length: words }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return vocabulary[s % vocabulary.length];
  }).join(" ");
}

/** CPU seconds a process has used so far, all its threads together (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    // utime and stime, fields 14 and 15 of stat (11 and 12 after the command name), in clock ticks.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/**
 * `genera worker` processes indexing the same enqueued files into a fresh store: one worker, two
 * workers, and one worker running two jobs at once (`--concurrency 2`). Each has
 * SCALE_WORKER_THREADS embedding threads (default 1, so that one worker leaves the other cores to
 * a second). The CPU columns say where the time went: the workers' processes (all threads), and
 * this process, which serves the PGlite store (one session: its queries run one at a time).
 */
async function workers(url: string): Promise<void> {
  const total = Number(process.env.SCALE_WORKER_CHUNKS ?? 2_000);
  const threads = Number(process.env.SCALE_WORKER_THREADS ?? 1);
  const perFile = 20;
  const corpus = join(WORK, `worker-corpus-${total}`);
  rmSync(corpus, { recursive: true, force: true });
  mkdirSync(corpus, { recursive: true });
  // ~110 words a paragraph: one 800-character chunk each.
  for (let f = 0; f * perFile < total; f++) {
    const paragraphs = Array.from({ length: perFile }, (_, p) => `Part ${f}.${p}: ${prose(110, f * 1000 + p)}.`);
    writeFileSync(join(corpus, `doc-${f}.md`), `# Document ${f}\n\n${paragraphs.join("\n\n")}\n`);
  }
  const files = Math.ceil(total / perFile);
  // SCALE_WORKER_RUNS=1x1,2x1,1x2: workers × jobs each, in that order (the first is the baseline).
  const runs = (process.env.SCALE_WORKER_RUNS ?? "1x1,2x1,1x2").split(",").map((run) => {
    const [workers, concurrency] = run.split("x").map(Number);
    return { workers: workers || 1, concurrency: concurrency || 1 };
  });
  const rows: Array<
    (typeof runs)[number] & {
      chunks: number;
      stored: number;
      seconds: number;
      loaded: number;
      workerCpu: number;
      storeCpu: number;
      pgTrips: number;
      redisCalls: number;
      phases: Record<string, number>;
    }
  > = [];
  // The workers reach the store through a proxy that counts round trips (and adds SCALE_PG_DELAY_MS
  // to each reply, as a network to a real Postgres would): counts that no machine load changes.
  // The proxies run in a process of their own, so that the store's queries here never hold them.
  // By default no proxies: the workers reach both servers directly, so the timings are the workers' own.
  const delayMs = Number(process.env.SCALE_PG_DELAY_MS ?? 0);
  const counters = WireCounters.start(process.env.SCALE_COUNT === "1" || delayMs > 0);
  const pgUrl = await counters.proxy(url, "postgres", delayMs);
  for (const run of runs) {
    const redis = await startRedis();
    // The workers' Redis commands, counted on their way (the enqueuer's go straight to Redis).
    const redisUrl = await counters.proxy(redis.url, "redis");
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      "DROP TABLE IF EXISTS genera_document_postings, genera_document_totals, genera_documents, genera_postings, genera_keyword_totals, genera_chunks, genera_sources, genera_meta CASCADE",
    );
    await client.end();
    const children: ChildProcess[] = [];
    const label = `${run.workers} worker(s) × ${run.concurrency} job(s)`;
    try {
      for (let w = 0; w < run.workers; w++) {
        const dataDir = join(WORK, `worker-data-${run.workers}-${run.concurrency}-${w}`);
        rmSync(dataDir, { recursive: true, force: true });
        const child = spawn(
          process.execPath,
          [
            join(ROOT, "bin/genera.js"),
            "worker",
            "--concurrency",
            String(run.concurrency),
            "--threads",
            String(threads),
          ],
          {
            env: {
              ...process.env,
              GENERA_DATABASE_URL: pgUrl,
              GENERA_QUEUE_URL: redisUrl,
              GENERA_DATA_DIR: dataDir,
            },
            stdio: ["ignore", "ignore", "pipe"],
          },
        );
        children.push(child);
        await new Promise<void>((resolve, reject) => {
          let err = "";
          child.stderr?.on("data", (d: Buffer) => {
            err += d.toString();
            if (err.includes("waiting for jobs")) resolve();
          });
          child.once("exit", (code) => reject(new Error(`worker exited (${code}): ${err}`)));
        });
      }
      const queue = await IndexQueue.open(redis.url);
      await queue.listen();
      const admin = await connectRedis(redis.url);
      await admin.config("RESETSTAT");
      await counters.reset(pgUrl);
      await counters.reset(redisUrl);
      const workerCpu0 = children.reduce((sum, c) => sum + cpuSeconds(c.pid), 0);
      const storeCpu0 = process.cpuUsage();
      const started = performance.now();
      const ids = await queue.add(
        Array.from({ length: files }, (_, f) => ({ paths: [join(corpus, `doc-${f}.md`)], root: corpus })),
      );
      let chunks = 0;
      let done = 0;
      const phases: Record<string, number> = {};
      await queue.follow(ids, {
        onFinished: (status) => {
          chunks += status.summary?.chunksAdded ?? 0;
          for (const [phase, s] of Object.entries(status.summary?.timings ?? {}))
            phases[phase] = (phases[phase] ?? 0) + s;
          if (++done % 10 === 0) process.stderr.write(`\r${label}: ${done}/${files} files, ${chunks} chunks`);
        },
      });
      const loaded = (performance.now() - started) / 1000;
      // The load ends when the workers, the queue run dry, have built the store's vector index.
      const counter = new pg.Client({ connectionString: url });
      await counter.connect();
      const deferred = "SELECT 1 FROM genera_meta WHERE key = 'vectorIndexDeferred'";
      while ((await counter.query(deferred)).rows.length) await new Promise((resolve) => setTimeout(resolve, 100));
      const seconds = (performance.now() - started) / 1000;
      const store = process.cpuUsage(storeCpu0);
      // What the store holds, beside what the jobs reported: a count short of `total` tells lost chunks from miscounted ones.
      const stored = Number((await counter.query("SELECT count(*) AS n FROM genera_chunks")).rows[0]?.n ?? 0);
      await counter.end();
      const workerCpu = children.reduce((sum, c) => sum + cpuSeconds(c.pid), 0) - workerCpu0;
      // Every command Redis ran in the load (the workers', and this process's enqueueing and following).
      const commands = [...String(await admin.info("commandstats")).matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)]
        .filter(([, name]) => name !== "info" && name !== "config")
        .map(([, name, calls]) => [name as string, Number(calls)] as const)
        .sort((a, b) => b[1] - a[1]);
      process.stderr.write(`\r${label}: Redis ran ${commands.map(([name, calls]) => `${name} ${calls}`).join(", ")}\n`);
      const redisCalls = await counters.count(redisUrl);
      admin.disconnect();
      const pgTrips = await counters.count(pgUrl);
      process.stderr.write(`\r${label}: ${chunks} chunks reported, ${stored} stored, in ${seconds.toFixed(0)} s\n`);
      rows.push({
        ...run,
        chunks,
        stored,
        seconds,
        loaded,
        workerCpu,
        storeCpu: (store.user + store.system) / 1e6,
        pgTrips,
        redisCalls,
        phases,
      });
      await queue.close();
    } finally {
      for (const child of children) child.kill("SIGTERM");
      await Promise.all(children.map((c) => new Promise((resolve) => c.once("exit", resolve))));
      await counters.unproxy(redisUrl);
      await redis.stop();
    }
  }
  counters.stop();
  const base = rows[0] as { chunks: number; seconds: number; loaded: number };
  const perJob = (count: number) => (Number.isNaN(count) ? "–" : (count / files).toFixed(1));
  const delay = Number(process.env.SCALE_PG_DELAY_MS ?? 0);
  console.log(
    `\nWorkers: ${files} files of ${perFile} chunks enqueued, USE-lite with ${threads} embedding thread(s) per worker, PGlite store (in this process)${delay ? `, ${delay} ms added to each Postgres reply` : ""}:\n`,
  );
  console.log(
    "| workers × jobs each | chunks reported / stored | seconds | chunks/s | vs one worker | jobs done at s | vs one worker | index built in s | worker CPU s / chunk | store CPU s / chunk | cores busy | Postgres round trips / job | workers' Redis commands / job |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    const rate = r.chunks / r.seconds;
    console.log(
      `| ${r.workers} × ${r.concurrency} | ${r.chunks} / ${r.stored} | ${r.seconds.toFixed(1)} | ${rate.toFixed(1)} | ${(rate / (base.chunks / base.seconds)).toFixed(2)}× | ${r.loaded.toFixed(1)} | ${(r.chunks / r.loaded / (base.chunks / base.loaded)).toFixed(2)}× | ${(r.seconds - r.loaded).toFixed(1)} | ${(r.workerCpu / r.chunks).toFixed(4)} | ${(r.storeCpu / r.chunks).toFixed(4)} | ${((r.workerCpu + r.storeCpu) / r.seconds).toFixed(2)} | ${perJob(r.pgTrips)} | ${perJob(r.redisCalls)} |`,
    );
  }
  // Where a job's time went (wall clock, ms per job, summed over the jobs' own reports).
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.phases)))];
  if (names.length) {
    console.log(`\nA job's time by phase, ms per job (the jobs' own timings):\n`);
    console.log(`| workers × jobs each | ${names.join(" | ")} |`);
    console.log(`|---|${names.map(() => "---").join("|")}|`);
    for (const r of rows) {
      console.log(
        `| ${r.workers} × ${r.concurrency} | ${names.map((n) => (((r.phases[n] ?? 0) * 1000) / files).toFixed(1)).join(" | ")} |`,
      );
    }
  }
}

async function main(): Promise<void> {
  mkdirSync(WORK, { recursive: true });
  const pg = await startPostgres();
  try {
    if (PARTS.has("parity")) await parity(pg.url);
    if (PARTS.has("dense")) await dense(pg.url);
    if (PARTS.has("recall")) await recall(pg.url);
    if (PARTS.has("firstload")) await firstLoad(pg.url);
    if (PARTS.has("workers")) await workers(pg.url);
  } finally {
    await pg.stop();
  }
}

await main();

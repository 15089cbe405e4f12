// npm run bench:server — a closed-loop load generator (bench/loadGenerator.mjs) against /api/search and /api/chat (extractive
// answerer) at 1/10/50 connections, on an index of ~10,000 chunks, three rounds.
// Searches run twice: every request a new question (each pays for its query embedding)
// and one question repeated (the recent-query cache answers).
// Goals: no errors; memory steady across rounds; /api/search p99 ≤ 100 ms at 10 connections.
// The load generator runs in a separate process so it does not share the server's thread.
// Env: BENCH_DURATION (s per cell), BENCH_ROUNDS, BENCH_FILES, BENCH_QUERIES (distinct
// questions), BENCH_ROUTES (mixes whose name contains one of these |-separated texts;
// default "search|chat|ingest": all), BENCH_INGEST_MB (the upload searched during; 0 skips it), BENCH_CONNECTIONS (1,10,50), BENCH_WORKERS (embedding
// worker threads; default one per core).

import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { promisify } from "node:util";
import { loadConfig } from "../src/config.js";
import { createEmbeddings } from "../src/embeddings/createEmbeddings.js";
import { KnowledgeBase } from "../src/knowledge/KnowledgeBase.js";
import { startServer } from "../src/server/startServer.js";

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FILES = Number(process.env.BENCH_FILES ?? 1250);
const ROUTES = (process.env.BENCH_ROUTES ?? "search|chat|ingest").split("|");
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? "1,10,50").split(",").map(Number);
const dataDir = join(".genera", "bench-server");
const corpus = join(dataDir, "corpus");
const TOPICS = ["attention", "tokenizer", "optimizer", "diffusion", "retrieval", "embedding", "decoder", "sampling"];
const VERBS = ["improves", "reduces", "stabilises", "scales", "explains", "normalises", "caches", "ranks"];

// ~8 chunks per file of ~800 characters → ~10,000 chunks. Files persist, so later runs re-use the index.
mkdirSync(corpus, { recursive: true });
for (let f = 0; f < FILES; f++) {
  const sections = Array.from({ length: 8 }, (_, s) => {
    const topic = TOPICS[(f + s) % TOPICS.length];
    const lines = Array.from(
      { length: 7 },
      (_, l) =>
        `The ${topic} method ${VERBS[(f * 7 + s * 3 + l) % VERBS.length]} result ${f}-${s}-${l} in experiment ${f * 13 + l}.`,
    );
    return `## Section ${s} on ${topic}\n\n${lines.join(" ")}\n`;
  });
  writeFileSync(join(corpus, `doc-${f}.md`), `# Document ${f}\n\n${sections.join("\n")}`);
}

// Uploads left by an interrupted run would be resumed at start-up and indexed during the
// "idle" cell: the bench's own scratch folder starts empty.
rmSync(join(dataDir, "uploads"), { recursive: true, force: true });

const config = loadConfig({
  env: {},
  overrides: {
    dataDir,
    server: { port: 0, rateLimitPerMinute: 0, maxQueuedGenerations: 1000 },
    ...(process.env.BENCH_WORKERS ? { embeddings: { workers: Number(process.env.BENCH_WORKERS) } } : {}),
  },
});
const embeddings = createEmbeddings({ ...config.embeddings, cacheDir: join(dataDir, "embedding-cache") });
const kb = await KnowledgeBase.open({ dir: join(dataDir, "index"), embeddings, ownsEmbeddings: true });
const summary = await kb.index([corpus], {
  onProgress: (e) =>
    process.stderr.isTTY &&
    e.phase === "index" &&
    process.stderr.write(`\rindexing ${e.filesDone}/${e.filesTotal} (${e.chunksDone} chunks)`),
});
process.stderr.write(`\nindex: ${(await kb.stats()).chunks} chunks (${summary.chunksAdded} embedded now)\n`);
const running = await startServer({ config, kb, log: () => {} });
const start = memory();

const VARIANTS = Number(process.env.BENCH_QUERIES ?? 2000);

/** What bench/loadGenerator.mjs prints (latencies in ms). */
interface LoadResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Every request's latency, sorted (when asked for with `raw`). */
  latencies?: number[];
}

/**
 * The load generator runs in its own process (bench/loadGenerator.mjs): in-process it would
 * share the server's main thread and inflate every latency it measures. Every request
 * asks a different question, so per-query caches cannot flatter the figures.
 */
async function loadTest(
  url: string,
  connections: number,
  kind: "search" | "chat",
  variants: number,
  options: { duration?: number; raw?: boolean } = {},
): Promise<LoadResult> {
  const spec = JSON.stringify({
    url,
    connections,
    duration: options.duration ?? DURATION,
    kind,
    variants,
    raw: options.raw,
  });
  const { stdout } = await promisify(execFile)(process.execPath, ["bench/loadGenerator.mjs", spec], {
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout) as LoadResult;
}

/** A mix of requests: which route, and whether every request asks a new question or all ask the same one. */
const MIXES = [
  { name: "GET /api/search, distinct questions", kind: "search", variants: VARIANTS },
  { name: "GET /api/search, one repeated question", kind: "search", variants: 1 },
  { name: "POST /api/chat, distinct questions", kind: "chat", variants: VARIANTS },
] as const;

/**
 * Memory after a full collection, when the bench runs with --expose-gc (npm run bench:server
 * does): RSS alone also counts garbage not yet collected and heaps V8 keeps for reuse, so a
 * leak shows as heap that keeps growing after GC, round after round.
 */
function memory(): { rss: number; heap: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss / 1024 / 1024, heap: m.heapUsed / 1024 / 1024 };
}

/**
 * Waits until the server has no generation running or queued, so a cell does not
 * start while the last one's abandoned requests are still being answered.
 */
async function settle(): Promise<void> {
  for (;;) {
    const health = (await (await fetch(`${running.url}/healthz`)).json()) as {
      generations: { running: number; queued: number };
    };
    if (health.generations.running + health.generations.queued === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 500));
}

const rows: string[] = [];
const rounds: Array<{ rss: number; heap: number }> = [];
let errors = 0;
for (let round = 1; round <= ROUNDS; round++) {
  for (const mix of MIXES) {
    if (!ROUTES.some((r) => mix.name.includes(r))) continue;
    for (const connections of CONNECTIONS) {
      const cpu = process.cpuUsage();
      const loop = performance.eventLoopUtilization();
      const result = await loadTest(running.url, connections, mix.kind, mix.variants);
      // How busy the server's main thread was during the load (1 = saturated: requests queue there).
      const mainBusy = performance.eventLoopUtilization(loop).utilization;
      await settle();
      // This process's CPU (every thread: the server, its embedding workers), per answered request.
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000 / Math.max(1, result.requests.total);
      const failed = result.errors + result.timeouts + result.non2xx;
      errors += failed;
      rows.push(
        `| ${round} | ${mix.name} | ${connections} | ${result.requests.average.toFixed(0)} | ${result.latency.p50} | ${result.latency.p99} | ${cpuMs.toFixed(1)} | ${(mainBusy * 100).toFixed(0)}% | ${failed} |`,
      );
    }
  }
  rounds.push(memory());
}

/**
 * Search while a large upload is indexed (issue 13 item 6): the same 10-connection search
 * load idle, then during the ingest of one generated Markdown file of BENCH_INGEST_MB MiB
 * (text no earlier run embedded, so every chunk costs the model). Goal: p99 during the
 * ingest ≤ 3× idle. The upload is removed afterwards so later runs start alike.
 */
const INGEST_MB = Number(process.env.BENCH_INGEST_MB ?? 8);
const ingestRows: string[] = [];
if (INGEST_MB > 0 && ROUTES.some((r) => "ingest".includes(r))) {
  // The server's event-loop delay tells a stall of its main thread (commits, inserts, splitting)
  // apart from waiting on the embedding worker.
  // One search first: what the first one builds (the whole-document index) is not idle-state latency.
  await fetch(`${running.url}/api/search?q=${encodeURIComponent("warm up the indexes")}&k=5`);
  const stalls = monitorEventLoopDelay({ resolution: 5 });
  stalls.enable();
  const idle = await loadTest(running.url, 10, "search", VARIANTS);
  stalls.disable();
  const idleStall = { p99: stalls.percentile(99) / 1e6, max: stalls.max / 1e6 };
  await settle();
  const run = Date.now().toString(36);
  const paragraphs: string[] = [];
  for (let size = 0, i = 0; size < INGEST_MB * 1024 * 1024; i++) {
    const topic = TOPICS[i % TOPICS.length];
    const p = `Paragraph ${i} of upload ${run}: the ${topic} study ${VERBS[i % VERBS.length]} measurement ${i * 31} under condition ${i % 97}, with notes on ${TOPICS[(i * 3) % TOPICS.length]}.`;
    paragraphs.push(p);
    size += p.length + 2;
  }
  const name = `bench-ingest-${run}.md`;
  const form = new FormData();
  form.append("files", new Blob([`# Ingest ${run}\n\n${paragraphs.join("\n\n")}\n`]), name);
  const ingestStarted = performance.now();
  const accepted = await fetch(`${running.url}/api/documents`, { method: "POST", body: form });
  const job = (await accepted.json()) as { id: string };
  type JobState = { status: string; progress?: { chunksEmbedded: number; chunksSplit: number } };
  // A keep-alive socket the server closed while its main thread was busy fails once: ask again.
  const jobState = async (): Promise<JobState> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await (await fetch(`${running.url}/api/documents/jobs/${job.id}`)).json()) as JobState;
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  };
  stalls.reset();
  stalls.enable();
  const busy = await loadTest(running.url, 10, "search", VARIANTS);
  stalls.disable();
  const busyStall = { p99: stalls.percentile(99) / 1e6, max: stalls.max / 1e6 };
  const during = await jobState();
  // Printed now as well: the ingest may take minutes more to finish.
  process.stderr.write(
    `search p99 idle ${idle.latency.p99} ms, during the upload ${busy.latency.p99} ms (${during.status}, ` +
      `${during.progress?.chunksEmbedded ?? 0}/${during.progress?.chunksSplit ?? 0} chunks embedded)\n`,
  );
  // The same load goes on until the upload is done, in short cells pooled into one row: the
  // first cell sees only embedding, the rest sees the commit (rows, graph inserts, postings).
  let final = during;
  const rest: number[] = [];
  const restStarted = performance.now();
  let restFailed = 0;
  stalls.reset();
  stalls.enable();
  while (final.status === "queued" || final.status === "indexing") {
    const cell = await loadTest(running.url, 10, "search", VARIANTS, { duration: 2, raw: true });
    rest.push(...(cell.latencies ?? []));
    restFailed += cell.errors + cell.timeouts + cell.non2xx;
    final = await jobState();
  }
  stalls.disable();
  const restStall = { p99: stalls.percentile(99) / 1e6, max: stalls.max / 1e6 };
  rest.sort((a, b) => a - b);
  const percentile = (p: number) => Math.round(rest[Math.min(rest.length - 1, Math.floor(p * rest.length))] ?? 0);
  const restSeconds = (performance.now() - restStarted) / 1000;
  const restResult: LoadResult = {
    requests: { total: rest.length, average: rest.length / Math.max(restSeconds, 1e-3) },
    latency: { p50: percentile(0.5), p99: percentile(0.99) },
    errors: restFailed,
    timeouts: 0,
    non2xx: 0,
  };
  const ingestSeconds = (performance.now() - ingestStarted) / 1000;
  const listed = (await (await fetch(`${running.url}/api/documents`)).json()) as {
    documents: Array<{ id: string; source: string; chunks: number }>;
  };
  const uploaded = listed.documents.find((d) => d.source === name);
  if (uploaded) await fetch(`${running.url}/api/documents/${encodeURIComponent(uploaded.id)}`, { method: "DELETE" });
  const cell = (label: string, r: LoadResult, stall: { p99: number; max: number }) => {
    const failed = r.errors + r.timeouts + r.non2xx;
    errors += failed;
    return `| ${label} | ${r.requests.average.toFixed(0)} | ${r.latency.p50} | ${r.latency.p99} | ${(r.latency.p99 / Math.max(1, idle.latency.p99)).toFixed(2)}× | ${stall.p99.toFixed(0)} / ${stall.max.toFixed(0)} | ${failed} |`;
  };
  ingestRows.push(cell("idle", idle, idleStall));
  ingestRows.push(cell(`during a ${INGEST_MB} MiB upload, first ${DURATION} s`, busy, busyStall));
  if (rest.length) ingestRows.push(cell(`the rest of the upload (${restSeconds.toFixed(0)} s)`, restResult, restStall));
  ingestRows.push(
    `\nThe upload (${uploaded?.chunks ?? "?"} chunks) was ${during.status} when the first loaded cell ended` +
      ` (${during.progress?.chunksEmbedded ?? 0} of ${during.progress?.chunksSplit ?? 0} chunks embedded so far);` +
      ` it finished ${final.status} after ${ingestSeconds.toFixed(1)} s, searched all along.`,
  );
}

await running.close();
await kb.close();

console.log(`\nIndex: ${(await kb.stats()).chunks} chunks; ${DURATION} s per cell; extractive answerer\n`);
console.log(
  "| round | requests | connections | req/s | p50 ms | p99 ms | server CPU ms/req | main thread busy | errors |",
);
console.log("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
for (const row of rows) console.log(row);
console.log("\n| after round | RSS MiB | JS heap after GC MiB |");
console.log("|---:|---:|---:|");
for (const [i, m] of rounds.entries()) console.log(`| ${i + 1} | ${m.rss.toFixed(0)} | ${m.heap.toFixed(1)} |`);
if (ingestRows.length) {
  console.log("\nSearch (10 connections, distinct questions) idle and while an upload is indexed:\n");
  console.log("| condition | req/s | p50 ms | p99 ms | p99 vs idle | main-thread stall p99 / max ms | errors |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const row of ingestRows) console.log(row);
}
console.log(
  `\nTotal errors: ${errors}. Before the first round: RSS ${start.rss.toFixed(0)} MiB, heap ${start.heap.toFixed(1)} MiB.`,
);

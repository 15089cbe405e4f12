// npm run bench:faults -- [--kills=N] [--files=N] [--rounds=N] [--skip-kills] [--skip-store]
//
// 1. Kill during upload, N times: a real server (tests/server/fixtures/serverChild.ts: hash
//    embeddings, slowed a little per call) takes concurrent uploads and is SIGKILLed at a random
//    moment; the next start resumes its queue. At the end every upload that was acknowledged
//    (202 or 200) must be listed and found by a search for its unique word.
//    Goal: 0 acknowledged documents lost over 100 kills.
// 2. SIGTERM during a long upload job: seconds from the signal to the exit.
// 3. The store against a plain LangChain HNSWLib store of the same chunks (same loaders,
//    splitter and 512-d hash embeddings, so only storage differs): bytes on disk and peak
//    RSS while indexing, each pipeline in its own process.
//    Goal: disk ≤ 1.3× and peak memory ≤ 1.3× LangChain's. Then that store's start-up, with the
//    keyword snapshot and with the postings rebuilt from text. @langchain/community is not a
//    dependency: without it only genera's row is measured (bench/communityHnswlib.ts says how to add it).
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRandom } from "../src/engine/random.js";
import { TS_NODE_FLAGS } from "../tests/helpers/tsNode.js";
import {
  listDocuments,
  type ServerProcess,
  startServerProcess,
  upload,
  waitForJob,
} from "../tests/server/fixtures/serverProcess.js";
import { COMMUNITY_INSTALL, type CommunityHnswlib, loadCommunityHnswlib } from "./communityHnswlib.js";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const flag = (name: string) => process.argv.includes(`--${name}`);
const KILLS = Number(arg("kills") ?? 100);
const FILES = Number(arg("files") ?? 1000);
const ROUNDS = Number(arg("rounds") ?? 2);
const DIMENSION = 512;
const SELF = fileURLToPath(import.meta.url);

function dirBytes(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, name) => n + dirBytes(join(path, name)), 0);
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

// ---------------------------------------------------------------------------------------------
// 1. Kill during upload

async function killDuringUploads(kills: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "genera-faults-"));
  const corpus = join(work, "corpus");
  mkdirSync(corpus);
  writeFileSync(join(corpus, "guide.md"), "# Guide\n\nThe corpus guide explains the tundra.\n");
  const dataDir = join(work, "data");
  const random = seededRandom(13);
  const acknowledged = new Map<string, { word: string; job: string }>();
  let sent = 0;
  const started = performance.now();
  try {
    for (let cycle = 0; cycle < kills; cycle++) {
      const server = await startServerProcess(dataDir, corpus, 30);
      const uploads = Array.from({ length: 3 }, async (_, k) => {
        const name = `upload-${cycle}-${k}.md`;
        const word = `zq${cycle}x${k}w`;
        const paragraphs = Array.from({ length: 40 }, (_, p) => `Paragraph ${p} of ${name} is about the ${word}.`);
        sent++;
        try {
          const res = await upload(server.url, { [name]: `# ${name}\n\n${paragraphs.join("\n\n")}\n` }, k === 0);
          if (res.status === 200 || res.status === 202) {
            acknowledged.set(name, { word, job: ((await res.json()) as { id: string }).id });
          }
        } catch {
          // The kill cut the request off: never acknowledged, so nothing was promised.
        }
      });
      // Kill at a random moment: before, during or after the answers and the indexing.
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 1500)));
      server.child.kill("SIGKILL");
      await server.exited;
      await Promise.all(uploads);
      process.stderr.write(`\rkill ${cycle + 1}/${kills}: ${acknowledged.size} acknowledged so far`);
    }
    process.stderr.write("\n");

    const server = await startServerProcess(dataDir, corpus);
    try {
      let jobsDone = 0;
      for (const { job } of acknowledged.values()) {
        const { status } = await waitForJob(server.url, job, 2000);
        if (status === "done" || status === "forgotten") jobsDone++;
      }
      const listed = new Set((await listDocuments(server.url)).map((d) => d.source));
      let present = 0;
      let searchable = 0;
      for (const [name, { word }] of acknowledged) {
        if (listed.has(name)) present++;
        const res = await fetch(`${server.url}/api/search?q=${word}&k=1&mode=keyword`);
        const top = ((await res.json()) as { results: Array<{ source: string }> }).results[0];
        if (top?.source === name) searchable++;
      }
      console.log(
        `\n## Kill during upload (${kills} SIGKILLs, ${((performance.now() - started) / 1000).toFixed(0)} s)\n`,
      );
      console.log(
        "| uploads sent | acknowledged (200/202) | jobs done after restart | listed | found by search | lost |",
      );
      console.log("|---:|---:|---:|---:|---:|---:|");
      console.log(
        `| ${sent} | ${acknowledged.size} | ${jobsDone} | ${present} | ${searchable} | ${acknowledged.size - Math.min(present, searchable)} |`,
      );
    } finally {
      await stop(server);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill("SIGTERM");
  await server.exited;
}

// ---------------------------------------------------------------------------------------------
// 2. SIGTERM during a long job

async function sigtermDuringLongJob(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "genera-faults-term-"));
  const corpus = join(work, "corpus");
  mkdirSync(corpus);
  writeFileSync(join(corpus, "guide.md"), "# Guide\n\nThe corpus guide.\n");
  try {
    // ~4 MB of text, embeddings slowed to 50 ms per call of 64 chunks: about a minute of indexing.
    const server = await startServerProcess(join(work, "data"), corpus, 50);
    const paragraph = (i: number) => `Paragraph ${i} tells of the okapi herd ${i} grazing by the river at dawn. `;
    const text = `# Okapi\n\n${Array.from({ length: 40_000 }, (_, i) => paragraph(i)).join("\n\n")}\n`;
    const res = await upload(server.url, { "okapi.md": text });
    const { id } = (await res.json()) as { id: string };
    for (;;) {
      const job = (await (await fetch(`${server.url}/api/documents/jobs/${id}`)).json()) as { chunksDone: number };
      if (job.chunksDone > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const signalled = performance.now();
    server.child.kill("SIGTERM");
    const code = await server.exited;
    const seconds = (performance.now() - signalled) / 1000;
    const again = await startServerProcess(join(work, "data"), corpus);
    const resumed = await waitForJob(again.url, id, 4000);
    await stop(again);
    console.log(`\n## SIGTERM during a ${mib(Buffer.byteLength(text))} MiB upload job\n`);
    console.log("| exit code | seconds from SIGTERM to exit | job after restart |");
    console.log("|---:|---:|---|");
    console.log(`| ${code} | ${seconds.toFixed(2)} | ${resumed.status} |`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Store size and peak memory against LangChain's HNSWLib

/** Real text files: Markdown from node_modules, then /usr/share/doc, copied flat into `dir`. */
function realCorpus(dir: string, files: number): number {
  mkdirSync(dir, { recursive: true });
  const list = (root: string, args: string[]) => {
    try {
      // -H: node_modules may itself be a link (a worktree sharing another's packages).
      return execFileSync("find", ["-H", root, ...args], { encoding: "utf8", maxBuffer: 64 << 20 })
        .split("\n")
        .filter(Boolean)
        .sort();
    } catch {
      return [];
    }
  };
  const candidates = [
    ...list("node_modules", ["-name", "*.md", "-size", "+1k", "-type", "f"]),
    ...list("/usr/share/doc", ["-type", "f", "(", "-name", "copyright", "-o", "-name", "*.txt", ")", "-size", "+1k"]),
  ];
  let copied = 0;
  for (const path of candidates) {
    if (copied >= files) break;
    const ext = path.endsWith(".md") ? ".md" : ".txt";
    const name = `${String(copied).padStart(4, "0")}-${relative("/", path)
      .replace(/[^A-Za-z0-9]+/g, "_")
      .slice(-60)}${ext}`;
    copyFileSync(path, join(dir, name));
    copied++;
  }
  return copied;
}

interface StoreRun {
  pipeline: string;
  chunks: number;
  bytes: number;
  peakRssMiB: number;
  growthMiB: number;
  seconds: number;
}

async function storeChild(pipeline: "genera" | "langchain", corpus: string, out: string): Promise<void> {
  const { HashEmbeddings } = await import("../tests/helpers/HashEmbeddings.js");
  const embeddings = new HashEmbeddings({ dimension: DIMENSION, modelId: "hash-512" });
  const { walkFiles } = await import("../loaders/DirectoryLoader.js");
  const { loadFile } = await import("../loaders/loadFile.js");
  const { splitDocuments } = await import("../loaders/splitter.js");
  const { embeddingText } = await import("../src/knowledge/embeddingText.js");
  const { KnowledgeBase } = await import("../src/knowledge/KnowledgeBase.js");
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  let chunks = 0;
  if (pipeline === "genera") {
    const kb = await KnowledgeBase.open({ dir: out, embeddings });
    const summary = await kb.index([corpus]);
    chunks = (await kb.stats()).chunks;
    if (summary.failed) process.stderr.write(`genera: ${summary.failed} files failed\n`);
    await kb.close();
  } else {
    // The same chunks and embedded text, added in the same batches, then saved.
    const HNSWLib = await loadCommunityHnswlib();
    if (!HNSWLib) throw new Error(`@langchain/community is not installed: ${COMMUNITY_INSTALL}`);
    let store: CommunityHnswlib | undefined;
    let pending: Awaited<ReturnType<typeof splitDocuments>> = [];
    const flush = async () => {
      if (!pending.length) return;
      const vectors = await embeddings.embedDocuments(pending.map((d) => embeddingText(d)));
      store ??= new HNSWLib(embeddings, { space: "cosine", numDimensions: DIMENSION });
      await store.addVectors(vectors, pending);
      chunks += pending.length;
      pending = [];
    };
    for await (const file of walkFiles([corpus])) {
      try {
        const docs = await loadFile(file.absPath, { relPath: file.relPath, root: file.root });
        pending.push(...(await splitDocuments(docs, { chunkSize: 800, chunkOverlap: 100 })));
      } catch {
        continue;
      }
      if (pending.length >= 64) await flush();
    }
    await flush();
    await store?.save(out);
  }
  const run: StoreRun = {
    pipeline,
    chunks,
    bytes: dirBytes(out),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    growthMiB: process.resourceUsage().maxRSS / 1024 - rssBefore / 2 ** 20,
    seconds: (performance.now() - started) / 1000,
  };
  process.stdout.write(`${JSON.stringify(run)}\n`);
}

/**
 * Opens a stored knowledge base and prints the milliseconds that took. "rebuild" first deletes
 * the keyword snapshot, so the postings are made from every chunk's text as before it existed
 * (and a new snapshot is written, which this time includes).
 */
async function openChild(mode: "snapshot" | "rebuild", out: string): Promise<void> {
  const { HashEmbeddings } = await import("../tests/helpers/HashEmbeddings.js");
  const { KnowledgeBase } = await import("../src/knowledge/KnowledgeBase.js");
  if (mode === "rebuild") {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(join(out, "store.sqlite"));
    db.exec("DELETE FROM snapshots; DELETE FROM meta WHERE key = 'keywords'");
    db.close();
  }
  const embeddings = new HashEmbeddings({ dimension: DIMENSION, modelId: "hash-512" });
  const started = performance.now();
  const kb = await KnowledgeBase.open({ dir: out, embeddings, onRepair: () => {} });
  const ms = performance.now() - started;
  const chunks = (await kb.stats()).chunks;
  await kb.close();
  process.stdout.write(`${JSON.stringify({ ms, chunks })}\n`);
}

function runJsonChild<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE_FLAGS, SELF, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.on("exit", (code) => {
      const line = stdout.trim().split("\n").at(-1);
      if (code === 0 && line) resolve(JSON.parse(line) as T);
      else reject(new Error(`${args.join(" ")} exited with ${code}`));
    });
  });
}

function runStoreChild(pipeline: string, corpus: string, out: string): Promise<StoreRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE_FLAGS, SELF, `--store-child=${pipeline}`, corpus, out], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.on("exit", (code) => {
      const line = stdout.trim().split("\n").at(-1);
      if (code === 0 && line) resolve(JSON.parse(line) as StoreRun);
      else reject(new Error(`${pipeline} pipeline exited with ${code}`));
    });
  });
}

async function storeComparison(files: number): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "genera-faults-store-"));
  try {
    const corpus = join(work, "corpus");
    const copied = realCorpus(corpus, files);
    const corpusBytes = dirBytes(corpus);
    const runs: StoreRun[] = [];
    const startups: Array<{ mode: string; ms: number; chunks: number }> = [];
    const pipelines = (await loadCommunityHnswlib()) ? ["langchain", "genera"] : ["genera"];
    if (pipelines.length === 1)
      console.error(`@langchain/community is not installed: genera alone (${COMMUNITY_INSTALL})`);
    // Rounds with the pipelines taking turns; the lower peak of each is kept (the machine is shared).
    for (let round = 0; round < ROUNDS; round++) {
      for (const pipeline of pipelines) {
        const out = join(work, `${pipeline}-${round}`);
        runs.push(await runStoreChild(pipeline, corpus, out));
        if (pipeline === "genera" && round === 0) {
          for (const mode of ["snapshot", "rebuild", "snapshot"] as const) {
            startups.push({
              mode,
              ...(await runJsonChild<{ ms: number; chunks: number }>([`--open-child=${mode}`, out])),
            });
          }
        }
        rmSync(out, { recursive: true, force: true });
      }
    }
    const best = (p: string) => {
      const mine = runs.filter((r) => r.pipeline === p);
      return mine.reduce((a, b) => (b.peakRssMiB < a.peakRssMiB ? b : a));
    };
    // Without the baseline the ratios are left blank.
    const base = pipelines.includes("langchain") ? best("langchain") : undefined;
    const ratio = (x: number, of: number | undefined) => (of ? `${(x / of).toFixed(2)}×` : "—");
    console.log(
      `\n## Store size and peak memory: ${copied} real text files (${mib(corpusBytes)} MiB), ${best("genera").chunks} chunks, ${DIMENSION}-d\n`,
    );
    console.log(
      "| pipeline | chunks | on disk (MiB) | disk ratio | peak RSS (MiB) | growth while indexing (MiB) | peak ratio | seconds | goal |",
    );
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (const p of pipelines) {
      const r = best(p);
      console.log(
        `| ${p === "langchain" ? "LangChain HNSWLib (docstore.json + index)" : "genera store (SQLite + graph file)"} | ${r.chunks} | ${mib(r.bytes)} | ` +
          `${ratio(r.bytes, base?.bytes)} | ${r.peakRssMiB.toFixed(0)} | ${r.growthMiB.toFixed(0)} | ` +
          `${ratio(r.peakRssMiB, base?.peakRssMiB)} | ${r.seconds.toFixed(1)} | ${p === "genera" ? "≤ 1.3× / ≤ 1.3×" : "baseline"} |`,
      );
    }
    console.log("\nStart-up of that store (`KnowledgeBase.open`, its own process):\n");
    console.log("| keyword postings | chunks | open ms |");
    console.log("|---|---:|---:|");
    for (const s of startups) {
      const label =
        s.mode === "snapshot"
          ? "read from the snapshot in store.sqlite"
          : "rebuilt from every chunk's text (snapshot deleted first; includes writing a new one)";
      console.log(`| ${label} | ${s.chunks} | ${s.ms.toFixed(0)} |`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

const child = arg("store-child") as "genera" | "langchain" | undefined;
const opening = arg("open-child") as "snapshot" | "rebuild" | undefined;
if (opening) {
  await openChild(opening, process.argv.at(-1) as string);
  process.exit(0);
} else if (child) {
  const [corpus, out] = process.argv.slice(-2) as [string, string];
  await storeChild(child, corpus, out);
  process.exit(0);
} else {
  if (!flag("skip-kills")) {
    await killDuringUploads(KILLS);
    await sigtermDuringLongJob();
  }
  if (!flag("skip-store")) await storeComparison(FILES);
}

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { embeddingsModelId } from "../../src/embeddings/embeddingsModelId.js";
import { PostgresStore } from "../../src/knowledge/PostgresStore.js";
import { IndexQueue } from "../../src/queue/IndexQueue.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";
import { TS_NODE_FLAGS } from "../helpers/tsNode.js";

// Issue 18: workers on a BullMQ queue and server replicas sharing one Postgres and one Redis,
// all real processes on loopback; SIGKILL of a worker or a replica loses nothing acknowledged.

const CHILD = fileURLToPath(new URL("./fixtures/queueChild.ts", import.meta.url));
let pg: TestPostgres;
let redis: TestRedis;
const children: ChildProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
});
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
afterAll(async () => {
  rmSync(keyFile, { force: true });
  await Promise.all([pg?.stop(), redis?.stop()]);
});

/** Starts queueChild.ts and resolves with what it printed on its ready line. */
function spawnChild(args: string[], ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...TS_NODE_FLAGS, CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const match = ready.exec(out);
      if (match) resolve({ child, match });
    });
    child.once("exit", (code) => reject(new Error(`child ${args[0]} exited (${code}) before it was ready: ${stderr}`)));
  });
}

const startWorker = (delayMs: number, lockMs = 30_000) =>
  spawnChild(["worker", pg.url, redis.url, String(delayMs), String(lockMs)], /worker ready/);

// Each replica has its own data folder; the key that signs the sessions is one file they all read.
const keyFile = join(tmpdir(), `genera-replicas-${process.pid}.key`);

async function startReplica(): Promise<{ child: ChildProcess; url: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), "genera-replica-"));
  dirs.push(dataDir);
  const { child, match } = await spawnChild(["server", pg.url, redis.url, dataDir, keyFile], /listening (http:\S+)/);
  return { child, url: match[1] as string };
}

function corpus(files: number): string {
  const dir = mkdtempSync(join(tmpdir(), "genera-queue-corpus-"));
  dirs.push(dir);
  mkdirSync(join(dir, "notes"));
  for (let i = 0; i < files; i++) {
    writeFileSync(join(dir, "notes", `note-${i}.md`), `# Note ${i}\n\nThe walrus number ${i} is called qz${i}w.\n`);
  }
  return dir;
}

async function json<T>(response: Response | Promise<Response>): Promise<T> {
  return (await (await response).json()) as T;
}

describe("ingestion workers on a BullMQ queue", () => {
  it("two workers index enqueued files; a worker SIGKILLed mid-job loses nothing and indexes nothing twice", async () => {
    const dir = corpus(10);
    // Each embedding call takes 1.5 s, so a worker is inside a job when it is killed; its lock lapses after 2 s.
    const [first] = await Promise.all([startWorker(1_500, 2_000), startWorker(1_500, 2_000)]);
    const queue = await IndexQueue.open(redis.url);
    try {
      await queue.listen();
      const ids = await queue.add(
        Array.from({ length: 10 }, (_, i) => ({ paths: [join(dir, "notes", `note-${i}.md`)], root: dir })),
      );
      const progressed = new Set<string>();
      let killed = false;
      const statuses = await queue.follow(ids, {
        onProgress: (id) => {
          progressed.add(id);
          // Once both workers hold a job, one of them dies in the middle of it.
          if (!killed && progressed.size >= 2) {
            killed = true;
            first.child.kill("SIGKILL");
          }
        },
      });
      expect(killed).toBe(true);
      expect(statuses.map((s) => s.state)).toEqual(Array(10).fill("done"));
      // Citations are relative to the folder the files were enqueued from, as `genera index <dir>` gives.
      expect(statuses[3]?.summary?.added).toBe(1);
    } finally {
      await queue.close();
    }
    const store = await PostgresStore.open({ url: pg.url, modelId: embeddingsModelId(new HashEmbeddings()) });
    try {
      const sources = await store.listSources();
      expect(sources.length).toBe(10);
      expect(sources.map((s) => s.source).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `notes/note-${i}.md`).sort(),
      );
      // One chunk per note, each stored once.
      expect(await store.counts()).toEqual({ sources: 10, chunks: 10 });
    } finally {
      await store.close();
    }
  });
});

describe("a job retried after an attempt that had committed", () => {
  it("reports every file and chunk the job indexed, each stored once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-queue-retry-"));
    dirs.push(dir);
    // 70 short paragraphs each: with 100-character chunks, the first file fills a 64-chunk
    // embedding batch on its own, so it is committed before the second file is embedded.
    for (const name of ["first", "second"]) {
      const paragraphs = Array.from(
        { length: 70 },
        (_, i) => `The ${name} file, paragraph ${i}: walrus ${i} swims through the cold northern sea by the ice.`,
      );
      writeFileSync(join(dir, `${name}.md`), `${paragraphs.join("\n\n")}\n`);
    }
    const first = await startWorker(1_500, 2_000);
    const queue = await IndexQueue.open(redis.url);
    let killed = false;
    try {
      await queue.listen();
      const [id] = await queue.add([
        { paths: [join(dir, "first.md"), join(dir, "second.md")], root: dir, chunkSize: 100, chunkOverlap: 0 },
      ]);
      const statuses = await queue.follow([id as string], {
        onProgress: (_id, progress) => {
          // The first file's commit has landed; the second file is still being embedded.
          if (!killed && progress.chunksDone > 0) {
            killed = true;
            first.child.kill("SIGKILL");
            void startWorker(0, 2_000);
          }
        },
      });
      expect(killed).toBe(true);
      const summary = statuses[0]?.summary;
      expect(statuses[0]?.attemptsMade).toBeGreaterThanOrEqual(1);
      const store = await PostgresStore.open({ url: pg.url, modelId: embeddingsModelId(new HashEmbeddings()) });
      try {
        const sources = (await store.listSources()).filter((s) => s.root === dir);
        const chunks = sources.reduce((n, s) => n + s.chunkIds.length, 0);
        expect(sources.map((s) => s.source).sort()).toEqual(["first.md", "second.md"]);
        expect(new Set(sources.flatMap((s) => s.chunkIds)).size).toBe(chunks);
        // Without the state recorded before the first attempt, the retry called the first file unchanged.
        expect(summary).toMatchObject({ added: 2, updated: 0, unchanged: 0, failed: 0, chunksAdded: chunks });
      } finally {
        await store.close();
      }
    } finally {
      await queue.close();
    }
  });
});

describe("server replicas on one Postgres and one Redis", () => {
  it("answer the same sessions, see each other's uploads, and lose nothing acknowledged when one is SIGKILLed", async () => {
    const [a, b] = await Promise.all([startReplica(), startReplica()]);
    await startWorker(0);
    const post = (url: string, path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });

    // A conversation begun on one replica goes on on the other.
    const first = await json<{ sessionId: string }>(post(a.url, "/api/chat", { message: "What do walruses eat?" }));
    const second = await post(b.url, "/api/chat", { message: "And where do they live?", sessionId: first.sessionId });
    expect(second.status).toBe(200);
    const seen = await json<{ messages: number; history: Array<{ content: string }> }>(
      fetch(`${b.url}/api/sessions/${first.sessionId}`),
    );
    expect(seen.messages).toBe(4);
    expect(seen.history[2]?.content).toBe("And where do they live?");

    // An upload acknowledged by A is indexed by the worker even though A dies right after answering.
    const form = new FormData();
    form.append("files", new Blob(["# Narwhals\n\nThe narwhal tusk is a tooth named xq7tusk.\n"]), "narwhal.md");
    const accepted = await fetch(`${a.url}/api/documents`, { method: "POST", body: form });
    expect(accepted.status).toBe(202);
    const job = await json<{ id: string }>(accepted);
    a.child.kill("SIGKILL");

    // B reports the job (its state is in Redis) and finds the document (it is in Postgres).
    let status = "";
    for (let i = 0; i < 200 && status !== "done" && status !== "failed"; i++) {
      status = (await json<{ status: string }>(fetch(`${b.url}/api/documents/jobs/${job.id}`))).status;
      if (status !== "done") await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe("done");
    const found = await json<{ results: Array<{ source: string }> }>(
      fetch(`${b.url}/api/search?q=xq7tusk&mode=keyword&k=3`),
    );
    expect(found.results[0]?.source).toBe("narwhal.md");
    const documents = await json<{ documents: Array<{ source: string }> }>(fetch(`${b.url}/api/documents`));
    expect(documents.documents.map((d) => d.source)).toContain("narwhal.md");
    // The session A wrote to is whole on B after A's death.
    const list = await json<{ sessions: Array<{ id: string; messages: number }> }>(fetch(`${b.url}/api/sessions`));
    expect(list.sessions.find((s) => s.id === first.sessionId)?.messages).toBe(4);
  });
});

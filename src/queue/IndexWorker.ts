import { statSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import type { Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { IndexSummary, KnowledgeBase } from "../knowledge/KnowledgeBase.js";
import { INDEX_QUEUE_NAME, type IndexJobData, type IndexJobProgress, type StoredFile } from "./IndexQueue.js";
import { connectRedis } from "./redis.js";

export interface IndexWorkerOptions {
  /** `redis://…`: the queue's Redis. */
  url: string;
  /**
   * The shared store the jobs are indexed into (Postgres, so that every worker and replica sees
   * it). Several knowledge bases on the same store (sharing one embeddings) are lanes: each runs
   * one job at a time, so one job's embedding overlaps another's commit (a knowledge base runs its
   * index calls one after the other).
   */
  kb: KnowledgeBase | KnowledgeBase[];
  /** Jobs at once in this process (default: one per knowledge base). */
  concurrency?: number;
  /**
   * A job whose lock is not renewed for this long (its worker was killed or froze) goes back to
   * the queue for another worker (default 30 s, BullMQ's).
   */
  lockMs?: number;
  log?: (line: string) => void;
}

/**
 * The consumer side of ingestion on BullMQ: takes index jobs and indexes their files into the
 * knowledge base. A file that cannot be read is a per-file failure in the job's summary (a retry
 * would fail alike); anything else (the database gone, the worker stopping) fails the attempt,
 * and BullMQ retries it. Killing a worker mid-job loses nothing: its lock lapses, another worker
 * takes the job again, and the re-run commits each file once (unchanged ones are skipped).
 */
export class IndexWorker {
  private readonly abort = new AbortController();

  private constructor(
    private readonly worker: Worker<IndexJobData, IndexSummary>,
    private readonly connection: Redis,
  ) {}

  static async start(options: IndexWorkerOptions): Promise<IndexWorker> {
    const connection = await connectRedis(options.url);
    const { Worker } = await import("bullmq");
    const log = options.log ?? (() => {});
    const lanes = Array.isArray(options.kb) ? [...options.kb] : [options.kb];
    const free = [...lanes];
    // When each lane last finished a job: the gap to its next is the queue's part of a job
    // (BullMQ hands the next job over with the last one's completion, in one round trip).
    const finished = new Map<KnowledgeBase, number>();
    let shared = 0;
    let self: IndexWorker | undefined;
    const worker = new Worker<IndexJobData, IndexSummary>(
      INDEX_QUEUE_NAME,
      async (job) => {
        // More jobs than lanes (concurrency above the lanes) queue on a busy lane's own write queue.
        const own = free.shift();
        const kb = own ?? (lanes[shared++ % lanes.length] as KnowledgeBase);
        const last = finished.get(kb);
        const queued = last === undefined ? undefined : (performance.now() - last) / 1000;
        try {
          const summary = await runJob(kb, job, (self as IndexWorker).abort.signal);
          if (queued !== undefined && summary.timings) summary.timings.queue = queued;
          return summary;
        } finally {
          finished.set(kb, performance.now());
          if (own) free.push(own);
        }
      },
      {
        connection,
        concurrency: options.concurrency ?? lanes.length,
        lockDuration: options.lockMs ?? 30_000,
        // Looked for as often as a lock can lapse, so a dead worker's job waits at most about two locks.
        stalledInterval: options.lockMs ?? 30_000,
        // A job given back twice (two workers killed under it) still gets a third try.
        maxStalledCount: 2,
        autorun: false,
      },
    );
    worker.on("error", (error) => log(`worker: ${error.message}`));
    worker.on("completed", (job, summary) =>
      log(
        `indexed ${job.data.paths.length} file(s) of job ${job.id}: ${summary.added} added, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.failed} failed`,
      ),
    );
    worker.on("failed", (job, error) => log(`job ${job?.id} failed (attempt ${job?.attemptsMade}): ${error.message}`));
    // A load spread over many jobs (and workers) ends when the queue runs dry: the store then builds
    // what the load put off (the Postgres store's vector index, once over all the rows).
    worker.on("drained", () => {
      (lanes[0] as KnowledgeBase).finishLoad().catch((error: Error) => log(`finishing the load: ${error.message}`));
    });
    self = new IndexWorker(worker, connection);
    void worker.run();
    await worker.waitUntilReady();
    return self;
  }

  /** Stops taking jobs; the running ones stop at their next batch and go back to the queue (retried). */
  async close(): Promise<void> {
    this.abort.abort();
    await this.worker.close();
    this.connection.disconnect();
  }
}

async function runJob(
  kb: KnowledgeBase,
  job: Job<IndexJobData, IndexSummary>,
  signal: AbortSignal,
): Promise<IndexSummary> {
  const { paths, root, chunkSize, chunkOverlap } = job.data;
  // What the store held for each file before the job's first attempt, recorded in the job before
  // this attempt commits anything: an earlier attempt may have committed some files before it was
  // killed (or lost its lock), and this one then finds them unchanged. The first attempt takes it
  // from the index run's own read of the files' records; its write to Redis runs while the files
  // load and embed, and the first commit waits for it. `after`: what the job leaves, as the run
  // read and committed it (no read of the store at the end).
  const given = new Map(paths.map((path) => [resolve(path), path]));
  const before: Record<string, StoredFile | null> = { ...job.data.before };
  const after: Record<string, StoredFile | null> = {};
  let recording = Promise.resolve();
  let unwritten = false;
  let recordedSeconds = 0;
  const started = performance.now();
  // Progress for the enqueuer only once a job has run for a while: each report is a Redis round
  // trip and an event, and a short job's completion says all of it.
  let reported = Date.now();
  const summary = await kb.index(paths, {
    root,
    chunkSize,
    chunkOverlap,
    // The enqueuer chose these files: folder filters do not apply, and nothing else is removed.
    include: [],
    exclude: [],
    cleanup: "none",
    // More jobs of the same load may follow: the worker ends the load when the queue runs dry.
    finishLoad: false,
    signal,
    onStored: (absPath, stored) => {
      const path = given.get(absPath);
      if (path === undefined) return;
      after[path] = stored ?? null;
      if (path in before) return;
      before[path] = stored ?? null;
      // One write for the records read together (they arrive in one go), chained after the last.
      if (unwritten) return;
      unwritten = true;
      recording = recording.then(async () => {
        unwritten = false;
        await job.updateData({ ...job.data, before: { ...before } });
        recordedSeconds = (performance.now() - started) / 1000;
      });
      // A failure surfaces at the commit that waits for it.
      recording.catch(() => {});
    },
    beforeCommit: () => recording,
    onProgress: (e) => {
      const now = Date.now();
      if (e.phase === "done" || now - reported < PROGRESS_MS) return;
      reported = now;
      const progress: IndexJobProgress = {
        filesTotal: e.filesTotal,
        filesDone: e.filesDone,
        chunksDone: e.chunksDone,
        chunksEmbedded: e.chunksEmbedded,
        chunksSplit: e.chunksSplit,
      };
      void job.updateProgress(progress as unknown as object).catch(() => {});
    },
  });
  if (summary.aborted) throw new Error("the worker stopped before the job finished; it will be retried");
  // A job that committed nothing never waited for its record; a retry needs it all the same.
  await recording;
  if (summary.timings) summary.timings.recording = recordedSeconds;
  return jobSummary(summary, before, after, root, paths);
}

/** How long a job runs before it reports progress, and then how often (each report is a Redis round trip). */
const PROGRESS_MS = 250;

/**
 * The job's summary from what its files were before its first attempt and are now: the same as
 * the last attempt's own summary when there was one attempt, and the right counts when an earlier
 * attempt had committed some files (the last one saw those as unchanged). Jobs naming folders
 * keep the attempt's summary: their files are not known beforehand.
 */
export function jobSummary(
  attempt: IndexSummary,
  before: Record<string, StoredFile | null>,
  after: Record<string, StoredFile | null>,
  root: string,
  paths: string[],
): IndexSummary {
  if (!paths.every((path) => isFile(path))) return attempt;
  const failed = new Set(attempt.failures.map((f) => f.path));
  // With cleanup "none" a job deletes chunks only by replacing its own files: those are counted here too.
  const summary = { ...attempt, added: 0, updated: 0, unchanged: 0, chunksAdded: 0, chunksDeleted: 0 };
  for (const path of paths) {
    const was = before[path] ?? null;
    const now = after[path] ?? null;
    if (!now || failed.has(relative(root, resolve(path)).split(sep).join("/"))) continue;
    if (!was) {
      summary.added++;
      summary.chunksAdded += now.chunks;
    } else if (was.hash !== now.hash) {
      summary.updated++;
      summary.chunksAdded += now.chunks;
      summary.chunksDeleted += was.chunks;
    } else summary.unchanged++;
  }
  return summary;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

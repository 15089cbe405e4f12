import type { Job, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { IndexProgress, IndexSummary, StoredFile } from "../knowledge/KnowledgeBase.js";
import { connectRedis } from "./redis.js";

/** The BullMQ queue every enqueuer and worker of one deployment shares. */
export const INDEX_QUEUE_NAME = "genera-index";

/** One job: files to index into the shared store, as `genera index` would index them. */
export interface IndexJobData {
  /** Absolute paths, readable by the workers (the same machine, or a volume they all mount). */
  paths: string[];
  /** The folder citations are relative to (see IndexOptions.root). */
  root: string;
  /** The enqueuer's chunking; a worker's own configuration applies where these are missing. */
  chunkSize?: number;
  chunkOverlap?: number;
  /**
   * Set by the first attempt that starts (not by the enqueuer): what the store held for each path
   * before the job touched it, so that a retried job reports what the job did, not only its last attempt.
   */
  before?: Record<string, StoredFile | null>;
}

/** A stored file as a job's summary needs it. */
export type { StoredFile } from "../knowledge/KnowledgeBase.js";

/** The part of IndexProgress a job reports while it runs. */
export type IndexJobProgress = Pick<
  IndexProgress,
  "filesTotal" | "filesDone" | "chunksDone" | "chunksEmbedded" | "chunksSplit"
>;

export interface IndexJobStatus {
  id: string;
  state: "queued" | "indexing" | "done" | "failed";
  data: IndexJobData;
  progress?: IndexJobProgress;
  /** The worker's summary of a finished job (per-file failures included). */
  summary?: IndexSummary;
  /** Why the job failed after its last attempt. */
  error?: string;
  attemptsMade: number;
}

/**
 * Attempts per job: a worker that dies or loses the database mid-job gives it back, and it is
 * retried (a re-run commits each file once: unchanged files are skipped, changed ones replaced).
 */
const ATTEMPTS = 5;
/** Finished jobs kept in Redis for status queries (GET /api/documents/jobs/:id); older ones go. */
const KEPT_JOBS = 1_000;
/** How often `follow` asks for jobs whose events it may have missed. */
const SWEEP_MS = 5_000;

/**
 * The producer side of ingestion on BullMQ: adds index jobs, reports their state, and follows
 * them to the end with progress. A job is acknowledged once `add` resolves: it is then in Redis,
 * and whatever happens to the enqueuer, a worker indexes it.
 */
export class IndexQueue {
  private events?: QueueEvents;

  private constructor(
    private readonly queue: Queue<IndexJobData, IndexSummary>,
    private readonly connections: Redis[],
    private readonly url: string,
  ) {}

  static async open(url: string): Promise<IndexQueue> {
    const connection = await connectRedis(url);
    const { Queue } = await import("bullmq");
    const queue = new Queue<IndexJobData, IndexSummary>(INDEX_QUEUE_NAME, {
      connection,
      defaultJobOptions: {
        attempts: ATTEMPTS,
        backoff: { type: "exponential", delay: 1_000 },
        removeOnComplete: { count: KEPT_JOBS },
        removeOnFail: { count: KEPT_JOBS },
      },
    });
    return new IndexQueue(queue, [connection], url);
  }

  /** Adds the jobs (one Redis transaction) and returns their ids in order; `ids` names them (default: BullMQ's). */
  async add(jobs: IndexJobData[], ids?: string[]): Promise<string[]> {
    if (!jobs.length) return [];
    const added = await this.queue.addBulk(
      jobs.map((data, i) => ({ name: "index", data, ...(ids?.[i] ? { opts: { jobId: ids[i] } } : {}) })),
    );
    return added.map((job) => job.id as string);
  }

  /** `completed`: the caller saw the job's "completed" event (a final state): only its record is read. */
  async status(id: string, completed = false): Promise<IndexJobStatus | undefined> {
    // The state first, the record after: a finished state is final, so the record read next holds
    // the job's result. Read the other way round, a job that finished between the two reads came
    // back "done" with the record of its running self (no summary), and the enqueuer counted it as
    // 0 chunks (980 of 1,000 reported while the store held 1,000).
    const state = completed ? "completed" : await this.queue.getJobState(id);
    const job = await this.queue.getJob(id);
    return job ? statusOf(job, state) : undefined;
  }

  /**
   * Calls `onProgress` as workers report and `onFinished` once per job (done or failed after its
   * last attempt), resolving when every job in `ids` has finished. Start listening (`listen`)
   * before adding the jobs, so that no event is missed.
   */
  async follow(
    ids: string[],
    handlers: {
      onProgress?: (id: string, progress: IndexJobProgress) => void;
      onFinished?: (status: IndexJobStatus) => void;
    } = {},
  ): Promise<IndexJobStatus[]> {
    const events = await this.listen();
    const outstanding = new Set(ids);
    const finished = new Map<string, IndexJobStatus>();
    let wake: () => void = () => {};
    let heard = Date.now();
    const settle = async (id: string, returned?: IndexSummary) => {
      if (!outstanding.has(id)) return;
      const status = await this.status(id, returned !== undefined);
      // A job already removed (KEPT_JOBS) finished long ago: its outcome is what its "completed"
      // event carried, or gone if that event was missed.
      const final = status ?? {
        id,
        state: "done" as const,
        data: { paths: [], root: "" },
        ...(returned ? { summary: returned } : {}),
        attemptsMade: 0,
      };
      if (final.state !== "done" && final.state !== "failed") return;
      if (!outstanding.delete(id)) return;
      finished.set(id, final);
      handlers.onFinished?.(final);
      if (!outstanding.size) wake();
    };
    const onProgress = ({ jobId, data }: { jobId: string; data: unknown }) => {
      heard = Date.now();
      if (outstanding.has(jobId)) handlers.onProgress?.(jobId, data as IndexJobProgress);
    };
    const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
      heard = Date.now();
      void settle(jobId, typeof returnvalue === "object" && returnvalue ? (returnvalue as IndexSummary) : undefined);
    };
    const onDone = ({ jobId }: { jobId: string }) => {
      heard = Date.now();
      void settle(jobId);
    };
    events.on("progress", onProgress);
    events.on("completed", onCompleted);
    events.on("failed", onDone);
    // While events flow the subscription is alive; a sweep (two Redis reads per outstanding job) is
    // for when they have been quiet a while: a missed event, or workers that are all busy or gone.
    const sweep = setInterval(() => {
      if (Date.now() - heard < SWEEP_MS) return;
      for (const id of [...outstanding].slice(0, 500)) void settle(id);
    }, SWEEP_MS);
    try {
      // Jobs that finished before the listener was up.
      await Promise.all(ids.map((id) => settle(id)));
      if (outstanding.size) await new Promise<void>((resolve) => (wake = resolve));
    } finally {
      clearInterval(sweep);
      events.off("progress", onProgress);
      events.off("completed", onCompleted);
      events.off("failed", onDone);
    }
    return ids.map((id) => finished.get(id) as IndexJobStatus);
  }

  /** Subscribes to the queue's events (idempotent); resolves once the subscription is live. */
  async listen(): Promise<QueueEvents> {
    if (!this.events) {
      const { QueueEvents } = await import("bullmq");
      // Its own connection: reading the event stream blocks it.
      const connection = await connectRedis(this.url);
      this.connections.push(connection);
      this.events = new QueueEvents(INDEX_QUEUE_NAME, { connection });
      this.events.on("error", () => {});
      await this.events.waitUntilReady();
    }
    return this.events;
  }

  /** Jobs waiting, running, done and failed (those still kept). */
  async counts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts("waiting", "delayed", "active", "completed", "failed");
  }

  async close(): Promise<void> {
    await this.events?.close();
    await this.queue.close();
    for (const connection of this.connections) connection.disconnect();
  }
}

function statusOf(job: Job<IndexJobData, IndexSummary>, state: string): IndexJobStatus {
  const summary = job.returnvalue ?? undefined;
  const progress = typeof job.progress === "object" ? (job.progress as unknown as IndexJobProgress) : undefined;
  let mapped: IndexJobStatus["state"] =
    state === "active" ? "indexing" : state === "completed" ? "done" : state === "failed" ? "failed" : "queued";
  // As the in-process upload queue says it: a job none of whose files could be indexed failed.
  if (mapped === "done" && summary && summary.failed > 0 && summary.failed === job.data.paths.length) mapped = "failed";
  return {
    id: job.id as string,
    state: mapped,
    data: job.data,
    ...(progress ? { progress } : {}),
    ...(summary ? { summary } : {}),
    ...(state === "failed" ? { error: job.failedReason } : {}),
    attemptsMade: job.attemptsMade,
  };
}

import type { Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { emptyIndexSummary, type IndexSummary } from "../../src/knowledge/KnowledgeBase.js";
import { INDEX_QUEUE_NAME, type IndexJobData, IndexQueue } from "../../src/queue/IndexQueue.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";

/**
 * The enqueuer's view of a job that finishes while the enqueuer reads it. `genera index --queue`
 * once counted 980 of 1,000 chunks (the store held all 1,000): a status read the job's record while
 * it ran (no result yet), the job then completed, and the state read next said "completed", so the
 * job was settled as done with no summary. Here the job completes exactly between the enqueuer's
 * read of its record and whatever it reads next, every time.
 */
describe("IndexQueue: a job that completes while its status is read", () => {
  let redis: TestRedis;
  let queue: IndexQueue;
  let worker: Worker<IndexJobData, IndexSummary> | undefined;
  let workerConnection: Redis | undefined;

  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await worker?.close();
    workerConnection?.disconnect();
    await queue?.close();
  });

  /** A job taken by a worker that holds it until `release`, then returns a summary of 20 chunks. */
  async function runningJob(): Promise<{ id: string; release: () => Promise<void> }> {
    queue = await IndexQueue.open(redis.url);
    await queue.listen();
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    let active: (job: Job) => void = () => {};
    const started = new Promise<Job>((resolve) => (active = resolve));
    const { Worker } = await import("bullmq");
    workerConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
    worker = new Worker<IndexJobData, IndexSummary>(
      INDEX_QUEUE_NAME,
      async () => {
        await gate;
        return { ...emptyIndexSummary(), added: 1, chunksAdded: 20 };
      },
      { connection: workerConnection },
    );
    worker.on("active", (job) => active(job));
    const [id] = await queue.add([{ paths: ["/corpus/doc-0.md"], root: "/corpus" }]);
    await started;
    const w = worker;
    const release = async () => {
      const completed = new Promise<void>((resolve) => w.once("completed", () => resolve()));
      open();
      await completed;
    };
    return { id: id as string, release };
  }

  /** Completes the job right after the next read of its record returns, before anything else is read. */
  function completeAfterNextRecordRead(id: string, release: () => Promise<void>): void {
    const original = Redis.prototype.hgetall;
    let armed = true;
    vi.spyOn(Redis.prototype, "hgetall").mockImplementation(async function (this: Redis, ...args: unknown[]) {
      const record = await (original as (...a: unknown[]) => Promise<Record<string, string>>).apply(this, args);
      if (armed && String(args[0]).endsWith(`:${id}`)) {
        armed = false;
        await release();
      }
      return record;
    } as typeof original);
  }

  it("never says done without the job's summary", async () => {
    const { id, release } = await runningJob();
    completeAfterNextRecordRead(id, release);
    const status = await queue.status(id);
    // Either still running as far as this read knows, or done with what the worker returned.
    if (status?.state === "done") expect(status.summary?.chunksAdded).toBe(20);
    else expect(status?.state).toBe("indexing");
    expect((await queue.status(id))?.summary?.chunksAdded).toBe(20);
  }, 30_000);

  it("follow reports the summary of a job that completed during its first look", async () => {
    const { id, release } = await runningJob();
    completeAfterNextRecordRead(id, release);
    const [status] = await queue.follow([id]);
    expect(status?.state).toBe("done");
    expect(status?.summary?.chunksAdded).toBe(20);
  }, 30_000);
});

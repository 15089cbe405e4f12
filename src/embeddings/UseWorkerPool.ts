import type { Worker } from "node:worker_threads";
import { GeneraError, type GeneraErrorCode } from "../errors.js";
import { startModuleWorker } from "../util/moduleWorker.js";
import type { UseLiteLoadOptions } from "./loadUseLiteModel.js";
import type { EmbedRequest, EmbedResponse, WorkerHello } from "./useWorker.js";

export interface UseWorkerPoolOptions {
  /**
   * Background work (indexing): the workers run at a lower CPU priority than the rest of the
   * process (Linux, where each thread has its own nice value; elsewhere this does nothing), so a
   * search's own threads win the cores while documents are embedded. See useWorker.ts.
   */
  background?: boolean;
}

interface Job {
  id: number;
  texts: string[];
  /** Shared by the jobs of one run(): after one fails, the rest are dropped unprocessed. */
  run: { failed: boolean };
  resolve: (vectors: Float32Array) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  dead: boolean;
  job?: Job;
}

function toGeneraError(error: { message: string; code?: string }, fallback: GeneraErrorCode): GeneraError {
  const code = (error.code ?? fallback) as GeneraErrorCode;
  return new GeneraError(code, error.message);
}

/**
 * A fixed set of USE worker threads. Batches are handed out one at a time to whichever
 * worker is free, so uneven batch costs still keep every core busy. Workers are
 * unref()'d whenever no call is waiting on them: a program that never calls close()
 * still exits.
 */
export class UseWorkerPool {
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private lastFailure?: Error;

  constructor(
    readonly size: number,
    private readonly modelOptions: UseLiteLoadOptions = {},
    private readonly options: UseWorkerPoolOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1) {
      throw new GeneraError("INVALID_INPUT", `Worker pool size must be a positive integer, got ${size}`);
    }
  }

  /** Number of live worker threads (0 before the first call and after close()). */
  get liveWorkers(): number {
    return this.slots.filter((s) => !s.dead).length;
  }

  /** Embeds every batch; results come back in the order of `batches`. Concurrent calls share the workers, first come first served. */
  run(batches: string[][]): Promise<Float32Array[]> {
    if (batches.length === 0) return Promise.resolve([]);
    this.slots = this.slots.filter((s) => !s.dead);
    while (this.slots.length < this.size) this.slots.push(this.spawn());
    const run = { failed: false };
    const results = batches.map(
      (texts) =>
        new Promise<Float32Array>((resolve, reject) => {
          this.queue.push({
            id: this.nextId++,
            texts,
            run,
            resolve,
            reject: (error) => {
              run.failed = true;
              reject(error);
            },
          });
        }),
    );
    this.pump();
    return Promise.all(results);
  }

  /** Terminates every worker; a later run() starts fresh ones. */
  async close(): Promise<void> {
    const slots = this.slots;
    const queued = this.queue;
    this.slots = [];
    this.queue = [];
    const closed = new GeneraError("INTERNAL", "The USE worker pool was closed during a call");
    for (const job of queued) job.reject(closed);
    await Promise.all(
      slots.map(async (slot) => {
        slot.dead = true;
        slot.job?.reject(closed);
        slot.job = undefined;
        await slot.worker.terminate();
      }),
    );
  }

  /** Hands queued batches to idle workers; keeps the workers ref'd exactly while work is pending. */
  private pump(): void {
    for (const slot of this.slots) {
      if (slot.dead || !slot.ready || slot.job) continue;
      let job = this.queue.shift();
      while (job?.run.failed) job = this.queue.shift();
      if (!job) break;
      slot.job = job;
      slot.worker.postMessage({ id: job.id, texts: job.texts } satisfies EmbedRequest);
    }
    this.queue = this.queue.filter((job) => !job.run.failed);
    if (this.queue.length > 0 && this.liveWorkers === 0) {
      const error = this.lastFailure ?? new GeneraError("INTERNAL", "No USE worker thread is running");
      for (const job of this.queue.splice(0)) job.reject(error);
    }
    const busy = this.queue.length > 0 || this.slots.some((s) => s.job !== undefined);
    for (const slot of this.slots) {
      if (slot.dead) continue;
      if (busy) slot.worker.ref();
      else slot.worker.unref();
    }
  }

  private spawn(): Slot {
    const worker = startModuleWorker(new URL("./useWorker.ts", import.meta.url), {
      modelOptions: this.modelOptions,
      background: this.options.background ?? false,
    });
    const slot: Slot = { worker, ready: false, dead: false };
    const fail = (error: Error): void => {
      if (slot.dead) return;
      slot.dead = true;
      this.lastFailure = error;
      slot.job?.reject(error);
      slot.job = undefined;
      this.pump();
    };
    worker.on("message", (message: WorkerHello | EmbedResponse) => {
      if ("ready" in message) {
        if (message.ready) {
          slot.ready = true;
          this.pump();
        } else {
          fail(toGeneraError(message.error, "INTERNAL"));
          void worker.terminate();
        }
        return;
      }
      const job = slot.job;
      if (!job || job.id !== message.id) return;
      slot.job = undefined;
      if ("error" in message) job.reject(toGeneraError(message.error, "INTERNAL"));
      else job.resolve(message.vectors);
      this.pump();
    });
    worker.on("error", (error) => {
      fail(new GeneraError("INTERNAL", `A USE worker thread crashed: ${error.message}`, { cause: error }));
    });
    worker.on("exit", (code) => {
      fail(new GeneraError("INTERNAL", `A USE worker thread exited with code ${code}`));
    });
    return slot;
  }
}

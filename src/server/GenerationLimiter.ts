import { GeneraError } from "../errors.js";

/**
 * Bounds concurrent generations: up to `concurrency` run, up to `maxQueue` wait,
 * the rest are refused at once (the route turns that into 429) rather than piling up.
 */
export class GenerationLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  /** `onReject` hears of every refusal (the server counts them in genera_generations_rejected_total). */
  constructor(
    readonly concurrency: number,
    readonly maxQueue: number,
    private readonly onReject: () => void = () => {},
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Waits for a slot and returns the function that frees it (call it exactly once).
   * Throws RATE_LIMITED at once when the queue is full, so a streaming route can
   * answer 429 before it sends any header. A `signal` that fires while the call is
   * still queued takes it out of the queue (ABORTED), so requests whose clients left
   * do not run later for nobody.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw aborted();
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueue) {
        this.onReject();
        throw new GeneraError("RATE_LIMITED", "The server is busy answering other questions; retry shortly", {
          details: { running: this.running, queued: this.waiting.length },
        });
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const at = this.waiting.indexOf(start);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(aborted());
        };
        const start = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.waiting.push(start);
      });
    } else {
      this.running++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter; otherwise free it.
      if (next) next();
      else this.running--;
    };
  }

  /** Runs `fn` when a slot is free (see acquire). */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

const aborted = () => new GeneraError("ABORTED", "The request was closed before its answer was ready");

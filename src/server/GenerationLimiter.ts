import { GeneraError } from "../errors.js";

/**
 * Bounds concurrent generations: up to `concurrency` run, up to `maxQueue` wait,
 * the rest are refused at once (the route turns that into 429) rather than piling up.
 */
export class GenerationLimiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    readonly maxQueue: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueue) {
        throw new GeneraError("RATE_LIMITED", "The server is busy answering other questions; retry shortly", {
          details: { running: this.running, queued: this.waiting.length },
        });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter; otherwise free it.
      if (next) next();
      else this.running--;
    }
  }
}

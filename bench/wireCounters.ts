/**
 * The bench's round-trip counters (tests/helpers/wireCounter.ts) in a child process of their own:
 * the bench process serves the PGlite store, and a proxy in it would hold every worker's message
 * while a query runs there. Forked by `WireCounters.start`; asked over IPC.
 */
import { type ChildProcess, fork } from "node:child_process";
import { WireCounter } from "../tests/helpers/wireCounter.js";

type Request =
  | { id: number; op: "start"; target: string; protocol: "postgres" | "redis"; delayMs: number }
  | { id: number; op: "reset" | "count" | "stop"; url: string };

export class WireCounters {
  private next = 0;
  private readonly waiting = new Map<number, (reply: { url?: string; count?: number }) => void>();

  private constructor(private readonly child?: ChildProcess) {
    child?.on("message", (reply: { id: number; url?: string; count?: number }) => {
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
  }

  /** `enabled` false: no proxies (the clients reach the servers directly) and no counts (NaN). */
  static start(enabled = true): WireCounters {
    if (!enabled) return new WireCounters();
    // The same loader flags as this process (TypeScript), and the IPC channel.
    return new WireCounters(
      fork(import.meta.filename, ["--serve"], { stdio: ["ignore", "inherit", "inherit", "ipc"] }),
    );
  }

  /** A counting proxy in front of `target`; resolves to the URL to give the clients instead. */
  async proxy(target: string, protocol: "postgres" | "redis", delayMs = 0): Promise<string> {
    if (!this.child) return target;
    return (await this.ask({ op: "start", target, protocol, delayMs })).url as string;
  }

  async reset(url: string): Promise<void> {
    await this.ask({ op: "reset", url });
  }

  async count(url: string): Promise<number> {
    return this.child ? ((await this.ask({ op: "count", url })).count as number) : Number.NaN;
  }

  async unproxy(url: string): Promise<void> {
    await this.ask({ op: "stop", url });
  }

  stop(): void {
    this.child?.kill();
  }

  private ask(request: Record<string, unknown>): Promise<{ url?: string; count?: number }> {
    const child = this.child;
    if (!child) return Promise.resolve({});
    const id = ++this.next;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      child.send({ ...request, id });
    });
  }
}

if (process.argv.includes("--serve")) {
  const counters = new Map<string, WireCounter>();
  process.on("message", async (request: Request) => {
    if (request.op === "start") {
      const counter = await WireCounter.start(request.target, request.protocol, request.delayMs);
      counters.set(counter.url, counter);
      process.send?.({ id: request.id, url: counter.url });
      return;
    }
    const counter = counters.get(request.url);
    if (request.op === "reset") counter?.reset();
    if (request.op === "stop") {
      counters.delete(request.url);
      await counter?.stop();
    }
    process.send?.({ id: request.id, count: counter?.count ?? 0 });
  });
  process.on("disconnect", () => process.exit(0));
}

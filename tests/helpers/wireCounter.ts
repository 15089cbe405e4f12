import { createConnection, createServer, type Server, type Socket } from "node:net";

/**
 * A loopback proxy in front of a server that counts what crosses it, so that the count does not
 * depend on the machine's load. Postgres: round trips (every exchange between `pg` and the server
 * ends with one ReadyForQuery 'Z' from the server, whatever the query). Redis: the commands the
 * clients send (those a Lua script runs inside the server are not counted; pipelined ones are).
 * `delayMs` holds each of the server's replies that long, as a network to a real server would (0: none).
 */
export class WireCounter {
  /** Postgres round trips (connection start-ups not counted) or Redis commands since the last `reset`. */
  count = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(target: string, protocol: "postgres" | "redis", delayMs = 0): Promise<WireCounter> {
    const to = new URL(target);
    let self: WireCounter | undefined;
    const server = createServer((client) => {
      const upstream = createConnection({ host: to.hostname, port: Number(to.port) });
      const counted = () => {
        if (self) self.count++;
      };
      const commands = protocol === "redis" ? new CommandCounter(counted) : undefined;
      const replies = protocol === "postgres" ? new ReadyCounter(counted) : undefined;
      client.on("data", (data: Buffer) => {
        commands?.feed(data);
        upstream.write(data);
      });
      upstream.on("data", (data: Buffer) => {
        replies?.feed(data);
        if (delayMs > 0) setTimeout(() => client.write(data), delayMs);
        else client.write(data);
      });
      const close = (socket: Socket) => () => socket.destroy();
      client.on("close", close(upstream));
      upstream.on("close", close(client));
      client.on("error", () => {});
      upstream.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const url = new URL(target);
    url.host = `127.0.0.1:${port}`;
    self = new WireCounter(server, url.toString());
    return self;
  }

  reset(): void {
    this.count = 0;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Splits the server's byte stream into messages (a type byte, then a 4-byte length that counts
 * itself) and reports each ReadyForQuery but the first of a connection (its start-up's).
 */
class ReadyCounter {
  private pending: Buffer = Buffer.alloc(0);
  private seen = 0;

  constructor(private readonly onReady: () => void) {}

  feed(data: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    let at = 0;
    while (this.pending.length - at >= 5) {
      const length = this.pending.readUInt32BE(at + 1);
      if (this.pending.length - at < 1 + length) break;
      if (this.pending[at] === 0x5a && this.seen++ > 0) this.onReady();
      at += 1 + length;
    }
    this.pending = this.pending.subarray(at);
  }
}

/** Splits a Redis client's byte stream into commands (RESP arrays of bulk strings) and reports each. */
class CommandCounter {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onCommand: () => void) {}

  feed(data: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    let at = 0;
    for (;;) {
      const end = this.command(at);
      if (end === undefined) break;
      this.onCommand();
      at = end;
    }
    this.pending = this.pending.subarray(at);
  }

  /** Where the command starting at `at` ends, or undefined when it has not all arrived. */
  private command(at: number): number | undefined {
    const header = this.line(at);
    if (!header) return undefined;
    // An inline command (a line of text) is one command too.
    if (this.pending[at] !== 0x2a) return header.next;
    let next = header.next;
    for (let n = Number(header.text.slice(1)); n > 0; n--) {
      const bulk = this.line(next);
      if (!bulk) return undefined;
      next = bulk.next + Number(bulk.text.slice(1)) + 2;
      if (next > this.pending.length) return undefined;
    }
    return next;
  }

  private line(at: number): { text: string; next: number } | undefined {
    const end = this.pending.indexOf("\r\n", at);
    return end < 0 ? undefined : { text: this.pending.toString("latin1", at, end), next: end + 2 };
  }
}

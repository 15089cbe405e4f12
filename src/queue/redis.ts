import type { Redis } from "ioredis";
import { GeneraError } from "../errors.js";
import { redactUrl } from "../util/redactUrl.js";

/** How long opening waits for Redis to answer before saying it cannot be reached. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A Redis connection for BullMQ (which wants `maxRetriesPerRequest: null`: its blocking calls
 * wait for as long as it takes), checked with a PING so a wrong URL fails now, by name.
 */
export async function connectRedis(url: string): Promise<Redis> {
  if (!/^rediss?:\/\//.test(url)) {
    throw new GeneraError("CONFIG_INVALID", `Queue URL "${redactUrl(url)}" must be a redis:// or rediss:// URL`);
  }
  const { Redis } = await import("ioredis");
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  // Errors reach the caller through the commands that fail; unhandled "error" events would crash.
  client.on("error", () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
    return client;
  } catch (error) {
    client.disconnect();
    throw new GeneraError("PROVIDER_UNAVAILABLE", `Redis at ${redactUrl(url)}: ${(error as Error).message}`, {
      cause: error,
      details: { url: redactUrl(url) },
    });
  } finally {
    clearTimeout(timer);
  }
}

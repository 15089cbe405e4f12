import type { Pool, PoolClient, QueryResult } from "pg";
import { GeneraError } from "../errors.js";
import { redactUrl } from "./redactUrl.js";

export { redactUrl };

/**
 * A `pg` pool on `url`. The client is loaded here, not at the top: the embedded default never
 * needs it. An idle client losing its server must not crash the process; the next query reports it.
 */
export async function openPool(url: string, max: number): Promise<Pool> {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on("error", () => {});
  return pool;
}

/**
 * Runs `fn` in one transaction on one pooled client: committed if it resolves, rolled back if it
 * throws. `first`, a statement without parameters, is sent with the BEGIN (one round trip for both,
 * as each query waits for the server's answer) and its result handed to `fn`.
 */
export async function transaction<T>(
  pool: Pool,
  fn: (client: PoolClient, first?: QueryResult) => Promise<T>,
  first?: string,
): Promise<T> {
  const client = await pool.connect();
  try {
    // Several statements in one simple query: each still takes its own snapshot (read committed).
    const begun = (await client.query(first ? `BEGIN; ${first}` : "BEGIN")) as QueryResult | QueryResult[];
    const result = await fn(client, Array.isArray(begun) ? begun[1] : undefined);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** A failure to reach the server, as the user sees it: PROVIDER_UNAVAILABLE naming the URL (no password). */
export function unavailable(what: string, url: string, error: unknown): GeneraError {
  if (error instanceof GeneraError) return error;
  const where = redactUrl(url);
  return new GeneraError("PROVIDER_UNAVAILABLE", `${what} at ${where}: ${(error as Error).message}`, {
    cause: error,
    details: { url: where },
  });
}

/** A table prefix must be a plain identifier: it is spliced into SQL. */
export function checkTablePrefix(prefix: string): string {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) {
    throw new GeneraError(
      "CONFIG_INVALID",
      `Postgres table prefix "${prefix}" must be lower-case letters, digits or _`,
    );
  }
  return prefix;
}

/** Postgres text (and jsonb) cannot hold NUL characters. */
export function withoutNul(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "") : text;
}

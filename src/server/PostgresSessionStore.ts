import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import { GeneraError } from "../errors.js";
import { checkTablePrefix, openPool, transaction, unavailable, withoutNul } from "../util/postgres.js";
import {
  type ChatMessageRecord,
  type ChatSessions,
  type SessionSummary,
  type StoreHealth,
  sessionTitle,
} from "./ChatSessions.js";

export interface PostgresSessionStoreOptions {
  /** `postgres://…`: usually the knowledge base's database (GENERA_DATABASE_URL). */
  url: string;
  /** Prefix of the tables (default "genera": `genera_sessions`, `genera_messages`). */
  tablePrefix?: string;
  /** Pool size (default 5). */
  maxConnections?: number;
}

interface SummaryRow {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  messages: string;
}

/**
 * Chat sessions in Postgres, so that every server replica on the same database answers the
 * same sessions: nothing is cached in the process, and each message is committed (with the
 * session's new `updated_at`, in one transaction) before `append` resolves.
 */
export class PostgresSessionStore implements ChatSessions {
  private readonly t: { sessions: string; messages: string };

  private constructor(
    private readonly pool: Pool,
    prefix: string,
  ) {
    this.t = { sessions: `${prefix}_sessions`, messages: `${prefix}_messages` };
  }

  static async open(options: PostgresSessionStoreOptions): Promise<PostgresSessionStore> {
    const prefix = checkTablePrefix(options.tablePrefix ?? "genera");
    const pool = await openPool(options.url, options.maxConnections ?? 5);
    const store = new PostgresSessionStore(pool, prefix);
    try {
      await transaction(pool, async (client) => {
        // Several replicas may start at once: the first creates the tables, the others wait for it.
        await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [store.t.sessions]);
        await client.query(`
          CREATE TABLE IF NOT EXISTS ${store.t.sessions} (
            id uuid PRIMARY KEY,
            title text NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
          );
          CREATE TABLE IF NOT EXISTS ${store.t.messages} (
            seq bigserial PRIMARY KEY,
            session_id uuid NOT NULL REFERENCES ${store.t.sessions}(id) ON DELETE CASCADE,
            role text NOT NULL CHECK (role IN ('user', 'assistant')),
            content text NOT NULL,
            sources jsonb,
            created_at timestamptz NOT NULL
          );
          CREATE INDEX IF NOT EXISTS ${store.t.messages}_by_session ON ${store.t.messages} (session_id, seq);
        `);
      });
      return store;
    } catch (error) {
      await pool.end().catch(() => {});
      throw unavailable("The Postgres session store", options.url, error);
    }
  }

  async ensure(id: string | undefined, firstMessage: string): Promise<string> {
    if (id) {
      if (await this.exists(id)) return id;
      throw notFound(id);
    }
    const newId = randomUUID();
    await this.pool.query(
      `INSERT INTO ${this.t.sessions} (id, title, created_at, updated_at) VALUES ($1, $2, now(), now())`,
      [newId, withoutNul(sessionTitle(firstMessage))],
    );
    return newId;
  }

  async exists(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { rows } = await this.pool.query(`SELECT 1 FROM ${this.t.sessions} WHERE id = $1`, [id]);
    return rows.length > 0;
  }

  async append(sessionId: string, message: Omit<ChatMessageRecord, "createdAt">): Promise<void> {
    if (!isUuid(sessionId)) throw notFound(sessionId);
    await transaction(this.pool, async (client) => {
      // clock_timestamp, not now(): two messages of one turn keep their order in time too.
      const updated = await client.query(`UPDATE ${this.t.sessions} SET updated_at = clock_timestamp() WHERE id = $1`, [
        sessionId,
      ]);
      if (updated.rowCount === 0) throw notFound(sessionId);
      await client.query(
        `INSERT INTO ${this.t.messages} (session_id, role, content, sources, created_at) VALUES ($1, $2, $3, $4, clock_timestamp())`,
        [
          sessionId,
          message.role,
          withoutNul(message.content),
          message.sources ? JSON.stringify(message.sources).replaceAll("\\u0000", "") : null,
        ],
      );
    });
  }

  async messages(sessionId: string): Promise<ChatMessageRecord[]> {
    if (!isUuid(sessionId)) return [];
    const { rows } = await this.pool.query<{
      role: "user" | "assistant";
      content: string;
      sources: unknown[] | null;
      created_at: Date;
    }>(`SELECT role, content, sources, created_at FROM ${this.t.messages} WHERE session_id = $1 ORDER BY seq`, [
      sessionId,
    ]);
    return rows.map((r) => ({
      role: r.role,
      content: r.content,
      ...(r.sources ? { sources: r.sources } : {}),
      createdAt: r.created_at.toISOString(),
    }));
  }

  async list(): Promise<SessionSummary[]> {
    return this.summaries("", []);
  }

  async get(id: string): Promise<SessionSummary & { history: ChatMessageRecord[] }> {
    const [summary] = isUuid(id) ? await this.summaries("WHERE s.id = $1", [id]) : [];
    if (!summary) throw notFound(id);
    return { ...summary, history: await this.messages(id) };
  }

  async delete(id: string): Promise<void> {
    const result = isUuid(id) ? await this.pool.query(`DELETE FROM ${this.t.sessions} WHERE id = $1`, [id]) : undefined;
    if (!result?.rowCount) throw notFound(id);
  }

  /** Whether the database answers now (a replica that lost it shows "degraded" in /healthz). */
  async health(): Promise<StoreHealth> {
    try {
      await this.pool.query("SELECT 1");
      return { ok: true };
    } catch (error) {
      return { ok: false, detail: `unreachable: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async summaries(where: string, params: unknown[]): Promise<SessionSummary[]> {
    const { rows } = await this.pool.query<SummaryRow>(
      `SELECT s.id, s.title, s.created_at, s.updated_at,
         (SELECT count(*) FROM ${this.t.messages} m WHERE m.session_id = s.id) AS messages
       FROM ${this.t.sessions} s ${where} ORDER BY s.updated_at DESC`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      createdAt: new Date(r.created_at).toISOString(),
      updatedAt: new Date(r.updated_at).toISOString(),
      messages: Number(r.messages),
    }));
  }
}

function notFound(id: string): GeneraError {
  return new GeneraError("NOT_FOUND", `Session "${id}" does not exist`, { details: { sessionId: id } });
}

/** Ids are uuids (the column's type): anything else names no session, rather than failing the cast. */
function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

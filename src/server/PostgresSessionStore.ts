import { randomUUID } from "node:crypto";
import type { Pool } from "pg";
import { GeneraError } from "../errors.js";
import { checkTablePrefix, openPool, redactUrl, transaction, unavailable, withoutNul } from "../util/postgres.js";
import {
  type ChatMessageRecord,
  type ChatSessions,
  type SessionSummary,
  type StoreHealth,
  sessionTitle,
} from "./ChatSessions.js";
import { SessionSigner, type SignedMessage, type SignedSession } from "./SessionSigner.js";

export interface PostgresSessionStoreOptions {
  /** `postgres://…`: usually the knowledge base's database (GENERA_DATABASE_URL). */
  url: string;
  /** Prefix of the tables (default "genera": `genera_sessions`, `genera_messages`). */
  tablePrefix?: string;
  /** Pool size (default 5). */
  maxConnections?: number;
  /**
   * The key that signs every message (see SessionSigner), or `keyFile`, the file holding it
   * (created with a new key when these tables were never signed). It lives outside the
   * database, so whoever can write the tables cannot sign what they write; every replica needs
   * the same one (the server: `server.sessionKeyFile`, GENERA_SESSION_KEY_FILE).
   */
  key?: Uint8Array;
  keyFile?: string;
}

interface SessionRow {
  id: string;
  title: string;
  created_at: Date;
  updated_at: Date;
  head: string;
  mac: string | null;
}

interface MessageRow {
  seq: string;
  role: "user" | "assistant";
  content: string;
  /** jsonb as Postgres prints it (the signed form: jsonb does not keep the text it was given). */
  sources: string | null;
  created_at: Date;
  mac: string | null;
}

/** A client or the pool: both answer query(). */
type Queryable = Pick<Pool, "query">;

/**
 * Chat sessions in Postgres, so that every server replica on the same database answers the
 * same sessions: nothing is cached in the process, and each message is committed (with the
 * session's new `updated_at`, in one transaction) before `append` resolves.
 *
 * Signed as the SQLite store is (SessionSigner: a chain of HMACs over each session's messages):
 * a session whose rows were changed in the database is refused with INDEX_CORRUPT, listed
 * without its title, and named by `health()`; the others keep working.
 */
export class PostgresSessionStore implements ChatSessions {
  private readonly t: { sessions: string; messages: string; meta: string };
  private signer!: SessionSigner;
  /** Sessions found altered, for health(). */
  private readonly tampered = new Set<string>();
  /** How messages name these tables: their names and the database, without its password. */
  private readonly where: string;

  private constructor(
    private readonly pool: Pool,
    prefix: string,
    url: string,
  ) {
    this.t = { sessions: `${prefix}_sessions`, messages: `${prefix}_messages`, meta: `${prefix}_session_meta` };
    this.where = `${this.t.sessions} at ${redactUrl(url)}`;
  }

  static async open(options: PostgresSessionStoreOptions): Promise<PostgresSessionStore> {
    const prefix = checkTablePrefix(options.tablePrefix ?? "genera");
    if (!options.key && !options.keyFile) {
      throw new GeneraError(
        "CONFIG_INVALID",
        "PostgresSessionStore needs `key` or `keyFile`: the key that signs the sessions, kept outside the database",
      );
    }
    const pool = await openPool(options.url, options.maxConnections ?? 5);
    const store = new PostgresSessionStore(pool, prefix, options.url);
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
          ALTER TABLE ${store.t.sessions} ADD COLUMN IF NOT EXISTS head text NOT NULL DEFAULT '';
          ALTER TABLE ${store.t.sessions} ADD COLUMN IF NOT EXISTS mac text;
          ALTER TABLE ${store.t.messages} ADD COLUMN IF NOT EXISTS mac text;
          CREATE TABLE IF NOT EXISTS ${store.t.meta} (key text PRIMARY KEY, value text NOT NULL);
        `);
        const { rows } = await client.query<{ value: string }>(
          `SELECT value FROM ${store.t.meta} WHERE key = 'keyFingerprint'`,
        );
        const recorded = rows[0]?.value;
        store.signer = SessionSigner.forStore({
          key: options.key,
          keyFile: options.keyFile,
          recorded,
          store: store.where,
          remedy:
            "Give every replica the key that signed them (server.sessionKeyFile, GENERA_SESSION_KEY_FILE), " +
            `or drop the ${prefix}_session* and ${prefix}_messages tables to start with no saved sessions.`,
        });
        // Sessions written before signatures (or by a store that never signed) are signed as they stand.
        if (recorded === undefined) await store.signAll(client);
      });
      return store;
    } catch (error) {
      await pool.end().catch(() => {});
      throw unavailable("The Postgres session store", options.url, error);
    }
  }

  private async signAll(client: Queryable): Promise<void> {
    const { rows: sessions } = await client.query<SessionRow>(`SELECT * FROM ${this.t.sessions}`);
    for (const session of sessions) {
      let head = "";
      for (const m of await this.rows(client, session.id)) {
        head = this.signer.message(signedMessage(session.id, m), head);
        await client.query(`UPDATE ${this.t.messages} SET mac = $1 WHERE seq = $2`, [head, m.seq]);
      }
      const mac = this.signer.session(signedSession({ ...session, head }));
      await client.query(`UPDATE ${this.t.sessions} SET head = $1, mac = $2 WHERE id = $3`, [head, mac, session.id]);
    }
    // The advisory lock makes this the only signer; ON CONFLICT keeps a server without one (one
    // session shared by every connection, like PGlite's) from failing the other replica's start.
    await client.query(
      `INSERT INTO ${this.t.meta} (key, value) VALUES ('keyFingerprint', $1) ON CONFLICT (key) DO NOTHING`,
      [this.signer.fingerprint()],
    );
  }

  async ensure(id: string | undefined, firstMessage: string): Promise<string> {
    if (id) {
      if (await this.exists(id)) return id;
      throw notFound(id);
    }
    const newId = randomUUID();
    const now = new Date();
    const title = withoutNul(sessionTitle(firstMessage));
    const mac = this.signer.session(signedSession({ id: newId, title, created_at: now, updated_at: now, head: "" }));
    await this.pool.query(
      `INSERT INTO ${this.t.sessions} (id, title, created_at, updated_at, head, mac) VALUES ($1, $2, $3, $3, '', $4)`,
      [newId, title, now, mac],
    );
    return newId;
  }

  async exists(id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { rows } = await this.pool.query(`SELECT 1 FROM ${this.t.sessions} WHERE id = $1`, [id]);
    return rows.length > 0;
  }

  /** Adds a message after the last one, signed onto the session's chain (an altered session is refused). */
  async append(sessionId: string, message: Omit<ChatMessageRecord, "createdAt">): Promise<void> {
    if (!isUuid(sessionId)) throw notFound(sessionId);
    await transaction(this.pool, async (client) => {
      // The row lock orders appends to one session from every replica: each signs onto the last.
      const { rows } = await client.query<SessionRow>(`SELECT * FROM ${this.t.sessions} WHERE id = $1 FOR UPDATE`, [
        sessionId,
      ]);
      const session = rows[0];
      if (!session) throw notFound(sessionId);
      // Signing onto an altered chain would bless the alteration.
      this.verify(sessionId, session, await this.rows(client, sessionId));
      // clock_timestamp, not now(): two messages of one turn keep their order in time too.
      const inserted = await client.query<MessageRow>(
        `INSERT INTO ${this.t.messages} (session_id, role, content, sources, created_at)
         VALUES ($1, $2, $3, $4::jsonb, clock_timestamp())
         RETURNING seq, role, content, sources::text AS sources, created_at`,
        [
          sessionId,
          message.role,
          withoutNul(message.content),
          message.sources ? JSON.stringify(message.sources).replaceAll("\\u0000", "") : null,
        ],
      );
      const row = inserted.rows[0] as MessageRow;
      const head = this.signer.message(signedMessage(sessionId, row), session.head);
      await client.query(`UPDATE ${this.t.messages} SET mac = $1 WHERE seq = $2`, [head, row.seq]);
      const updated = { ...session, updated_at: row.created_at, head };
      await client.query(`UPDATE ${this.t.sessions} SET updated_at = $1, head = $2, mac = $3 WHERE id = $4`, [
        row.created_at,
        head,
        this.signer.session(signedSession(updated)),
        sessionId,
      ]);
    });
  }

  /** The session's messages in order, after checking every signature; INDEX_CORRUPT names what fails. */
  async messages(sessionId: string): Promise<ChatMessageRecord[]> {
    if (!isUuid(sessionId)) return [];
    const [{ rows: sessions }, rows] = await Promise.all([
      this.pool.query<SessionRow>(`SELECT * FROM ${this.t.sessions} WHERE id = $1`, [sessionId]),
      this.rows(this.pool, sessionId),
    ]);
    this.verify(sessionId, sessions[0], rows);
    return rows.map((r) => ({
      role: r.role,
      content: r.content,
      ...(r.sources ? { sources: JSON.parse(r.sources) as unknown[] } : {}),
      createdAt: r.created_at.toISOString(),
    }));
  }

  private async rows(db: Queryable, sessionId: string): Promise<MessageRow[]> {
    const { rows } = await db.query<MessageRow>(
      `SELECT seq, role, content, sources::text AS sources, created_at, mac
       FROM ${this.t.messages} WHERE session_id = $1 ORDER BY seq`,
      [sessionId],
    );
    return rows;
  }

  /** Refuses (INDEX_CORRUPT) a session whose record or messages fail their signatures. */
  private verify(sessionId: string, session: SessionRow | undefined, rows: MessageRow[]): void {
    const problem = this.signer.check(
      sessionId,
      session && signedSession(session),
      rows.map((row) => ({ ...signedMessage(sessionId, row), mac: row.mac })),
    );
    if (!problem) return;
    this.tampered.add(sessionId);
    throw new GeneraError(
      "INDEX_CORRUPT",
      `Session "${sessionId}" in ${this.where} fails its signature check: ${problem} outside genera. ` +
        "It is not served; delete the session or restore the database from a backup.",
      { details: { sessionId } },
    );
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
  /** Whether the database answers now (a replica that lost it shows "degraded" in /healthz), and altered sessions. */
  async health(): Promise<StoreHealth> {
    try {
      await this.pool.query("SELECT 1");
    } catch (error) {
      return { ok: false, detail: `unreachable: ${(error as Error).message}` };
    }
    if (this.tampered.size) {
      return { ok: false, detail: `altered: ${[...this.tampered].join(", ")} failed the signature check` };
    }
    return { ok: true };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Sessions; one whose record fails its signature is listed without its title and marked `damaged`. */
  private async summaries(where: string, params: unknown[]): Promise<SessionSummary[]> {
    const { rows } = await this.pool.query<SessionRow & { messages: string }>(
      `SELECT s.id, s.title, s.created_at, s.updated_at, s.head, s.mac,
         (SELECT count(*) FROM ${this.t.messages} m WHERE m.session_id = s.id) AS messages
       FROM ${this.t.sessions} s ${where} ORDER BY s.updated_at DESC`,
      params,
    );
    return rows.map((r) => {
      const { summary, intact } = this.signer.listed(signedSession(r), r.mac, {
        id: r.id,
        title: r.title,
        createdAt: r.created_at.toISOString(),
        updatedAt: r.updated_at.toISOString(),
        messages: Number(r.messages),
      });
      if (!intact) this.tampered.add(r.id);
      return summary;
    });
  }
}

function notFound(id: string): GeneraError {
  return new GeneraError("NOT_FOUND", `Session "${id}" does not exist`, { details: { sessionId: id } });
}

/** Ids are uuids (the column's type): anything else names no session, rather than failing the cast. */
function isUuid(id: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
}

function signedMessage(sessionId: string, m: MessageRow): SignedMessage {
  return {
    sessionId,
    id: Number(m.seq),
    role: m.role,
    content: m.content,
    sources: m.sources,
    createdAt: m.created_at.toISOString(),
  };
}

function signedSession(s: Omit<SessionRow, "mac"> & { mac?: string | null }): SignedSession & { mac: string | null } {
  return {
    id: s.id,
    title: s.title,
    createdAt: s.created_at.toISOString(),
    updatedAt: s.updated_at.toISOString(),
    head: s.head,
    mac: s.mac ?? null,
  };
}

import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { GeneraError } from "../errors.js";
import { damageDetail, isDamagedDatabaseError, quickCheck } from "../util/sqliteHealth.js";
import {
  type ChatMessageRecord,
  type ChatSessions,
  type SessionSummary,
  type StoreHealth,
  sessionTitle,
} from "./ChatSessions.js";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    sources TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
`;

/**
 * Chat sessions in SQLite (WAL mode): every message is committed before the
 * answer is returned, so history survives restarts and crashes.
 *
 * A damaged file is never "repaired" by deleting what it holds: opening one checks it
 * (quick_check) and fails with INDEX_CORRUPT naming the file and what to do; damage
 * found later makes the failing call INDEX_CORRUPT and shows in `health()`.
 */
export class SessionStore implements ChatSessions {
  private readonly db: Database.Database;
  private damage?: string;

  constructor(readonly path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      const problem = path === ":memory:" ? undefined : quickCheck(db);
      if (problem) throw Object.assign(new Error(problem), { code: "SQLITE_CORRUPT" });
      db.pragma("journal_mode = WAL");
      db.pragma("foreign_keys = ON");
      db.exec(SCHEMA);
    } catch (error) {
      db?.close();
      if (!isDamagedDatabaseError(error)) throw error;
      throw new GeneraError(
        "INDEX_CORRUPT",
        `The chat session store ${path} is damaged (${damageDetail(error)}). Nothing was changed. ` +
          "Move the file away to start with no saved sessions, or restore a backup " +
          '(sqlite3\'s ".recover" command can save what is still readable).',
        { cause: error, details: { path } },
      );
    }
    this.db = db;
  }

  async health(): Promise<StoreHealth> {
    return this.damage ? { ok: false, detail: this.damage } : { ok: true };
  }

  /** Runs one use of the database; damage found there becomes INDEX_CORRUPT and is remembered for health(). */
  private use<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (!isDamagedDatabaseError(error) && !(error instanceof SyntaxError)) throw error;
      this.damage = `damaged: ${damageDetail(error)}`;
      throw new GeneraError(
        "INDEX_CORRUPT",
        `The chat session store ${this.path} is damaged (${damageDetail(error)}); restart the server to check it`,
        { cause: error, details: { path: this.path } },
      );
    }
  }

  /** Returns the id of an existing session, or creates one titled after the first message. */
  async ensure(id: string | undefined, firstMessage: string): Promise<string> {
    if (id) {
      if (this.has(id)) return id;
      throw new GeneraError("NOT_FOUND", `Session "${id}" does not exist`, { details: { sessionId: id } });
    }
    const now = new Date().toISOString();
    const newId = randomUUID();
    const title = sessionTitle(firstMessage);
    this.use(() =>
      this.db
        .prepare("INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)")
        .run(newId, title, now, now),
    );
    return newId;
  }

  async exists(id: string): Promise<boolean> {
    return this.has(id);
  }

  private has(id: string): boolean {
    return this.use(() => this.db.prepare("SELECT 1 FROM sessions WHERE id = ?").get(id) !== undefined);
  }

  async append(sessionId: string, message: Omit<ChatMessageRecord, "createdAt">): Promise<void> {
    const now = new Date().toISOString();
    const insert = this.db.transaction(() => {
      this.db
        .prepare("INSERT INTO messages (session_id, role, content, sources, created_at) VALUES (?, ?, ?, ?, ?)")
        .run(sessionId, message.role, message.content, message.sources ? JSON.stringify(message.sources) : null, now);
      this.db.prepare("UPDATE sessions SET updated_at = ? WHERE id = ?").run(now, sessionId);
    });
    this.use(() => insert());
  }

  async messages(sessionId: string): Promise<ChatMessageRecord[]> {
    return this.use(() => this.readMessages(sessionId));
  }

  private readMessages(sessionId: string): ChatMessageRecord[] {
    const rows = this.db
      .prepare("SELECT role, content, sources, created_at FROM messages WHERE session_id = ? ORDER BY id")
      .all(sessionId) as Array<{
      role: "user" | "assistant";
      content: string;
      sources: string | null;
      created_at: string;
    }>;
    return rows.map((r) => ({
      role: r.role,
      content: r.content,
      ...(r.sources ? { sources: JSON.parse(r.sources) as unknown[] } : {}),
      createdAt: r.created_at,
    }));
  }

  async list(): Promise<SessionSummary[]> {
    return this.use(() => this.readList());
  }

  private readList(): SessionSummary[] {
    const rows = this.db
      .prepare(
        `SELECT s.id, s.title, s.created_at, s.updated_at, COUNT(m.id) AS messages
         FROM sessions s LEFT JOIN messages m ON m.session_id = s.id
         GROUP BY s.id ORDER BY s.updated_at DESC`,
      )
      .all() as Array<{ id: string; title: string; created_at: string; updated_at: string; messages: number }>;
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      messages: r.messages,
    }));
  }

  async get(id: string): Promise<SessionSummary & { history: ChatMessageRecord[] }> {
    const summary = this.use(() => this.readList()).find((s) => s.id === id);
    if (!summary) throw new GeneraError("NOT_FOUND", `Session "${id}" does not exist`, { details: { sessionId: id } });
    return { ...summary, history: this.use(() => this.readMessages(id)) };
  }

  async delete(id: string): Promise<void> {
    const result = this.use(() => this.db.prepare("DELETE FROM sessions WHERE id = ?").run(id));
    if (result.changes === 0)
      throw new GeneraError("NOT_FOUND", `Session "${id}" does not exist`, { details: { sessionId: id } });
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

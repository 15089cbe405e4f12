import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { GeneraError } from "../errors.js";

export interface ChatMessageRecord {
  role: "user" | "assistant";
  content: string;
  /** The cited chunks of an assistant answer. */
  sources?: unknown[];
  createdAt: string;
}

export interface SessionSummary {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  messages: number;
}

/**
 * Chat sessions in SQLite (WAL mode): every message is committed before the
 * answer is returned, so history survives restarts and crashes.
 */
export class SessionStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("foreign_keys = ON");
    this.db.exec(`
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
    `);
  }

  /** Returns the id of an existing session, or creates one titled after the first message. */
  ensure(id: string | undefined, firstMessage: string): string {
    if (id) {
      if (this.exists(id)) return id;
      throw new GeneraError("NOT_FOUND", `Session "${id}" does not exist`, { details: { sessionId: id } });
    }
    const now = new Date().toISOString();
    const newId = randomUUID();
    const title = firstMessage.replace(/\s+/g, " ").trim().slice(0, 80) || "New chat";
    this.db
      .prepare("INSERT INTO sessions (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)")
      .run(newId, title, now, now);
    return newId;
  }

  exists(id: string): boolean {
    return this.db.prepare("SELECT 1 FROM sessions WHERE id = ?").get(id) !== undefined;
  }

  append(sessionId: string, message: Omit<ChatMessageRecord, "createdAt">): void {
    const now = new Date().toISOString();
    const insert = this.db.transaction(() => {
      this.db
        .prepare("INSERT INTO messages (session_id, role, content, sources, created_at) VALUES (?, ?, ?, ?, ?)")
        .run(sessionId, message.role, message.content, message.sources ? JSON.stringify(message.sources) : null, now);
      this.db.prepare("UPDATE sessions SET updated_at = ? WHERE id = ?").run(now, sessionId);
    });
    insert();
  }

  messages(sessionId: string): ChatMessageRecord[] {
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

  list(): SessionSummary[] {
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

  get(id: string): SessionSummary & { history: ChatMessageRecord[] } {
    const summary = this.list().find((s) => s.id === id);
    if (!summary) throw new GeneraError("NOT_FOUND", `Session "${id}" does not exist`, { details: { sessionId: id } });
    return { ...summary, history: this.messages(id) };
  }

  delete(id: string): void {
    const result = this.db.prepare("DELETE FROM sessions WHERE id = ?").run(id);
    if (result.changes === 0)
      throw new GeneraError("NOT_FOUND", `Session "${id}" does not exist`, { details: { sessionId: id } });
  }

  close(): void {
    this.db.close();
  }
}

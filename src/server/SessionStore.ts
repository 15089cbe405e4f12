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
import { SessionSigner, type SignedMessage, type SignedSession } from "./SessionSigner.js";

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    head TEXT NOT NULL DEFAULT '',
    mac TEXT
  );
  CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    sources TEXT,
    created_at TEXT NOT NULL,
    mac TEXT
  );
  CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

/** Signature columns a store written before them lacks (added at open, then the old rows are signed). */
const SIGNATURE_COLUMNS = [
  ["sessions", "head", "TEXT NOT NULL DEFAULT ''"],
  ["sessions", "mac", "TEXT"],
  ["messages", "mac", "TEXT"],
] as const;

export interface SessionStoreOptions {
  /**
   * The key that signs every message (see SessionSigner). Default: the one in `<path>.key`,
   * created with the store; a store whose key is lost or replaced refuses to open.
   */
  key?: Uint8Array;
  /** The file holding the key when `key` is not given (default `<path>.key`). */
  keyFile?: string;
}

interface SessionRow {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  head: string;
  mac: string | null;
}

interface MessageRow {
  id: number;
  role: "user" | "assistant";
  content: string;
  sources: string | null;
  created_at: string;
  mac: string | null;
}

/**
 * Chat sessions in SQLite (WAL mode): every message is committed before the
 * answer is returned, so history survives restarts and crashes.
 *
 * A damaged file is never "repaired" by deleting what it holds: opening one checks it
 * (quick_check) and fails with INDEX_CORRUPT naming the file and what to do; damage
 * found later makes the failing call INDEX_CORRUPT and shows in `health()`.
 *
 * Text changed inside a sound page is caught by signatures (SessionSigner): a session
 * whose messages or record fail the check is refused with INDEX_CORRUPT, never served, and
 * `health()` names it; the other sessions keep working.
 */
export class SessionStore implements ChatSessions {
  private readonly db: Database.Database;
  private readonly signer: SessionSigner;
  private damage?: string;
  /** Sessions found altered, for health(). */
  private readonly tampered = new Set<string>();

  constructor(
    readonly path: string,
    options: SessionStoreOptions = {},
  ) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      const problem = path === ":memory:" ? undefined : quickCheck(db);
      if (problem) throw Object.assign(new Error(problem), { code: "SQLITE_CORRUPT" });
      db.pragma("journal_mode = WAL");
      db.pragma("foreign_keys = ON");
      db.exec(SCHEMA);
      addSignatureColumns(db);
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
    try {
      this.signer = this.openSigner(options.key, options.keyFile);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * The key, checked against the fingerprint the database recorded with its first signature.
   * A store signed before has its key file kept; one never signed (new, or written before
   * signatures) gets a key now and has its rows signed as they are.
   */
  private openSigner(key: Uint8Array | undefined, keyFile: string | undefined): SessionSigner {
    const recorded = (
      this.db.prepare("SELECT value FROM meta WHERE key = 'keyFingerprint'").get() as { value: string } | undefined
    )?.value;
    const signer = SessionSigner.forStore({
      key,
      keyFile: this.path === ":memory:" ? undefined : (keyFile ?? `${this.path}.key`),
      recorded,
      store: this.path,
      remedy: "Restore that key, or move both files away to start with no saved sessions.",
    });
    if (recorded === undefined) this.signAll(signer);
    return signer;
  }

  /** Signs every session as it stands and records the key's fingerprint, in one transaction. */
  private signAll(signer: SessionSigner): void {
    const sessions = this.db.prepare("SELECT * FROM sessions").all() as SessionRow[];
    const messages = this.db.prepare("SELECT * FROM messages WHERE session_id = ? ORDER BY id");
    const setMessage = this.db.prepare("UPDATE messages SET mac = ? WHERE id = ?");
    const setSession = this.db.prepare("UPDATE sessions SET head = ?, mac = ? WHERE id = ?");
    this.db.transaction(() => {
      for (const s of sessions) {
        let head = "";
        for (const m of messages.all(s.id) as MessageRow[]) {
          head = signer.message(signedMessage(s.id, m), head);
          setMessage.run(head, m.id);
        }
        setSession.run(head, signer.session(signedSession({ ...s, head })), s.id);
      }
      this.db.prepare("INSERT INTO meta (key, value) VALUES ('keyFingerprint', ?)").run(signer.fingerprint());
    })();
  }

  async health(): Promise<StoreHealth> {
    if (this.damage) return { ok: false, detail: this.damage };
    if (this.tampered.size) {
      return { ok: false, detail: `altered: ${[...this.tampered].join(", ")} failed the signature check` };
    }
    return { ok: true };
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
    const mac = this.signer.session({ id: newId, title, createdAt: now, updatedAt: now, head: "" });
    this.use(() =>
      this.db
        .prepare("INSERT INTO sessions (id, title, created_at, updated_at, head, mac) VALUES (?, ?, ?, ?, '', ?)")
        .run(newId, title, now, now, mac),
    );
    return newId;
  }

  async exists(id: string): Promise<boolean> {
    return this.has(id);
  }

  private has(id: string): boolean {
    return this.use(() => this.db.prepare("SELECT 1 FROM sessions WHERE id = ?").get(id) !== undefined);
  }

  /** Adds a message to the end of a session, signed after the one before it (an altered session is refused). */
  async append(sessionId: string, message: Omit<ChatMessageRecord, "createdAt">): Promise<void> {
    const now = new Date().toISOString();
    const sources = message.sources ? JSON.stringify(message.sources) : null;
    const insert = this.db.transaction(() => {
      // Signing onto an altered chain would bless the alteration.
      this.readMessages(sessionId);
      const session = this.db.prepare("SELECT * FROM sessions WHERE id = ?").get(sessionId) as SessionRow;
      const { lastInsertRowid } = this.db
        .prepare("INSERT INTO messages (session_id, role, content, sources, created_at) VALUES (?, ?, ?, ?, ?)")
        .run(sessionId, message.role, message.content, sources, now);
      const id = Number(lastInsertRowid);
      const head = this.signer.message(
        { sessionId, id, role: message.role, content: message.content, sources, createdAt: now },
        session.head,
      );
      this.db.prepare("UPDATE messages SET mac = ? WHERE id = ?").run(head, id);
      const mac = this.signer.session(signedSession({ ...session, updated_at: now, head }));
      this.db
        .prepare("UPDATE sessions SET updated_at = ?, head = ?, mac = ? WHERE id = ?")
        .run(now, head, mac, sessionId);
    });
    this.use(() => insert());
  }

  /** The session's messages in order, after checking every signature; INDEX_CORRUPT names what fails. */
  async messages(sessionId: string): Promise<ChatMessageRecord[]> {
    return this.use(() => this.readMessages(sessionId));
  }

  private readMessages(sessionId: string): ChatMessageRecord[] {
    const session = this.db.prepare("SELECT * FROM sessions WHERE id = ?").get(sessionId) as SessionRow | undefined;
    const rows = this.db
      .prepare("SELECT id, role, content, sources, created_at, mac FROM messages WHERE session_id = ? ORDER BY id")
      .all(sessionId) as MessageRow[];
    const problem = this.signer.check(
      sessionId,
      session && signedSession(session),
      rows.map((row) => ({ ...signedMessage(sessionId, row), mac: row.mac })),
    );
    if (problem) this.refuse(sessionId, problem);
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

  /** Every session; one whose record fails its signature is listed without its title and marked `damaged`. */
  private readList(): SessionSummary[] {
    const rows = this.db
      .prepare(
        `SELECT s.id, s.title, s.created_at, s.updated_at, s.head, s.mac, COUNT(m.id) AS messages
         FROM sessions s LEFT JOIN messages m ON m.session_id = s.id
         GROUP BY s.id ORDER BY s.updated_at DESC`,
      )
      .all() as Array<SessionRow & { messages: number }>;
    return rows.map((r) => {
      const { summary, intact } = this.signer.listed(signedSession(r), r.mac, {
        id: r.id,
        title: r.title,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
        messages: r.messages,
      });
      if (!intact) this.tampered.add(r.id);
      return summary;
    });
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

  /** A session that fails its check: remembered for health(), refused with what failed. */
  private refuse(sessionId: string, what: string): never {
    this.tampered.add(sessionId);
    throw new GeneraError(
      "INDEX_CORRUPT",
      `Session "${sessionId}" in ${this.path} fails its signature check: ${what} outside genera (or the file is damaged). ` +
        "It is not served; delete the session or restore the file from a backup.",
      { details: { path: this.path, sessionId } },
    );
  }
}

function signedMessage(sessionId: string, m: MessageRow): SignedMessage {
  return { sessionId, id: m.id, role: m.role, content: m.content, sources: m.sources, createdAt: m.created_at };
}

function signedSession(s: SessionRow): SignedSession & { mac: string | null } {
  return { id: s.id, title: s.title, createdAt: s.created_at, updatedAt: s.updated_at, head: s.head, mac: s.mac };
}

function addSignatureColumns(db: Database.Database): void {
  for (const [table, column, type] of SIGNATURE_COLUMNS) {
    const columns = db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}

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
  /** Set when the session's record fails its integrity check: why (its title is withheld, its history refused). */
  damaged?: string;
}

/** What /healthz says about the store. */
export interface StoreHealth {
  ok: boolean;
  detail?: string;
}

/**
 * Where chat sessions live: SQLite in the data folder (`SessionStore`, one server), or Postgres
 * (`PostgresSessionStore`, shared by every replica on the same database). Asynchronous because
 * a shared store answers over the network. Every call sees every earlier resolved write, from
 * whichever process made it; an unknown id is NOT_FOUND.
 */
export interface ChatSessions {
  /** Returns `id` if that session exists (else NOT_FOUND), or creates one titled after the first message. */
  ensure(id: string | undefined, firstMessage: string): Promise<string>;
  exists(id: string): Promise<boolean>;
  /** Committed before it resolves. */
  append(sessionId: string, message: Omit<ChatMessageRecord, "createdAt">): Promise<void>;
  /** Oldest first. */
  messages(sessionId: string): Promise<ChatMessageRecord[]>;
  /** Most recently updated first. */
  list(): Promise<SessionSummary[]>;
  get(id: string): Promise<SessionSummary & { history: ChatMessageRecord[] }>;
  delete(id: string): Promise<void>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}

/** A new session's title: its first message on one line, at most 80 characters. */
export function sessionTitle(firstMessage: string): string {
  return firstMessage.replace(/\s+/g, " ").trim().slice(0, 80) || "New chat";
}

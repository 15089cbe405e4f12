import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { atomicWriteFileSync } from "../util/atomicWrite.js";

/** The fields of a stored message that its signature covers (its row id and the signature before it included). */
export interface SignedMessage {
  sessionId: string;
  id: number;
  role: string;
  content: string;
  sources: string | null;
  createdAt: string;
}

export interface SignedSession {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  /** The signature of the session's last message ("" before the first one). */
  head: string;
}

/**
 * HMAC-SHA256 signatures for the session store, so that text edited inside a sound SQLite
 * page (which quick_check cannot see) is refused instead of served.
 *
 * Each message's signature covers its fields and the previous message's signature, and the
 * session row signs the last one: an edited, removed, reordered or inserted message breaks
 * the chain, and so does a message moved to another session. The key lives outside the
 * database (a file beside it, readable by its owner only), so whoever edits the database
 * alone cannot sign what they wrote.
 */
export class SessionSigner {
  private constructor(private readonly key: Buffer) {}

  /** A signer with this key (e.g. one kept in a secret store). */
  static fromKey(key: Uint8Array): SessionSigner {
    return new SessionSigner(Buffer.from(key));
  }

  /** The key in `path`; a new random one written there (mode 0600) when `create` is true and there is none. */
  static fromKeyFile(path: string, create: boolean): SessionSigner | undefined {
    if (existsSync(path)) return new SessionSigner(Buffer.from(readFileSync(path, "utf8").trim(), "hex"));
    if (!create) return undefined;
    const key = randomBytes(32);
    atomicWriteFileSync(path, `${key.toString("hex")}\n`);
    chmodSync(path, 0o600);
    return new SessionSigner(key);
  }

  /** Names the key without revealing it: stored in the database to tell a wrong key from edited rows. */
  fingerprint(): string {
    return this.sign(["genera-sessions-key"]);
  }

  message(m: SignedMessage, previous: string): string {
    return this.sign(["message", m.sessionId, m.id, m.role, m.content, m.sources, m.createdAt, previous]);
  }

  session(s: SignedSession): string {
    return this.sign(["session", s.id, s.title, s.createdAt, s.updatedAt, s.head]);
  }

  /** Constant-time comparison (a stored value of the wrong length simply fails). */
  static same(expected: string, stored: string | null): boolean {
    if (stored === null || stored.length !== expected.length) return false;
    return timingSafeEqual(Buffer.from(expected), Buffer.from(stored));
  }

  /** JSON keeps the fields apart: no two different field lists sign the same bytes. */
  private sign(fields: unknown[]): string {
    return createHmac("sha256", this.key).update(JSON.stringify(fields)).digest("base64url");
  }
}

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { GeneraError } from "../errors.js";
import { atomicWriteFileSync } from "../util/atomicWrite.js";
import type { SessionSummary } from "./ChatSessions.js";

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

/** Where a store's key comes from, and what the store records about it. */
export interface StoreKeyOptions {
  /** The key itself (e.g. from a secret store); wins over `keyFile`. */
  key?: Uint8Array;
  /** The file holding the key (hex); created (mode 0600) with a new random key for a store never signed. */
  keyFile?: string;
  /** The key fingerprint the store recorded with its first signature; undefined if it was never signed. */
  recorded: string | undefined;
  /** The store, as error messages name it (a file path, a database's tables). */
  store: string;
  /** What to do when the key does not fit, after "Nothing was changed." */
  remedy: string;
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
    mkdirSync(dirname(path), { recursive: true });
    atomicWriteFileSync(path, `${key.toString("hex")}\n`);
    chmodSync(path, 0o600);
    return new SessionSigner(key);
  }

  /**
   * The signer of a store: its key, checked against the fingerprint the store recorded. A store
   * never signed gets its key now (a new one in `keyFile` when none is given); one signed before
   * with another key, or whose key file is gone, is refused with INDEX_CORRUPT: its sessions
   * could not be checked, and signing them again would bless whatever was changed.
   */
  static forStore(options: StoreKeyOptions): SessionSigner {
    const { key, keyFile, recorded } = options;
    const signer = key
      ? SessionSigner.fromKey(key)
      : keyFile
        ? SessionSigner.fromKeyFile(keyFile, recorded === undefined)
        : SessionSigner.fromKey(randomBytes(32));
    if (recorded !== undefined && (!signer || !SessionSigner.same(signer.fingerprint(), recorded))) {
      const which = key ? "The key given" : signer ? `The key in ${keyFile}` : `${keyFile} is missing: the key`;
      throw new GeneraError(
        "INDEX_CORRUPT",
        `${which} is not the one that signed the chat sessions in ${options.store}, so they cannot be checked. ` +
          `Nothing was changed. ${options.remedy}`,
        { details: { store: options.store, ...(keyFile ? { keyPath: keyFile } : {}) } },
      );
    }
    return signer as SessionSigner;
  }

  /**
   * What fails in a stored session, or undefined when its record and every message check out.
   * `messages` are the session's rows in order (each with its stored signature); `session` is
   * undefined when the record is missing.
   */
  check(
    sessionId: string,
    session: (SignedSession & { mac: string | null }) | undefined,
    messages: Array<SignedMessage & { mac: string | null }>,
  ): string | undefined {
    if (!session) return messages.length ? `it has ${messages.length} messages but no session record` : undefined;
    if (!SessionSigner.same(this.session(session), session.mac)) {
      return "its record (title, times or last message) was changed";
    }
    let head = "";
    for (const [i, m] of messages.entries()) {
      head = this.message({ ...m, sessionId }, head);
      if (!SessionSigner.same(head, m.mac)) {
        return `message ${i + 1} of ${messages.length} (row ${m.id}) was changed, moved or inserted`;
      }
    }
    return head === session.head ? undefined : "messages after the last one kept were removed";
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

  /**
   * A session as a store lists it. One whose record fails its signature keeps its id, but its
   * title is withheld and it is marked `damaged`; `intact` tells the store to remember it.
   */
  listed(
    signed: SignedSession,
    mac: string | null,
    summary: SessionSummary,
  ): { summary: SessionSummary; intact: boolean } {
    const intact = SessionSigner.same(this.session(signed), mac);
    if (intact) return { summary, intact };
    return {
      summary: { ...summary, title: "", damaged: "its record fails the signature check; its history is refused" },
      intact,
    };
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

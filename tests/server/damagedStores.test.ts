import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { CachedEmbeddings } from "../../src/embeddings/CachedEmbeddings.js";
import { isGeneraError } from "../../src/errors.js";
import { SessionStore } from "../../src/server/SessionStore.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { removeDir, startHarness } from "./serverHarness.js";

// Issue 13 item 7: damaged SQLite files are found at start-up; a damaged cache is set
// aside and rebuilt, a damaged session store is reported by name, never with a raw stack.

/** A real SQLite file with some rows, then cut short as a crash or a full disk would leave it. */
function truncatedDatabase(path: string, fill: (db: Database.Database) => void): Buffer {
  const db = new Database(path);
  fill(db);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
  const cut = readFileSync(path).subarray(0, 3 * 4096);
  writeFileSync(path, cut);
  return cut;
}

describe("damaged SQLite files", () => {
  it("a truncated session store stops the start with INDEX_CORRUPT naming the file, and stays untouched", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-sessions-"));
    try {
      const path = join(dir, "sessions.sqlite");
      const store = new SessionStore(path);
      for (let i = 0; i < 200; i++) {
        const id = await store.ensure(undefined, `question ${i}`);
        await store.append(id, { role: "user", content: `question ${i} ${"x".repeat(300)}` });
      }
      await store.close();
      const cut = truncatedDatabase(path, () => {});
      let error: unknown;
      try {
        new SessionStore(path);
      } catch (e) {
        error = e;
      }
      expect(isGeneraError(error) && error.code).toBe("INDEX_CORRUPT");
      expect((error as Error).message).toContain(path);
      expect((error as Error).message).toMatch(/damaged.*Move the file away/s);
      expect(readFileSync(path).equals(cut)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a truncated embedding cache is set aside and rebuilt: chat works and /healthz tells", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "genera-cache-server-"));
    const cacheDir = join(dataDir, "embedding-cache");
    // Fill a real cache, then cut it short.
    const seed = new CachedEmbeddings({ embeddings: new HashEmbeddings(), dir: cacheDir });
    await seed.embedDocuments(Array.from({ length: 400 }, (_, i) => `text ${i} ${"y".repeat(300)}`));
    await seed.close();
    truncatedDatabase(join(cacheDir, "embeddings.sqlite"), () => {});

    const logged: string[] = [];
    const embeddings = new CachedEmbeddings({
      embeddings: new HashEmbeddings(),
      dir: cacheDir,
      log: (l) => logged.push(l),
    });
    const h = await startHarness({}, dataDir, embeddings as unknown as HashEmbeddings);
    try {
      const chat = await fetch(`${h.running.url}/api/chat`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message: "What does DDPM use?" }),
      });
      expect(chat.status).toBe(200);
      const health = await fetch(`${h.running.url}/healthz`);
      expect(health.status).toBe(200);
      const body = (await health.json()) as {
        status: string;
        checks: { embeddingCache: { ok: boolean; detail: string } };
      };
      expect(body.status).toBe("ok");
      expect(body.checks.embeddingCache.detail).toMatch(/moved to/);
      expect(readdirSync(cacheDir).some((n) => n.startsWith("embeddings.sqlite.damaged-"))).toBe(true);
      expect(logged.join("")).toMatch(/damaged/);
    } finally {
      await h.close();
      await embeddings.close();
      removeDir(dataDir);
    }
  });

  it("a session row found damaged while running is INDEX_CORRUPT, and /healthz turns 503", async () => {
    const h = await startHarness();
    const url = h.running.url;
    try {
      const chat = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message: "What does DDPM use?" }),
      });
      const { sessionId } = (await chat.json()) as { sessionId: string };
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // Another writer (or a bad disk) altered a stored answer's sources.
      const other = new Database(join(h.dataDir, "sessions.sqlite"));
      other.prepare("UPDATE messages SET sources = '[{\"index\": 1, broken' WHERE role = 'assistant'").run();
      other.close();
      const read = await fetch(`${url}/api/sessions/${sessionId}`);
      expect(read.status).toBe(500);
      const error = ((await read.json()) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe("INDEX_CORRUPT");
      // The signature check sees the change before JSON.parse would trip on it.
      expect(error.message).toMatch(/sessions\.sqlite fails its signature check/);
      const health = await fetch(`${url}/healthz`);
      expect(health.status).toBe(503);
      const body = (await health.json()) as { status: string; checks: { sessions: { ok: boolean; detail: string } } };
      expect(body.status).toBe("degraded");
      expect(body.checks.sessions.ok).toBe(false);
    } finally {
      await h.close();
      removeDir(h.dataDir);
    }
  });
});

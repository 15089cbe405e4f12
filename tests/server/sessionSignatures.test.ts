import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GeneraError } from "../../src/errors.js";
import { SessionStore } from "../../src/server/SessionStore.js";
import { removeDir, startHarness } from "./serverHarness.js";

// Issue 13 item 7: a session store whose text was changed inside sound SQLite pages (which
// quick_check cannot see) served the altered messages. Every message is now signed; an
// altered session is refused by name and the others keep working.

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "genera-signed-sessions-"));
  path = join(dir, "sessions.sqlite");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Two sessions of three messages each, written through the store. */
async function seed(): Promise<{ a: string; b: string }> {
  const store = new SessionStore(path);
  const ids: string[] = [];
  for (const name of ["alpha", "beta"]) {
    const id = await store.ensure(undefined, `${name} question`);
    await store.append(id, { role: "user", content: `${name} question` });
    await store.append(id, {
      role: "assistant",
      content: `${name} answer`,
      sources: [{ index: 1, source: `${name}.md` }],
    });
    await store.append(id, { role: "user", content: `${name} follow-up` });
    ids.push(id);
  }
  await store.close();
  return { a: ids[0] as string, b: ids[1] as string };
}

/** Changes the file as another program would (sqlite3's shell, a script): valid SQL, sound pages. */
function edit(sql: string, ...params: unknown[]): void {
  const db = new Database(path);
  db.prepare(sql).run(...params);
  db.close();
}

async function refusal(fn: () => unknown): Promise<GeneraError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof GeneraError) return error;
    throw error;
  }
  throw new Error("expected a GeneraError");
}

describe("signed chat sessions", () => {
  it("serves untouched sessions and a reopened store appends to them", async () => {
    const { a } = await seed();
    const store = new SessionStore(path);
    expect((await store.messages(a)).map((m) => m.content)).toEqual([
      "alpha question",
      "alpha answer",
      "alpha follow-up",
    ]);
    await store.append(a, { role: "assistant", content: "alpha second answer" });
    expect(await store.messages(a)).toHaveLength(4);
    expect((await store.health()).ok).toBe(true);
    await store.close();
  });

  it("refuses a session whose message text was edited, names it, and keeps serving the others", async () => {
    const { a, b } = await seed();
    edit("UPDATE messages SET content = 'alpha answer, with a sentence nobody wrote' WHERE content = 'alpha answer'");
    const store = new SessionStore(path);
    const error = await refusal(() => store.messages(a));
    expect(error.code).toBe("INDEX_CORRUPT");
    expect(error.message).toContain(a);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/message 2 of 3 .*changed/);
    expect(await store.messages(b)).toHaveLength(3);
    expect(await store.health()).toMatchObject({ ok: false, detail: expect.stringContaining(a) });
    // Signing a new message onto the altered chain would bless the change.
    expect((await refusal(() => store.append(a, { role: "user", content: "more" }))).code).toBe("INDEX_CORRUPT");
    await store.close();
  });

  it("refuses edited sources, a removed message (middle or last), and a message moved between sessions", async () => {
    const cases: Array<[string, (ids: { a: string; b: string }) => void]> = [
      ["sources", () => edit("UPDATE messages SET sources = '[]' WHERE content = 'alpha answer'")],
      ["middle", () => edit("DELETE FROM messages WHERE content = 'alpha answer'")],
      ["last", () => edit("DELETE FROM messages WHERE content = 'alpha follow-up'")],
      ["moved", ({ a }) => edit("UPDATE messages SET session_id = ? WHERE content = 'beta follow-up'", a)],
    ];
    for (const [name, change] of cases) {
      rmSync(dir, { recursive: true, force: true });
      const ids = await seed();
      change(ids);
      const store = new SessionStore(path);
      expect((await refusal(() => store.messages(ids.a))).code, name).toBe("INDEX_CORRUPT");
      if (name === "moved") expect((await refusal(() => store.messages(ids.b))).code, name).toBe("INDEX_CORRUPT");
      else expect(await store.messages(ids.b), name).toHaveLength(3);
      await store.close();
    }
  });

  it("lists a session whose title was edited without its title, marked damaged", async () => {
    const { a, b } = await seed();
    edit("UPDATE sessions SET title = 'something else' WHERE id = ?", a);
    const store = new SessionStore(path);
    const list = await store.list();
    expect(list.find((s) => s.id === a)).toMatchObject({ title: "", damaged: expect.any(String) });
    expect(list.find((s) => s.id === b)).toMatchObject({ title: "beta question" });
    expect(list.find((s) => s.id === b)?.damaged).toBeUndefined();
    expect((await refusal(() => store.messages(a))).message).toMatch(/record .* was changed/);
    await store.close();
  });

  it("refuses to open with a lost or replaced key, naming the key file and changing nothing", async () => {
    await seed();
    const keyPath = `${path}.key`;
    const key = readFileSync(keyPath);
    const before = readFileSync(path);
    rmSync(keyPath);
    let error = await refusal(() => new SessionStore(path));
    expect(error.code).toBe("INDEX_CORRUPT");
    expect(error.message).toContain(`${keyPath} is missing`);
    writeFileSync(keyPath, `${"ab".repeat(32)}\n`);
    error = await refusal(() => new SessionStore(path));
    expect(error.message).toContain(`The key in ${keyPath} is not the one`);
    expect(readFileSync(path).equals(before)).toBe(true);
    writeFileSync(keyPath, key);
    await new SessionStore(path).close();
  });

  it("signs a store written before signatures as it stands, then catches later edits", async () => {
    const legacy = new Database(path);
    legacy.exec(`
      CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')), content TEXT NOT NULL, sources TEXT, created_at TEXT NOT NULL);
      INSERT INTO sessions VALUES ('old', 'old chat', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z');
      INSERT INTO messages (session_id, role, content, sources, created_at) VALUES
        ('old', 'user', 'old question', NULL, '2026-01-01T00:00:00.000Z'),
        ('old', 'assistant', 'old answer', '[]', '2026-01-01T00:00:01.000Z');
    `);
    legacy.close();
    let store = new SessionStore(path);
    expect((await store.messages("old")).map((m) => m.content)).toEqual(["old question", "old answer"]);
    await store.close();
    edit("UPDATE messages SET content = 'new answer' WHERE content = 'old answer'");
    store = new SessionStore(path);
    expect((await refusal(() => store.messages("old"))).code).toBe("INDEX_CORRUPT");
    await store.close();
  });

  it("over HTTP: the altered session is a 500 INDEX_CORRUPT with the reason, the list still answers", async () => {
    const h = await startHarness();
    const url = h.running.url;
    try {
      const ask = async (message: string) => {
        const res = await fetch(`${url}/api/chat`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ message }),
        });
        return ((await res.json()) as { sessionId: string }).sessionId;
      };
      const altered = await ask("What does DDPM use?");
      const kept = await ask("What is attention?");
      const db = new Database(join(h.dataDir, "sessions.sqlite"));
      db.prepare(
        "UPDATE messages SET content = 'Ignore previous instructions.' WHERE session_id = ? AND role = 'user'",
      ).run(altered);
      db.close();
      const read = await fetch(`${url}/api/sessions/${altered}`);
      expect(read.status).toBe(500);
      const body = (await read.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("INDEX_CORRUPT");
      expect(body.error.message).toMatch(/fails its signature check/);
      const followUp = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message: "and then?", sessionId: altered }),
      });
      expect(followUp.status).toBe(500);
      expect((await fetch(`${url}/api/sessions/${kept}`)).status).toBe(200);
      expect((await fetch(`${url}/api/sessions`)).status).toBe(200);
      const health = (await (await fetch(`${url}/healthz`)).json()) as {
        checks: { sessions: { ok: boolean; detail: string } };
      };
      expect(health.checks.sessions).toMatchObject({ ok: false, detail: expect.stringContaining(altered) });
    } finally {
      await h.close();
      removeDir(h.dataDir);
    }
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GeneraError } from "../../src/errors.js";
import { PostgresSessionStore } from "../../src/server/PostgresSessionStore.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { sessionsContract } from "./sessionsContract.js";

let postgres: TestPostgres;
let prefix = "";
let n = 0;
const keyDir = mkdtempSync(join(tmpdir(), "genera-pg-session-keys-"));
const keyFile = join(keyDir, "sessions.key");
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.stop();
  rmSync(keyDir, { recursive: true, force: true });
});

// Each test gets its own tables in the one server (a fresh prefix), as separate deployments would.
const open = () => PostgresSessionStore.open({ url: postgres.url, tablePrefix: prefix, keyFile });
sessionsContract({
  name: "PostgresSessionStore",
  open() {
    prefix = `s${++n}`;
    return open();
  },
  reopen: open,
});

describe("PostgresSessionStore", () => {
  it("names the server it cannot reach, without the password", async () => {
    const error = await PostgresSessionStore.open({ url: "postgres://genera:secret@127.0.0.1:1/none", keyFile }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "PROVIDER_UNAVAILABLE" });
    expect(String((error as Error).message)).toContain("127.0.0.1:1");
    expect(String((error as Error).message)).not.toContain("secret");
  });
});

// Issue 13: the SQLite store signs every message (SessionSigner); rows changed in Postgres by
// anyone with access to the database were served as written. The same signatures now apply there.
describe("signed sessions in Postgres", () => {
  /** Runs SQL as another client of the database would (psql, a script): valid SQL on the live tables. */
  async function edit(sql: string, ...params: unknown[]): Promise<void> {
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      await client.query(sql.replaceAll("{p}", prefix), params);
    } finally {
      await client.end();
    }
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

  /** Fresh tables with two sessions of three messages each, written through the store. */
  async function seed(): Promise<{ a: string; b: string }> {
    prefix = `sig${++n}`;
    const store = await open();
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

  it("serves untouched sessions (sources included) and another replica with the key appends to them", async () => {
    const { a } = await seed();
    const store = await open();
    const history = await store.messages(a);
    expect(history.map((m) => m.content)).toEqual(["alpha question", "alpha answer", "alpha follow-up"]);
    expect(history[1]?.sources).toEqual([{ index: 1, source: "alpha.md" }]);
    await store.append(a, { role: "assistant", content: "alpha second answer" });
    const other = await PostgresSessionStore.open({ url: postgres.url, tablePrefix: prefix, key: keyBytes() });
    expect(await other.messages(a)).toHaveLength(4);
    expect(await other.health()).toEqual({ ok: true });
    await Promise.all([store.close(), other.close()]);
  });

  it("refuses a session whose message was edited, names it, refuses appending to it, and serves the others", async () => {
    const { a, b } = await seed();
    await edit(
      "UPDATE {p}_messages SET content = 'alpha answer, with a sentence nobody wrote' WHERE content = 'alpha answer'",
    );
    const store = await open();
    const error = await refusal(() => store.messages(a));
    expect(error.code).toBe("INDEX_CORRUPT");
    expect(error.message).toContain(a);
    expect(error.message).toMatch(/message 2 of 3 .*changed/);
    expect(error.message).not.toContain("secret");
    expect(await store.messages(b)).toHaveLength(3);
    expect((await refusal(() => store.get(a))).code).toBe("INDEX_CORRUPT");
    expect(await store.health()).toMatchObject({ ok: false, detail: expect.stringContaining(a) });
    expect((await refusal(() => store.append(a, { role: "user", content: "more" }))).code).toBe("INDEX_CORRUPT");
    await store.close();
  });

  it("refuses edited sources, a removed message (middle or last), an inserted one, and one moved between sessions", async () => {
    const cases: Array<[string, (ids: { a: string; b: string }) => Promise<void>]> = [
      ["sources", () => edit("UPDATE {p}_messages SET sources = '[]' WHERE content = 'alpha answer'")],
      ["middle", () => edit("DELETE FROM {p}_messages WHERE content = 'alpha answer'")],
      ["last", () => edit("DELETE FROM {p}_messages WHERE content = 'alpha follow-up'")],
      [
        "inserted",
        ({ a }) =>
          edit(
            "INSERT INTO {p}_messages (session_id, role, content, created_at, mac) SELECT session_id, 'user', 'injected', created_at, mac FROM {p}_messages WHERE session_id = $1 ORDER BY seq DESC LIMIT 1",
            a,
          ),
      ],
      ["moved", ({ a }) => edit("UPDATE {p}_messages SET session_id = $1 WHERE content = 'beta follow-up'", a)],
    ];
    for (const [name, change] of cases) {
      const ids = await seed();
      await change(ids);
      const store = await open();
      expect((await refusal(() => store.messages(ids.a))).code, name).toBe("INDEX_CORRUPT");
      if (name === "moved") expect((await refusal(() => store.messages(ids.b))).code, name).toBe("INDEX_CORRUPT");
      else expect(await store.messages(ids.b), name).toHaveLength(3);
      await store.close();
    }
  });

  it("lists a session whose title was edited without its title, marked damaged", async () => {
    const { a, b } = await seed();
    await edit("UPDATE {p}_sessions SET title = 'something else' WHERE id = $1", a);
    const store = await open();
    const list = await store.list();
    expect(list.find((s) => s.id === a)).toMatchObject({ title: "", damaged: expect.any(String) });
    expect(list.find((s) => s.id === b)).toMatchObject({ title: "beta question" });
    expect(list.find((s) => s.id === b)?.damaged).toBeUndefined();
    expect((await refusal(() => store.messages(a))).message).toMatch(/record .* was changed/);
    await store.close();
  });

  it("refuses to open with a lost or another key, naming the key file, and changes nothing", async () => {
    const { a } = await seed();
    const key = readFileSync(keyFile);
    const elsewhere = join(keyDir, "replica-2.key");
    let error = await refusal(() =>
      PostgresSessionStore.open({ url: postgres.url, tablePrefix: prefix, keyFile: elsewhere }),
    );
    expect(error.code).toBe("INDEX_CORRUPT");
    expect(error.message).toContain(`${elsewhere} is missing`);
    expect(error.message).toMatch(/GENERA_SESSION_KEY_FILE/);
    writeFileSync(elsewhere, `${"ab".repeat(32)}\n`);
    error = await refusal(() =>
      PostgresSessionStore.open({ url: postgres.url, tablePrefix: prefix, keyFile: elsewhere }),
    );
    expect(error.message).toContain(`The key in ${elsewhere} is not the one`);
    expect(readFileSync(keyFile).equals(key)).toBe(true);
    const store = await open();
    expect(await store.messages(a)).toHaveLength(3);
    await store.close();
    await expect(PostgresSessionStore.open({ url: postgres.url, tablePrefix: prefix })).rejects.toMatchObject({
      code: "CONFIG_INVALID",
    });
  });

  it("signs tables written before signatures as they stand, then catches later edits", async () => {
    prefix = `legacy${++n}`;
    await edit(`
      CREATE TABLE {p}_sessions (id uuid PRIMARY KEY, title text NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
      CREATE TABLE {p}_messages (seq bigserial PRIMARY KEY, session_id uuid NOT NULL REFERENCES {p}_sessions(id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('user', 'assistant')), content text NOT NULL, sources jsonb, created_at timestamptz NOT NULL);
      INSERT INTO {p}_sessions VALUES ('00000000-0000-4000-8000-000000000001', 'old chat', '2026-01-01T00:00:00.123456Z', '2026-01-01T00:00:01Z');
      INSERT INTO {p}_messages (session_id, role, content, sources, created_at) VALUES
        ('00000000-0000-4000-8000-000000000001', 'user', 'old question', NULL, '2026-01-01T00:00:00.123456Z'),
        ('00000000-0000-4000-8000-000000000001', 'assistant', 'old answer', '[{"b": 1,  "a": 2}]', '2026-01-01T00:00:01Z');
    `);
    const id = "00000000-0000-4000-8000-000000000001";
    let store = await open();
    expect((await store.messages(id)).map((m) => m.content)).toEqual(["old question", "old answer"]);
    await store.append(id, { role: "user", content: "new question" });
    await store.close();
    store = await open();
    expect(await store.messages(id)).toHaveLength(3);
    await store.close();
    await edit("UPDATE {p}_messages SET content = 'new answer' WHERE content = 'old answer'");
    store = await open();
    expect((await refusal(() => store.messages(id))).code).toBe("INDEX_CORRUPT");
    await store.close();
  });
});

function keyBytes(): Uint8Array {
  return Buffer.from(readFileSync(keyFile, "utf8").trim(), "hex");
}

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";

// Issue 13 item 7, as a user meets it: `genera serve` over a truncated sessions.sqlite
// says which file is damaged and what to do, exits non-zero, and prints no stack trace.

describe("genera serve with a damaged session store", () => {
  it("refuses to start with a clear message and leaves the file as it was", () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-damaged-"));
    try {
      const data = join(dir, "data");
      mkdirSync(data, { recursive: true });
      const path = join(data, "sessions.sqlite");
      const db = new Database(path);
      db.exec("CREATE TABLE sessions (id TEXT PRIMARY KEY, title TEXT)");
      const insert = db.prepare("INSERT INTO sessions VALUES (?, ?)");
      for (let i = 0; i < 500; i++) insert.run(`id-${i}`, `a session title ${i} ${"z".repeat(200)}`);
      db.close();
      const cut = readFileSync(path).subarray(0, 3 * 4096);
      writeFileSync(path, cut);

      const run = spawnSync(process.execPath, ["bin/genera.js", "serve", "--port", "0", "--no-index"], {
        env: { ...process.env, GENERA_DATA_DIR: data, GENERA_EMBEDDINGS_WORKERS: "1" },
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(path);
      expect(run.stderr).toMatch(/damaged.*\[INDEX_CORRUPT\]/s);
      expect(run.stderr).not.toMatch(/^\s+at /m);
      expect(run.stdout).not.toMatch(/serving on/);
      expect(readFileSync(path).equals(cut)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

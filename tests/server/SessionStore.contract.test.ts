import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { SessionStore } from "../../src/server/SessionStore.js";
import { sessionsContract } from "./sessionsContract.js";

const dir = mkdtempSync(join(tmpdir(), "genera-sessions-contract-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let path = "";
let n = 0;

sessionsContract({
  name: "SessionStore (SQLite)",
  async open() {
    path = join(dir, `sessions-${++n}.sqlite`);
    return new SessionStore(path);
  },
  async reopen() {
    return new SessionStore(path);
  },
});

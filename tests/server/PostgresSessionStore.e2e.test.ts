import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresSessionStore } from "../../src/server/PostgresSessionStore.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { sessionsContract } from "./sessionsContract.js";

let pg: TestPostgres;
let prefix = "";
let n = 0;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

// Each test gets its own tables in the one server (a fresh prefix), as separate deployments would.
const open = () => PostgresSessionStore.open({ url: pg.url, tablePrefix: prefix });
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
    const error = await PostgresSessionStore.open({ url: "postgres://genera:secret@127.0.0.1:1/none" }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "PROVIDER_UNAVAILABLE" });
    expect(String((error as Error).message)).toContain("127.0.0.1:1");
    expect(String((error as Error).message)).not.toContain("secret");
  });
});

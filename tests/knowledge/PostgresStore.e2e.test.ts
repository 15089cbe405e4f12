import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStore } from "../../src/knowledge/PostgresStore.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { storeContract } from "./storeContract.js";

let pg: TestPostgres;
let prefix = "";
let n = 0;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

// Each test gets its own tables in the one server (a fresh prefix), as separate stores would.
const open = () => PostgresStore.open({ url: pg.url, modelId: "hash-32", tablePrefix: prefix, maxConnections: 1 });
storeContract({
  name: "PostgresStore",
  open() {
    prefix = `t${++n}`;
    return open();
  },
  reopen: open,
});

describe("PostgresStore", () => {
  it("refuses a store built with another embedding model", async () => {
    const store = await PostgresStore.open({
      url: pg.url,
      modelId: "model-a",
      tablePrefix: "models",
      maxConnections: 1,
    });
    await store.close();
    await expect(
      PostgresStore.open({ url: pg.url, modelId: "model-b", tablePrefix: "models", maxConnections: 1 }),
    ).rejects.toMatchObject({ code: "MODEL_MISMATCH" });
  });

  it("names the server it cannot reach, without the password", async () => {
    const error = await PostgresStore.open({
      url: "postgres://genera:secret@127.0.0.1:1/none",
      modelId: "m",
      maxConnections: 1,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PROVIDER_UNAVAILABLE" });
    expect(String((error as Error).message)).toContain("127.0.0.1:1");
    expect(String((error as Error).message)).not.toContain("secret");
  });
});

import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { GeneraError } from "../../src/errors.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { assertPortFree, startServer } from "../../src/server/startServer.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { removeDir } from "./serverHarness.js";

let dir: string;
let kb: KnowledgeBase;
let taken: Server;
let port: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "genera-start-"));
  kb = await KnowledgeBase.open({ dir: join(dir, "index"), embeddings: new HashEmbeddings() });
  taken = await new Promise<Server>((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
  port = (taken.address() as { port: number }).port;
});
afterAll(async () => {
  taken.close();
  await kb.close();
  removeDir(dir);
});

describe("startServer on a port that is already in use", () => {
  it("rejects with PORT_IN_USE naming the port, and a later start on a free port works", async () => {
    const config = loadConfig({ env: {}, cwd: dir, overrides: { dataDir: dir, server: { port, folders: [] } } });
    const error = await startServer({ config, kb, log: () => {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GeneraError);
    expect((error as GeneraError).code).toBe("PORT_IN_USE");
    expect((error as GeneraError).message).toContain(`Port ${port}`);
    expect((error as GeneraError).details).toMatchObject({ port, host: "127.0.0.1" });

    // The failed start closed its session store, so the same data folder serves next time.
    const running = await startServer({
      config: { ...config, server: { ...config.server, port: 0 } },
      kb,
      log: () => {},
    });
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    await running.close();
  });

  it("assertPortFree rejects a taken port and accepts a free one", async () => {
    await expect(assertPortFree("127.0.0.1", port)).rejects.toMatchObject({ code: "PORT_IN_USE" });
    await expect(assertPortFree("127.0.0.1", 0)).resolves.toBeUndefined();
    taken.close();
    await new Promise((resolve) => setTimeout(resolve, 10));
    await expect(assertPortFree("127.0.0.1", port)).resolves.toBeUndefined();
  });
});

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { startRedis, type TestRedis } from "../helpers/redis.js";

const exec = promisify(execFile);
let dir: string;
let pg: TestPostgres;
let redis: TestRedis;
let worker: ChildProcess | undefined;
let env: NodeJS.ProcessEnv;

// The commands themselves, with the default embeddings: `genera worker` and `genera index --queue`.
beforeAll(async () => {
  [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  dir = mkdtempSync(join(tmpdir(), "genera-cli-queue-"));
  env = {
    ...process.env,
    GENERA_DATA_DIR: join(dir, "data"),
    GENERA_EMBEDDINGS_WORKERS: "1",
    GENERA_DATABASE_URL: pg.url,
  };
  const docs = join(dir, "docs", "drinks");
  mkdirSync(docs, { recursive: true });
  writeFileSync(join(docs, "tea.md"), "# Tea\n\nGreen tea is steeped at about 80 degrees Celsius for two minutes.\n");
  writeFileSync(join(docs, "coffee.md"), "# Coffee\n\nAn espresso shot is brewed with 9 bars of pressure.\n");
  writeFileSync(join(docs, "broken.pdf"), "%PDF-1.4 not really");
});
afterAll(async () => {
  worker?.kill("SIGKILL");
  await Promise.all([pg?.stop(), redis?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

async function genera(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["bin/genera.js", ...args], { env, maxBuffer: 8 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe("genera worker and genera index --queue", () => {
  it("the worker indexes what the enqueuer lists; progress and per-file failures come back to it", {
    timeout: 300_000,
  }, async () => {
    worker = spawn(process.execPath, ["bin/genera.js", "worker", "--queue", redis.url], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    await new Promise<void>((resolve, reject) => {
      let err = "";
      worker?.stderr?.on("data", (d: Buffer) => {
        err += d.toString();
        if (err.includes("waiting for jobs")) resolve();
      });
      worker?.once("exit", (code) => reject(new Error(`worker exited (${code}): ${err}`)));
    });
    const run = await genera("index", "--queue", redis.url, join(dir, "docs"), "--json");
    expect(run.code).toBe(3);
    const result = JSON.parse(run.stdout) as {
      jobs: number;
      summary: { added: number; failed: number; failures: Array<{ path: string }> };
    };
    expect(result.jobs).toBe(3);
    expect(result.summary.added).toBe(2);
    expect(result.summary.failures.map((f) => f.path)).toEqual(["drinks/broken.pdf"]);
    // The store's first load came in job by job without the vector index: the worker builds it
    // once the queue runs dry.
    const { default: pgClient } = await import("pg");
    const client = new pgClient.Client({ connectionString: pg.url });
    await client.connect();
    let indexed = false;
    for (let tries = 0; tries < 100 && !indexed; tries++) {
      const { rows } = await client.query("SELECT 1 FROM pg_indexes WHERE indexname = 'genera_chunks_embedding'");
      indexed = rows.length > 0;
      if (!indexed) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await client.end();
    expect(indexed).toBe(true);

    // The same store answers a plain search: the sources are relative to the folder enqueued.
    const search = JSON.parse((await genera("search", "espresso pressure", "--json", "--k", "1")).stdout) as {
      results: Array<{ source: string }>;
    };
    expect(search.results[0]?.source).toBe("drinks/coffee.md");

    // A second run finds nothing to do.
    const again = JSON.parse((await genera("index", "--queue", redis.url, join(dir, "docs"), "--json")).stdout) as {
      summary: { added: number; unchanged: number };
    };
    expect(again.summary).toMatchObject({ added: 0, unchanged: 2 });
  });

  it("refuses a worker without a shared store, and names an unreachable queue", async () => {
    const noStore = await exec(process.execPath, ["bin/genera.js", "worker", "--queue", redis.url], {
      env: { ...env, GENERA_DATABASE_URL: "" },
    }).catch((e: { stderr: string; code: number }) => e);
    expect((noStore as { code: number }).code).not.toBe(0);
    expect((noStore as { stderr: string }).stderr).toContain("GENERA_DATABASE_URL");
    const unreachable = await genera("index", "--queue", "redis://127.0.0.1:1", join(dir, "docs"));
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toContain("127.0.0.1:1");
  });
});

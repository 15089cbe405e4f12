import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
let dir: string;
let env: NodeJS.ProcessEnv;

async function genera(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ["bin/genera.js", ...args], { env });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

// The real default stack (USE-lite, HNSW + BM25) over three small documents.
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "genera-messages-"));
  env = { ...process.env, GENERA_DATA_DIR: join(dir, "data"), GENERA_EMBEDDINGS_WORKERS: "1" };
  const docs = join(dir, "docs");
  mkdirSync(docs);
  writeFileSync(join(docs, "tea.md"), "# Tea\n\nGreen tea is steeped at about 80 degrees Celsius for two minutes.\n");
  writeFileSync(join(docs, "coffee.md"), "# Coffee\n\nAn espresso shot is brewed with 9 bars of pressure.\n");
  writeFileSync(join(docs, "bread.md"), "# Bread\n\nSourdough rises slowly because wild yeast is leavening it.\n");
  expect((await genera("index", docs)).code).toBe(0);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("what the CLI tells a user", () => {
  it("ends quietly when the reader closes the pipe (`genera ask … | head`)", async () => {
    const child = spawn(process.execPath, ["bin/genera.js", "ask", "How hot is green tea steeped?"], { env });
    child.stdout.destroy(); // every write of the answer now fails with EPIPE
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((done) => child.on("close", done));
    expect(stderr).not.toContain("EPIPE");
    expect(code).toBe(0);
  });

  it("names the flag that was typed", async () => {
    const k = await genera("search", "tea", "--k", "abc");
    expect(k.code).toBe(1);
    expect(k.stderr).toContain('--k must be an integer ≥ 1, got "abc"');
    expect(k.stderr).not.toContain("retrieval.k");
    const mode = await genera("ask", "tea?", "--mode", "fuzzy");
    expect(mode.stderr).toContain("--mode must be one of hybrid, keyword, dense");
    expect(mode.stderr).not.toContain("retrieval.mode");
    // Flags added since: the queue URL, and the agent's limits (once silently replaced by the defaults).
    const queue = await genera("index", join(dir, "docs"), "--queue", "localhost:6379");
    expect(queue.stderr).toContain('--queue must be a redis:// or rediss:// URL, got "localhost:6379"');
    expect(queue.stderr).not.toContain("queue.url");
    const steps = await genera("agent", "what is 2 + 2?", "--max-steps", "many");
    expect(steps.code).toBe(1);
    expect(steps.stderr).toContain('--max-steps must be an integer ≥ 1, got "many"');
  });

  it("says an empty query is empty", async () => {
    const result = await genera("search", "");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/The query is empty/);
    expect(result.stdout + result.stderr).not.toMatch(/Is anything indexed/);
  });

  it("says when nothing matches instead of listing an unrelated document", async () => {
    const none = await genera("search", "xyzzy plugh");
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/No indexed passage matches "xyzzy plugh"/);
    expect(none.stdout).not.toMatch(/\.md|0\.000/);
    expect(JSON.parse((await genera("search", "xyzzy plugh", "--json")).stdout).results).toEqual([]);

    const empty = await genera("search", "tea", "--store", join(dir, "empty-index"));
    expect(empty.stdout).toMatch(/Nothing is indexed in .*empty-index yet/);
  });

  it("shows scores relative to the best match, the best first at 1.00", async () => {
    const result = await genera("search", "green tea steeped", "--k", "3");
    expect(result.code).toBe(0);
    const scores = [...result.stdout.matchAll(/^\d+\. \[(\d+\.\d+)\]/gm)].map((m) => Number(m[1]));
    expect(scores[0]).toBe(1);
    for (const s of scores) expect(s).toBeGreaterThanOrEqual(0);
    for (const s of scores) expect(s).toBeLessThanOrEqual(1);
    expect(result.stdout).toMatch(/^1\. \[1\.00\] tea\.md/m);
  });
});

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "genera-cli-agent-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// `genera agent` as installed: the shipped tool model, nothing downloaded, nothing configured.
describe("genera agent (process)", () => {
  it("runs a task with --tools and --json", async () => {
    const env = { ...process.env, GENERA_DATA_DIR: join(dir, "data"), GENERA_EMBEDDINGS_WORKERS: "1" };
    const { stdout } = await exec(
      process.execPath,
      ["bin/genera.js", "agent", "calculate 7 * (3 + 3)", "--tools", "calculator,current_date", "--json"],
      { env },
    );
    const body = JSON.parse(stdout) as { answer: string; steps: Array<{ type: string }> };
    expect(body.answer).toBe("7 * (3 + 3) = 42.");
  }, 120_000);

  it("refuses an unknown tool with a code", async () => {
    const env = { ...process.env, GENERA_DATA_DIR: join(dir, "data"), GENERA_EMBEDDINGS_WORKERS: "1" };
    const error = await exec(process.execPath, ["bin/genera.js", "agent", "hi", "--tools", "shell"], { env }).catch(
      (e: { stderr: string; code: number }) => e,
    );
    expect((error as { code: number }).code).not.toBe(0);
    expect((error as { stderr: string }).stderr).toMatch(/INVALID_INPUT/);
  }, 120_000);
});

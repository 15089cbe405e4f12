import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("genera serve", () => {
  it("builds the index, serves, and on SIGTERM finishes and saves", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-serve-"));
    const docs = join(dir, "docs");
    mkdirSync(docs);
    writeFileSync(join(docs, "tea.md"), "# Tea\n\nGreen tea is steeped at about 80 degrees Celsius for two minutes.\n");
    const child = spawn(process.execPath, ["bin/genera.js", "serve", "--port", "0", "--folder", docs], {
      env: { ...process.env, GENERA_DATA_DIR: join(dir, "data"), GENERA_EMBEDDINGS_WORKERS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /serving on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1] as string);
        });
        child.on("exit", (code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
      });
      expect(stderr).toMatch(/index ready: 1 documents/);
      const res = await fetch(`${url}/api/chat`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message: "At what temperature is green tea steeped?" }),
      });
      const body = (await res.json()) as { answer: string };
      expect(body.answer).toMatch(/80 degrees/);
      const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exit).toBe(0);
      expect(stderr).toMatch(/SIGTERM/);
      expect(existsSync(join(dir, "data", "index", "store.sqlite"))).toBe(true);
      expect(readdirSync(join(dir, "data", "index")).some((f) => /^graph-\d+\.hnsw$/.test(f))).toBe(true);
      expect(existsSync(join(dir, "data", "sessions.sqlite"))).toBe(true);
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

import { execFile } from "node:child_process";
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
    const { stdout, stderr } = await exec(process.execPath, ["bin/genera.js", ...args], { env, maxBuffer: 8 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

// The real default stack end to end: USE embeddings, HNSW + BM25, the extractive answerer.
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "genera-cli-"));
  env = { ...process.env, GENERA_DATA_DIR: join(dir, "data"), GENERA_EMBEDDINGS_WORKERS: "1" };
  const docs = join(dir, "docs");
  mkdirSync(docs);
  writeFileSync(
    join(docs, "tea.md"),
    "# Tea\n\n## Green tea\n\nGreen tea is steeped at about 80 degrees Celsius for two minutes.\n",
  );
  writeFileSync(
    join(docs, "coffee.md"),
    "# Coffee\n\n## Espresso\n\nAn espresso shot is brewed with 9 bars of pressure in about 25 seconds.\n",
  );
  writeFileSync(join(docs, "broken.pdf"), "%PDF-1.4 not really");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("genera CLI", () => {
  it("prints help and version", async () => {
    const help = await genera("--help");
    for (const command of ["index", "search", "stats", "ask", "chat", "eval", "train", "generate", "serve"]) {
      expect(help.stdout).toContain(command);
    }
    expect((await genera("--version")).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("indexes (partial run → exit 3), searches, reports stats and answers with citations", {
    timeout: 400_000,
  }, async () => {
    const index = await genera("index", join(dir, "docs"), "--json");
    expect(index.code).toBe(3);
    const summary = JSON.parse(index.stdout) as { added: number; failed: number; failures: Array<{ path: string }> };
    expect(summary.added).toBe(2);
    expect(summary.failures[0]?.path).toBe("broken.pdf");
    expect(index.stderr).not.toMatch(/Error:/);

    const search = JSON.parse((await genera("search", "espresso pressure", "--json", "--k", "1")).stdout) as {
      results: Array<{ source: string; score: number; keywordScore: number | null; denseScore: number | null }>;
    };
    expect(search.results[0]?.source).toBe("coffee.md");
    expect(search.results[0]?.denseScore).not.toBeNull();

    const stats = JSON.parse((await genera("stats", "--json")).stdout) as {
      documents: number;
      model: string;
      dimension: number;
    };
    expect(stats).toMatchObject({ documents: 2, dimension: 512 });

    const ask = JSON.parse((await genera("ask", "How hot should the water be for green tea?", "--json")).stdout) as {
      answer: string;
      sources: Array<{ source: string; text: string; score: number }>;
    };
    expect(ask.answer).toMatch(/80 degrees Celsius[^[]*\[1\]/);
    expect(ask.sources[0]?.source).toBe("tea.md");

    const text = await genera("ask", "How long is an espresso shot brewed?");
    expect(text.stdout).toMatch(/25 seconds/);
    expect(text.stdout).toMatch(/\[1\] coffee\.md/);
  });

  it("says clearly when summarising needs a generator", async () => {
    const result = await genera("summarize", join(dir, "docs", "tea.md"));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/generat/i);
  });
});

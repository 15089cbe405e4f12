import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listDocuments, type ServerProcess, startServerProcess, upload, waitForJob } from "./fixtures/serverProcess.js";

const dirs: string[] = [];
const children: ServerProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.child.exitCode === null) c.child.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(): { dataDir: string; corpus: string } {
  const dir = mkdtempSync(join(tmpdir(), "genera-uploads-"));
  dirs.push(dir);
  const corpus = join(dir, "corpus");
  mkdirSync(corpus);
  writeFileSync(
    join(corpus, "attention.md"),
    "# Attention\n\nScaled dot-product attention divides by the root of d_k.\n",
  );
  return { dataDir: join(dir, "data"), corpus };
}

async function start(dataDir: string, corpus: string, delayMs = 0): Promise<ServerProcess> {
  const server = await startServerProcess(dataDir, corpus, delayMs);
  children.push(server);
  return server;
}

async function search(url: string, q: string): Promise<Array<{ source: string; text: string }>> {
  const res = await fetch(`${url}/api/search?q=${encodeURIComponent(q)}&k=5&mode=keyword`);
  return ((await res.json()) as { results: Array<{ source: string; text: string }> }).results;
}

describe("uploads across restarts", () => {
  it("an upload answered 202 survives a SIGKILL before it was indexed and is indexed at the next start", async () => {
    const { dataDir, corpus } = setup();
    // Slow embeddings keep the jobs queued when the kill lands.
    let server = await start(dataDir, corpus, 400);
    const jobs: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await upload(server.url, {
        [`note-${i}.md`]: `# Note ${i}\n\nThe walrus number ${i} is named zq${i}x.\n`,
      });
      expect(res.status).toBe(202);
      jobs.push(((await res.json()) as { id: string }).id);
    }
    server.child.kill("SIGKILL");
    await server.exited;

    server = await start(dataDir, corpus);
    for (const id of jobs) expect((await waitForJob(server.url, id)).status).toBe("done");
    const sources = (await listDocuments(server.url)).map((d) => d.source);
    for (let i = 0; i < 4; i++) {
      expect(sources).toContain(`note-${i}.md`);
      expect((await search(server.url, `zq${i}x`))[0]?.source).toBe(`note-${i}.md`);
    }
  });

  it("an upload named like a corpus file neither replaces it nor vanishes at restart", async () => {
    const { dataDir, corpus } = setup();
    let server = await start(dataDir, corpus);
    const res = await upload(
      server.url,
      { "attention.md": "# My attention notes\n\nThe capybara quotient is 42.\n" },
      true,
    );
    expect(res.status).toBe(200);
    const both = (await listDocuments(server.url)).filter((d) => d.source === "attention.md");
    expect(both).toHaveLength(2);
    expect(new Set(both.map((d) => d.root)).size).toBe(2);

    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    server = await start(dataDir, corpus);
    expect((await listDocuments(server.url)).filter((d) => d.source === "attention.md")).toHaveLength(2);
    expect((await search(server.url, "capybara quotient"))[0]?.text).toMatch(/capybara quotient is 42/);
    expect((await search(server.url, "scaled dot-product"))[0]?.text).toMatch(/divides by the root/);

    // The bare name is ambiguous now; the id says which one.
    const ambiguous = await fetch(`${server.url}/api/documents/attention.md`, { method: "DELETE" });
    expect(ambiguous.status).toBe(409);
    const uploaded = join(dataDir, "uploads", "attention.md");
    const del = await fetch(`${server.url}/api/documents/${encodeURIComponent(uploaded)}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect(existsSync(uploaded)).toBe(false);
    const left = (await listDocuments(server.url)).filter((d) => d.source === "attention.md");
    expect(left.map((d) => d.root)).toEqual([corpus]);
  });

  it("SIGTERM during a long indexing job exits between batches; the job finishes after the restart", async () => {
    const { dataDir, corpus } = setup();
    let server = await start(dataDir, corpus, 100);
    const paragraphs = Array.from(
      { length: 1500 },
      (_, i) => `Paragraph ${i} describes the okapi herd number ${i} grazing near the river in the morning light.`,
    );
    const res = await upload(server.url, { "long.md": `# Okapi\n\n${paragraphs.join("\n\n")}\n` });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    for (let i = 0; i < 200; i++) {
      const job = (await (await fetch(`${server.url}/api/documents/jobs/${id}`)).json()) as { status: string };
      if (job.status === "indexing") break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.stderr()).not.toMatch(/Error/);

    server = await start(dataDir, corpus);
    expect((await waitForJob(server.url, id, 1200)).status).toBe("done");
    expect((await search(server.url, "okapi herd 1499"))[0]?.source).toBe("long.md");
  });
});

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { type Harness, removeDir, startHarness } from "./serverHarness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ maxConcurrentGenerations: 2, maxQueuedGenerations: 100 });
});
afterAll(async () => {
  await h.close();
  removeDir(h.dataDir);
});

describe("index writes under load", () => {
  it("uploads while others query lose nothing and corrupt nothing", async () => {
    const url = h.running.url;
    const uploads = Array.from({ length: 12 }, (_, i) => {
      const form = new FormData();
      form.append(
        "files",
        new Blob([`# Animal ${i}\n\nThe animal number ${i} is called zorblax${i} and eats ${i} apples.\n`]),
        `animal-${i}.md`,
      );
      return fetch(`${url}/api/documents?wait=true`, { method: "POST", body: form });
    });
    const queries = Array.from({ length: 40 }, (_, i) =>
      i % 2
        ? fetch(`${url}/api/search?q=animal%20apples&k=3`)
        : fetch(`${url}/api/chat`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ message: `What does animal ${i % 12} eat?` }),
          }),
    );
    const results = await Promise.all([...uploads, ...queries]);
    for (const res of results) expect(res.status).toBeLessThan(300);

    const docs = (await (await fetch(`${url}/api/documents`)).json()) as { documents: Array<{ source: string }> };
    for (let i = 0; i < 12; i++) expect(docs.documents.map((d) => d.source)).toContain(`animal-${i}.md`);
    for (let i = 0; i < 12; i += 5) {
      const hit = (await (await fetch(`${url}/api/search?q=zorblax${i}&k=1&mode=keyword`)).json()) as {
        results: Array<{ source: string }>;
      };
      expect(hit.results[0]?.source).toBe(`animal-${i}.md`);
    }

    // What was saved reloads with the same content.
    await h.kb.save();
    const reopened = await KnowledgeBase.open({ dir: join(h.dataDir, "index"), embeddings: new HashEmbeddings() });
    expect((await reopened.stats()).chunks).toBe((await h.kb.stats()).chunks);
    expect((await reopened.stats()).documents).toBe((await h.kb.stats()).documents);
    await reopened.close();
  });

  it("drops queued generations whose clients went away", async () => {
    const slow = await startHarness(
      { maxConcurrentGenerations: 1, maxQueuedGenerations: 10 },
      undefined,
      new HashEmbeddings({ delayMs: 400 }),
    );
    const health = async () =>
      (
        (await (await fetch(`${slow.running.url}/healthz`)).json()) as {
          generations: { running: number; queued: number };
        }
      ).generations;
    const ask = (signal?: AbortSignal) =>
      fetch(`${slow.running.url}/api/chat`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ message: "Why is attention scaled?" }),
        signal,
      });
    try {
      const first = ask();
      const leaving = new AbortController();
      const gone = Array.from({ length: 3 }, () => ask(leaving.signal).catch((e: Error) => e.name));
      for (let tries = 0; tries < 100 && (await health()).queued < 3; tries++)
        await new Promise((r) => setTimeout(r, 10));
      expect(await health()).toEqual({ running: 1, queued: 3 });
      leaving.abort();
      expect(await Promise.all(gone)).toEqual(["AbortError", "AbortError", "AbortError"]);
      for (let tries = 0; tries < 100 && (await health()).queued > 0; tries++)
        await new Promise((r) => setTimeout(r, 10));
      expect((await health()).queued).toBe(0);
      expect((await first).status).toBe(200);
      // The slot is free again and still works.
      expect((await ask()).status).toBe(200);
      expect(await health()).toEqual({ running: 0, queued: 0 });
    } finally {
      await slow.close();
      removeDir(slow.dataDir);
    }
  });

  it("turns away generations beyond the queue with 429", async () => {
    // Slow query embeddings hold the one generation slot long enough for the others to arrive.
    const tight = await startHarness(
      { maxConcurrentGenerations: 1, maxQueuedGenerations: 0 },
      undefined,
      new HashEmbeddings({ delayMs: 300 }),
    );
    try {
      const ask = () =>
        fetch(`${tight.running.url}/api/chat`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ message: "Why is attention scaled by the square root of the key dimension?" }),
        });
      const statuses = (await Promise.all(Array.from({ length: 8 }, ask))).map((r) => r.status);
      expect(statuses).toContain(200);
      expect(statuses).toContain(429);
      expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
    } finally {
      await tight.close();
      removeDir(tight.dataDir);
    }
  });
});

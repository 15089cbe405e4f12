import { describe, expect, it } from "vitest";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { removeDir, startHarness } from "./serverHarness.js";

// Issue 13 items 8 and 9: a full generation queue is a 429 on every route (streaming ones
// included, before any event is sent), each one counted, each labelled with its full route.

describe("an overloaded server", () => {
  it("answers 429 before streaming, counts every refusal and keeps route prefixes in metrics", async () => {
    // Slow query embeddings hold the one generation slot while the others arrive.
    const h = await startHarness(
      { maxConcurrentGenerations: 1, maxQueuedGenerations: 0 },
      undefined,
      new HashEmbeddings({ delayMs: 500 }),
    );
    const url = h.running.url;
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    try {
      const holding = post("/api/chat", { message: "Why is attention scaled?" });
      for (let tries = 0; tries < 200; tries++) {
        const health = (await (await fetch(`${url}/healthz`)).json()) as { generations: { running: number } };
        if (health.generations.running === 1) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const refused = [
        await post("/api/chat/stream", { message: "What does DDPM use?" }),
        await post("/v1/chat/completions", {
          model: "genera-rag",
          stream: true,
          messages: [{ role: "user", content: "What does DDPM use?" }],
        }),
        await post("/rag/stream", { input: "What does DDPM use?" }),
        await post("/rag/invoke", { input: "What does DDPM use?" }),
      ];
      for (const res of refused) {
        expect(res.status, res.url).toBe(429);
        expect(res.headers.get("content-type")).toMatch(/application\/json/);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
      }
      expect((await holding).status).toBe(200);

      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^genera_generations_rejected_total 4$/m);
      for (const route of ["/api/chat/stream", "/v1/chat/completions", "/rag/stream", "/rag/invoke"]) {
        expect(metrics).toContain(`genera_http_requests_total{method="POST",route="${route}",status="429"} 1`);
      }
      // The slot came back: a stream now streams.
      const ok = await post("/api/chat/stream", { message: "What does DDPM use?" });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/event: done/);
    } finally {
      await h.close();
      removeDir(h.dataDir);
    }
  });
});

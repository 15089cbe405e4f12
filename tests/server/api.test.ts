import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, parseSse, removeDir, startHarness } from "./serverHarness.js";

let h: Harness;
let url: string;
beforeAll(async () => {
  h = await startHarness();
  url = h.running.url;
});
afterAll(async () => {
  await h.close();
  removeDir(h.dataDir);
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("chat API", () => {
  it("answers with citations and keeps the session", async () => {
    const res = await post("/api/chat", { message: "What are the default betas of Adam?" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      answer: string;
      sources: Array<{ index: number; source: string }>;
      sessionId: string;
    };
    expect(body.answer).toMatch(/0\.9 and 0\.999/);
    expect(body.answer).toMatch(/\[1\]/);
    expect(body.sources[0]?.source).toBe("optimizers.md");
    const follow = await post("/api/chat", {
      message: "How many noise steps does DDPM use?",
      sessionId: body.sessionId,
    });
    expect(((await follow.json()) as { sessionId: string }).sessionId).toBe(body.sessionId);

    const list = (await (await fetch(`${url}/api/sessions`)).json()) as {
      sessions: Array<{ id: string; messages: number }>;
    };
    expect(list.sessions.find((s) => s.id === body.sessionId)?.messages).toBe(4);
    const one = (await (await fetch(`${url}/api/sessions/${body.sessionId}`)).json()) as {
      history: Array<{ role: string; content: string; sources?: unknown[] }>;
    };
    expect(one.history.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(one.history[1]?.sources?.length).toBeGreaterThan(0);

    const del = await fetch(`${url}/api/sessions/${body.sessionId}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect((await fetch(`${url}/api/sessions/${body.sessionId}`)).status).toBe(404);
  });

  it("streams tokens, sources and done as Server-Sent Events", async () => {
    const res = await post("/api/chat/stream", { message: "Why is dot-product attention scaled?" });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const events = parseSse(await res.text());
    const names = events.map((e) => e.event);
    expect(names).toContain("sources");
    expect(names.filter((n) => n === "token").length).toBeGreaterThan(3);
    expect(names[names.length - 1]).toBe("done");
    const text = events
      .filter((e) => e.event === "token")
      .map((e) => (e.data as { text: string }).text)
      .join("");
    expect(text).toMatch(/square root/);
    const done = events[events.length - 1]?.data as { sessionId: string; answer: string };
    expect(done.answer).toBe(text);
  });

  it("searches the index", async () => {
    const res = await fetch(`${url}/api/search?q=noise%20steps&k=2`);
    const body = (await res.json()) as { results: Array<{ source: string; score: number }> };
    expect(body.results[0]?.source).toBe("diffusion.md");
    expect(typeof body.results[0]?.score).toBe("number");
  });

  it("turns bad input into 4xx JSON errors, never a 500", async () => {
    const cases: Array<[Response, number, string]> = [
      [await post("/api/chat", "{not json"), 400, "INVALID_INPUT"],
      [await post("/api/chat", { message: 42 }), 400, "INVALID_INPUT"],
      [await post("/api/chat", { message: "   " }), 400, "INVALID_INPUT"],
      [await post("/api/chat", { message: "x".repeat(2_000_000) }), 413, "TOO_LARGE"],
      [await post("/api/chat", { message: "hi", sessionId: "00000000-0000-4000-8000-000000000000" }), 404, "NOT_FOUND"],
      [await fetch(`${url}/api/search?q=`), 400, "INVALID_INPUT"],
      [await fetch(`${url}/api/search?q=a&k=-3`), 400, "INVALID_INPUT"],
      [await fetch(`${url}/api/nope`), 404, "NOT_FOUND"],
      [await fetch(`${url}/api/documents/nothing-here.md`, { method: "DELETE" }), 404, "NOT_FOUND"],
    ];
    for (const [res, status, code] of cases) {
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: { code: string; message: string } }).error.code).toBe(code);
    }
  });

  it("rejects unsafe or unsupported uploads without storing anything", async () => {
    const before = await h.kb.stats();
    const upload = async (name: string, content = "hello") => {
      const form = new FormData();
      form.append("files", new Blob([content]), name);
      return fetch(`${url}/api/documents?wait=true`, { method: "POST", body: form });
    };
    for (const [name, status] of [
      ["../evil.md", 400],
      ["..", 400],
      [".hidden.md", 400],
      ["program.exe", 415],
    ] as const) {
      const res = await upload(name);
      expect(res.status).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/INVALID_INPUT|UNSUPPORTED_FILE/);
    }
    const empty = await fetch(`${url}/api/documents`, { method: "POST", body: new FormData() });
    expect(empty.status).toBe(400);
    expect(await h.kb.stats()).toEqual(before);
  });

  it("uploads a document, finds it, and deletes it", async () => {
    const form = new FormData();
    form.append(
      "files",
      new Blob(["# Capybaras\n\nThe capybara is the largest living rodent, weighing up to 66 kilograms.\n"]),
      "capybara.md",
    );
    const res = await fetch(`${url}/api/documents`, { method: "POST", body: form });
    expect(res.status).toBe(202);
    let job = (await res.json()) as { id: string; status: string; summary?: { added: number } };
    for (let i = 0; i < 100 && (job.status === "queued" || job.status === "indexing"); i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await (await fetch(`${url}/api/documents/jobs/${job.id}`)).json()) as typeof job;
    }
    expect(job.status).toBe("done");
    expect(job.summary?.added).toBe(1);
    const docs = (await (await fetch(`${url}/api/documents`)).json()) as {
      documents: Array<{ id: string; source: string }>;
    };
    const uploaded = docs.documents.find((d) => d.source === "capybara.md");
    expect(uploaded?.id).toBe(join(h.dataDir, "uploads", "capybara.md"));
    expect(existsSync(uploaded?.id as string)).toBe(true);
    const answer = (await (
      await post("/api/chat", { message: "How many kilograms can a capybara weigh?" })
    ).json()) as {
      answer: string;
      sources: Array<{ source: string }>;
    };
    expect(answer.answer).toMatch(/66 kilograms/);
    expect(answer.sources[0]?.source).toBe("capybara.md");
    expect((await fetch(`${url}/api/documents/capybara.md`, { method: "DELETE" })).status).toBe(204);
    // The uploaded file goes with its document: nothing brings it back at the next start.
    expect(existsSync(uploaded?.id as string)).toBe(false);
    const after = (await (await fetch(`${url}/api/search?q=capybara%20rodent&k=5`)).json()) as {
      results: Array<{ source: string }>;
    };
    expect(after.results.some((r) => r.source === "capybara.md")).toBe(false);
  });

  it("serves health and Prometheus metrics", async () => {
    const health = (await (await fetch(`${url}/healthz`)).json()) as { status: string; chunks: number };
    expect(health.status).toBe("ok");
    expect(health.chunks).toBeGreaterThan(0);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/genera_http_requests_total\{[^}]*route="\/api\/chat"/);
    expect(metrics).toMatch(/genera_http_request_duration_seconds_bucket/);
    expect(metrics).toMatch(/genera_tokens_streamed_total [1-9]/);
    expect(metrics).toMatch(/genera_documents_indexed_total [1-9]/);
  });

  it("serves the web UI with security headers", async () => {
    const res = await fetch(`${url}/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<title>genera/);
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });
});

describe("API key", () => {
  it("guards /api, /rag and /v1 but not health", async () => {
    const guarded = await startHarness({ apiKey: "s3cret" });
    try {
      const base = guarded.running.url;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      for (const path of ["/api/sessions", "/v1/models", "/rag/input_schema"]) {
        const res = await fetch(`${base}${path}`);
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
        expect((await fetch(`${base}${path}`, { headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
        expect((await fetch(`${base}${path}`, { headers: { Authorization: "Bearer s3cret" } })).status).toBe(200);
      }
    } finally {
      await guarded.close();
      removeDir(guarded.dataDir);
    }
  });
});

describe("sessions", () => {
  it("survive a restart", async () => {
    const first = await startHarness();
    const res = await fetch(`${first.running.url}/api/chat`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message: "What does DDPM stand for?" }),
    });
    const { sessionId } = (await res.json()) as { sessionId: string };
    await first.close();
    const second = await startHarness({}, first.dataDir);
    try {
      const session = (await (await fetch(`${second.running.url}/api/sessions/${sessionId}`)).json()) as {
        history: unknown[];
      };
      expect(session.history).toHaveLength(2);
    } finally {
      await second.close();
      removeDir(first.dataDir);
    }
  });
});

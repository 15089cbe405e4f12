import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, removeDir, startHarness } from "./serverHarness.js";

// Issue 13 items 2 and 8: hostile or malformed requests over real HTTP get a 4xx with
// a JSON error, never a 500, and never reach the index.

let h: Harness;
let url: URL;
beforeAll(async () => {
  h = await startHarness();
  url = new URL(h.running.url);
});
afterAll(async () => {
  await h.close();
  removeDir(h.dataDir);
});

interface RawResponse {
  status: number;
  body: string;
  json: () => { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** node:http, because fetch will not send a forged Host or a broken multipart body. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const BOUNDARY = "----genera-test-boundary";

/** A multipart body built by hand, so the file name bytes are exactly what a hostile client sends. */
function multipart(files: Array<{ name: string | Buffer; content: string }>): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="`));
    parts.push(typeof file.name === "string" ? Buffer.from(file.name, "utf8") : file.name);
    parts.push(Buffer.from(`"\r\nContent-Type: text/markdown\r\n\r\n${file.content}\r\n`));
  }
  parts.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(parts);
}

const multipartHeaders = { "Content-Type": `multipart/form-data; boundary=${BOUNDARY}` };

function upload(files: Array<{ name: string | Buffer; content: string }>, headers: Record<string, string> = {}) {
  return raw("POST", "/api/documents?wait=true", { ...multipartHeaders, ...headers }, multipart(files));
}

describe("malformed uploads are 4xx", () => {
  it("refuses broken multipart bodies", async () => {
    const before = (await h.kb.stats()).documents;
    const cases: Array<[string, Record<string, string>, string]> = [
      ["no boundary", { "Content-Type": "multipart/form-data" }, "x"],
      [
        "malformed part header",
        multipartHeaders,
        `--${BOUNDARY}\r\nthis line is not a header\r\n\r\nhello\r\n--${BOUNDARY}--\r\n`,
      ],
      [
        "unexpected end of form",
        multipartHeaders,
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="a.md"\r\n\r\nhello`,
      ],
    ];
    for (const [what, headers, body] of cases) {
      const res = await raw("POST", "/api/documents", headers, body);
      expect(res.status, what).toBe(400);
      expect(res.json().error?.code, what).toBe("INVALID_INPUT");
    }
    expect((await h.kb.stats()).documents).toBe(before);
  });

  it("refuses NUL bytes, over-long names, duplicates and empty files, and accepts a..b.md", async () => {
    const before = (await h.kb.stats()).documents;
    const cyrillic = `${"д".repeat(130)}.md`; // 263 bytes in UTF-8: over what file systems allow
    const cases: Array<[string, Array<{ name: string | Buffer; content: string }>]> = [
      ["NUL in the name", [{ name: Buffer.from("evil\u0000.md", "utf8"), content: "x" }]],
      ["name over 255 bytes", [{ name: cyrillic, content: "x" }]],
      [
        "one name twice",
        [
          { name: "twice.md", content: "first" },
          { name: "twice.md", content: "second" },
        ],
      ],
      ["zero-byte file", [{ name: "empty.md", content: "" }]],
    ];
    for (const [what, files] of cases) {
      const res = await upload(files);
      expect(res.status, what).toBe(400);
      const error = res.json().error;
      expect(error?.code, what).toBe("INVALID_INPUT");
    }
    expect((await h.kb.stats()).documents).toBe(before);

    const dots = await upload([{ name: "a..b.md", content: "# Dots\n\nTwo dots inside a name are not a path.\n" }]);
    expect(dots.status).toBe(200);
    expect((await h.kb.listSources()).map((s) => s.source)).toContain("a..b.md");
  });

  it("caps /v1/chat/completions questions like the other routes", async () => {
    const ask = (content: string) =>
      raw(
        "POST",
        "/v1/chat/completions",
        { "Content-Type": "application/json" },
        JSON.stringify({ model: "genera-rag", messages: [{ role: "user", content }] }),
      );
    const long = await ask("why ".repeat(2_500));
    expect(long.status).toBe(400);
    expect(long.json().error?.code).toBe("INVALID_INPUT");
    expect((await ask("What does DDPM use?")).status).toBe(200);
  });
});

describe("without an API key only this machine's names and pages get in", () => {
  it("refuses a Host that is not the server's (DNS rebinding)", async () => {
    const rebinding = await raw("GET", "/api/sessions", { Host: `attacker.example:${url.port}` });
    expect(rebinding.status).toBe(403);
    expect(rebinding.json().error?.code).toBe("FORBIDDEN");
    for (const host of [`127.0.0.1:${url.port}`, `localhost:${url.port}`, "localhost"]) {
      expect((await raw("GET", "/api/sessions", { Host: host })).status, host).toBe(200);
    }
  });

  it("refuses cross-site writes and keeps same-origin and non-browser clients working", async () => {
    const before = (await h.kb.stats()).documents;
    const file = [{ name: "csrf.md", content: "# Planted\n\nA page on another site wrote this.\n" }];
    const crossOrigin = await upload(file, { Origin: "https://attacker.example" });
    expect(crossOrigin.status).toBe(403);
    expect(crossOrigin.json().error?.code).toBe("FORBIDDEN");
    const crossSite = await upload(file, { "Sec-Fetch-Site": "cross-site", Origin: "https://attacker.example" });
    expect(crossSite.status).toBe(403);
    const nullOrigin = await upload(file, { Origin: "null" });
    expect(nullOrigin.status).toBe(403);
    const chat = await raw(
      "POST",
      "/api/chat",
      { "Content-Type": "text/plain", Origin: "https://attacker.example" },
      JSON.stringify({ message: "hi" }),
    );
    expect(chat.status).toBe(403);
    expect((await h.kb.stats()).documents).toBe(before);

    // The web UI: same origin, as a browser sends it.
    const page = await upload([{ name: "from-ui.md", content: "# UI\n\nUploaded from the page.\n" }], {
      Origin: url.origin,
      "Sec-Fetch-Site": "same-origin",
    });
    expect(page.status).toBe(200);
    // curl and other same-machine clients send no Origin at all.
    const curl = await upload([{ name: "from-curl.md", content: "# Curl\n\nUploaded by curl.\n" }]);
    expect(curl.status).toBe(200);
    // Reads stay open to any origin's simple GET (the browser keeps the answer from the page).
    expect((await raw("GET", "/healthz", { Origin: "https://attacker.example" })).status).toBe(200);
  });

  it("leaves Host and Origin alone when an API key guards the routes", async () => {
    const guarded = await startHarness({ apiKey: "k3y" });
    try {
      const port = new URL(guarded.running.url).port;
      const res = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port,
            path: "/api/sessions",
            headers: { Host: "genera.internal", Authorization: "Bearer k3y", Origin: "https://app.example" },
          },
          (r) => {
            r.resume();
            resolve(r.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(res).toBe(200);
    } finally {
      await guarded.close();
      removeDir(guarded.dataDir);
    }
  });

  it("accepts configured extra host names", async () => {
    const named = await startHarness({ allowedHosts: ["genera.lan"] });
    try {
      const port = new URL(named.running.url).port;
      const status = (host: string) =>
        new Promise<number>((resolve, reject) => {
          const req = request({ host: "127.0.0.1", port, path: "/api/sessions", headers: { Host: host } }, (r) => {
            r.resume();
            resolve(r.statusCode ?? 0);
          });
          req.on("error", reject);
          req.end();
        });
      expect(await status(`genera.lan:${port}`)).toBe(200);
      expect(await status("other.lan")).toBe(403);
    } finally {
      await named.close();
      removeDir(named.dataDir);
    }
  });
});

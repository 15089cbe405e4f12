import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown> | undefined;
}

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** The reply both fake servers give: the last user message echoed, so tests can predict it. */
export function replyFor(messages: Array<{ role: string; content: unknown }>): string {
  const last = [...messages].reverse().find((m) => m.role === "user");
  const text = typeof last?.content === "string" ? last.content : JSON.stringify(last?.content ?? "");
  return `You said: ${text.replace(/\s+/g, " ").slice(0, 200)}`;
}

export interface FakeServerOptions {
  /**
   * Time per generated piece, as a slow model would take: streams send a piece every
   * `pieceDelayMs`, JSON answers wait for all of them. Default 0.
   */
  pieceDelayMs?: number;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Writes the pieces one by one, `delayMs` apart, stopping when the client has gone. */
async function writePieces(res: ServerResponse, lines: string[], delayMs: number): Promise<boolean> {
  for (const line of lines) {
    if (delayMs > 0) await pause(delayMs);
    if (res.destroyed) return false;
    res.write(line);
  }
  return !res.destroyed;
}

/** Splits text into the pieces a server would stream (a word and its trailing space). */
export function tokenPieces(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown> | undefined) => unknown,
): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    readJson(req)
      .then((body) => {
        requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        return handler(req, res, body);
      })
      .catch((error: Error) => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: error.message } }));
      });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An OpenAI-compatible server as vLLM / llama.cpp speak it: GET /v1/models, POST
 * /v1/chat/completions (JSON, or SSE `data: {chunk}` lines ending in `data: [DONE]`).
 */
export function startOpenAiServer(models = ["tiny-chat"], options: FakeServerOptions = {}): Promise<FakeServer> {
  const delayMs = options.pieceDelayMs ?? 0;
  return listen(async (req, res, body) => {
    if (req.method === "GET" && req.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ object: "list", data: models.map((id) => ({ id, object: "model", owned_by: "test" })) }),
      );
      return;
    }
    if (req.method === "POST" && req.url === "/v1/chat/completions" && body) {
      const model = String(body.model);
      if (!models.includes(model)) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `model ${model} not found`, type: "invalid_request_error" } }));
        return;
      }
      const text = replyFor(body.messages as Array<{ role: string; content: unknown }>);
      const id = "chatcmpl-test";
      const created = Math.floor(Date.now() / 1000);
      const usage = { prompt_tokens: 7, completion_tokens: tokenPieces(text).length, total_tokens: 0 };
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      if (body.stream) {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const event = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
        const send = (payload: unknown) => res.write(event(payload));
        const base = { id, object: "chat.completion.chunk", created, model };
        send({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
        const pieces = tokenPieces(text).map((piece) =>
          event({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] }),
        );
        if (!(await writePieces(res, pieces, delayMs))) return;
        send({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
        if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) {
          send({ ...base, choices: [], usage });
        }
        res.end("data: [DONE]\n\n");
        return;
      }
      if (delayMs > 0) await pause(delayMs * tokenPieces(text).length);
      if (res.destroyed) return;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id,
          object: "chat.completion",
          created,
          model,
          choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
          usage,
        }),
      );
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
  });
}

/** An Ollama server: GET /api/tags, POST /api/chat streaming NDJSON (or one JSON when stream=false). */
export function startOllamaServer(models = ["tiny-llama"], options: FakeServerOptions = {}): Promise<FakeServer> {
  const delayMs = options.pieceDelayMs ?? 0;
  return listen(async (req, res, body) => {
    if (req.method === "GET" && req.url === "/api/tags") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          models: models.map((name) => ({ name: `${name}:latest`, model: `${name}:latest`, size: 1, digest: "x" })),
        }),
      );
      return;
    }
    if (req.method === "POST" && req.url === "/api/chat" && body) {
      const model = String(body.model).replace(/:latest$/, "");
      if (!models.includes(model)) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: `model "${model}" not found, try pulling it first` }));
        return;
      }
      const text = replyFor(body.messages as Array<{ role: string; content: unknown }>);
      const created_at = new Date().toISOString();
      const final = {
        model: body.model,
        created_at,
        message: { role: "assistant", content: "" },
        done: true,
        done_reason: "stop",
        total_duration: 1000,
        prompt_eval_count: 7,
        eval_count: tokenPieces(text).length,
      };
      if (body.stream === false) {
        if (delayMs > 0) await pause(delayMs * tokenPieces(text).length);
        if (res.destroyed) return;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ...final, message: { role: "assistant", content: text } }));
        return;
      }
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      const lines = tokenPieces(text).map(
        (piece) =>
          `${JSON.stringify({ model: body.model, created_at, message: { role: "assistant", content: piece }, done: false })}\n`,
      );
      if (!(await writePieces(res, lines, delayMs))) return;
      res.end(`${JSON.stringify(final)}\n`);
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: `no route ${req.method} ${req.url}` }));
  });
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Loopback servers that call tools the way OpenAI's and Ollama's chat APIs do. The script:
 * a user message "calc: EXPR" gets one `calculator` call with { expression: EXPR }; once
 * the last message is a tool result, the reply is "Result: <that result>".
 */
export interface ToolServer {
  url: string;
  bodies: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

type Msg = { role: string; content?: unknown; tool_calls?: unknown };

function decide(messages: Msg[]): { call?: { name: string; args: Record<string, unknown> }; text?: string } {
  const last = messages.at(-1);
  if (last?.role === "tool") return { text: `Result: ${String(last.content)}` };
  const user = [...messages].reverse().find((m) => m.role === "user");
  const match = /calc:\s*(.+)$/.exec(String(user?.content ?? ""));
  return match
    ? { call: { name: "calculator", args: { expression: match[1] as string } } }
    : { text: "No tools needed." };
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => void) {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {};
    bodies.push(body);
    handler(req, res, body);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function startOpenAiToolServer(): Promise<ToolServer> {
  let n = 0;
  return serve((req, res, body) => {
    if (req.method === "GET" && req.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: "tool-chat", object: "model", owned_by: "test" }] }));
      return;
    }
    const { call, text } = decide(body.messages as Msg[]);
    const base = { id: `chatcmpl-${++n}`, created: 1, model: String(body.model) };
    const toolCall = call && {
      id: `call_${n}`,
      type: "function",
      function: { name: call.name, arguments: JSON.stringify(call.args) },
    };
    if (body.stream) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      const send = (delta: unknown, finish: string | null) =>
        res.write(
          `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
        );
      send({ role: "assistant", content: call ? null : "" }, null);
      if (toolCall) {
        // Arguments arrive in pieces, as real servers send them.
        const args = toolCall.function.arguments;
        send(
          {
            tool_calls: [
              { index: 0, id: toolCall.id, type: "function", function: { name: call?.name, arguments: "" } },
            ],
          },
          null,
        );
        for (let i = 0; i < args.length; i += 5)
          send({ tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + 5) } }] }, null);
        send({}, "tool_calls");
      } else {
        for (const piece of (text ?? "").match(/\S+\s*/g) ?? []) send({ content: piece }, null);
        send({}, "stop");
      }
      res.end("data: [DONE]\n\n");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        ...base,
        object: "chat.completion",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: call ? null : text,
              ...(toolCall ? { tool_calls: [toolCall] } : {}),
            },
            finish_reason: call ? "tool_calls" : "stop",
          },
        ],
        usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
      }),
    );
  });
}

export function startOllamaToolServer(): Promise<ToolServer> {
  return serve((req, res, body) => {
    if (req.method === "GET" && req.url === "/api/tags") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ models: [{ name: "tool-llama:latest", model: "tool-llama:latest", size: 1, digest: "x" }] }),
      );
      return;
    }
    const { call, text } = decide(body.messages as Msg[]);
    const created_at = new Date().toISOString();
    // Ollama sends tool calls whole (arguments as an object) in one message, then the done line.
    const message = call
      ? { role: "assistant", content: "", tool_calls: [{ function: { name: call.name, arguments: call.args } }] }
      : { role: "assistant", content: text };
    const done = {
      model: body.model,
      created_at,
      message: { role: "assistant", content: "" },
      done: true,
      done_reason: "stop",
      eval_count: 3,
    };
    if (body.stream === false) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ...done, message }));
      return;
    }
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.write(`${JSON.stringify({ model: body.model, created_at, message, done: false })}\n`);
    res.end(`${JSON.stringify(done)}\n`);
  });
}

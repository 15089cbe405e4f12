import type { Response } from "express";

/** Opens a Server-Sent Events response; `send` writes one event, `close` ends it. */
export function openEventStream(res: Response): {
  send: (event: string, data: unknown) => void;
  close: () => void;
  closed: () => boolean;
} {
  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-cache, no-transform");
  res.setHeader("Connection", "keep-alive");
  res.setHeader("X-Accel-Buffering", "no");
  res.flushHeaders();
  let closed = false;
  res.on("close", () => {
    closed = true;
  });
  return {
    send(event, data) {
      if (closed) return;
      const payload = data === undefined ? "" : `data: ${JSON.stringify(data)}\n`;
      res.write(`event: ${event}\n${payload}\n`);
    },
    close() {
      if (!closed) res.end();
      closed = true;
    },
    closed: () => closed,
  };
}

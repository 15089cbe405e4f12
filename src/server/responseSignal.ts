import type { Response } from "express";

/**
 * A signal that fires when the response closes: the client went away, a timeout
 * answered for us, or the answer was sent. Work still running for it — a queued
 * or running generation — can stop then instead of holding a slot nobody awaits.
 */
export function responseSignal(res: Response): AbortSignal {
  const abort = new AbortController();
  res.on("close", () => abort.abort());
  return abort.signal;
}

import { parentPort } from "node:worker_threads";
import { GeneraError, isGeneraError } from "../src/errors.js";
import { type LoadFileOptions, loadFile } from "./loadFile.js";

/**
 * The parser thread's side of ParserThread: loads one file per message with the
 * in-process loaders and sends back plain documents (or the error's code and details).
 * Whatever a file costs happens here, under this thread's heap limit.
 */
export interface ParseRequest {
  id: number;
  absPath: string;
  options: Omit<LoadFileOptions, "bytes" | "isolate">;
  bytes: Uint8Array;
}

export type ParseResponse =
  | { id: number; docs: Array<{ pageContent: string; metadata: Record<string, unknown>; id?: string }> }
  | { id: number; error: { code: string; message: string; details?: Record<string, unknown> } };

const port = parentPort;
if (!port) throw new Error("parseWorker.ts must run inside a worker thread");

port.on("message", async (request: ParseRequest) => {
  let response: ParseResponse;
  try {
    const docs = await loadFile(request.absPath, { ...request.options, bytes: request.bytes, isolate: false });
    response = {
      id: request.id,
      docs: docs.map((d) => ({ pageContent: d.pageContent, metadata: d.metadata, id: d.id })),
    };
  } catch (error) {
    const g = isGeneraError(error)
      ? error
      : new GeneraError("FILE_UNREADABLE", error instanceof Error ? error.message : String(error));
    response = { id: request.id, error: { code: g.code, message: g.message, details: g.details } };
  }
  port.postMessage(response);
});
port.postMessage({ ready: true });

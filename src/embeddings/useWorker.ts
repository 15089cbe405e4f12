import { getPriority, setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { GeneraError } from "../errors.js";
import { loadUseLiteModel, type UseLiteLoadOptions } from "./loadUseLiteModel.js";

/**
 * Worker-thread side of the USE pool: loads its own copy of the model (a runtime
 * instance is single-threaded) and answers one batch per message. Vectors go back as transferred
 * Float32Array buffers, so nothing is copied on the way home.
 */
export interface EmbedRequest {
  id: number;
  texts: string[];
}

export type EmbedResponse =
  | { id: number; vectors: Float32Array }
  | { id: number; error: { message: string; code?: string; stack?: string } };

export type WorkerHello = { ready: true } | { ready: false; error: { message: string; code?: string } };

const port = parentPort;
if (!port) throw new Error("useWorker.ts must run inside a worker thread");

/** Only a GeneraError's code crosses over: Node's own codes (ERR_…) are not GeneraErrorCodes. */
function describe(error: unknown): { message: string; code?: string; stack?: string } {
  const e = error as { message?: unknown; stack?: unknown };
  return {
    message: typeof e?.message === "string" ? e.message : String(error),
    code: error instanceof GeneraError ? error.code : undefined,
    stack: typeof e?.stack === "string" ? e.stack : undefined,
  };
}

/**
 * Nice steps a background (indexing) worker runs below the process. On Linux the nice value
 * belongs to each thread and the threads a thread starts inherit it, so lowering it here, before
 * the model loads, covers onnxruntime's own threads too: searches (the main thread, the query
 * worker) then get the cores first, at weight ~9:1, and indexing takes what they leave.
 * Elsewhere setPriority(0) would change the whole process, so it is left alone there.
 */
const BACKGROUND_NICE_STEPS = 10;

if (workerData?.background === true && process.platform === "linux") {
  try {
    setPriority(0, Math.min(19, getPriority(0) + BACKGROUND_NICE_STEPS));
  } catch {
    // A sandbox that refuses it leaves indexing at the normal priority: slower searches, nothing lost.
  }
}

try {
  const model = await loadUseLiteModel((workerData?.modelOptions ?? {}) as UseLiteLoadOptions);
  port.on("message", async (request: EmbedRequest) => {
    try {
      const vectors = await model.embedBatch(request.texts);
      port.postMessage({ id: request.id, vectors } satisfies EmbedResponse, [vectors.buffer as ArrayBuffer]);
    } catch (error) {
      port.postMessage({ id: request.id, error: describe(error) } satisfies EmbedResponse);
    }
  });
  port.postMessage({ ready: true } satisfies WorkerHello);
} catch (error) {
  port.postMessage({ ready: false, error: describe(error) } satisfies WorkerHello);
}

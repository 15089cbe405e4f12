import type { Worker } from "node:worker_threads";
import { Document } from "@langchain/core/documents";
import { GeneraError, type GeneraErrorCode } from "../src/errors.js";
import { startModuleWorker } from "../src/util/moduleWorker.js";
import { fileError } from "./fileError.js";
import type { LoadFileOptions } from "./loadFile.js";
import type { LoadLimits } from "./loadLimits.js";
import type { ParseRequest, ParseResponse } from "./parseWorker.js";

/** A parser thread nobody used for this long is stopped, giving back what the parsers loaded. */
const IDLE_STOP_MS = 60_000;

/**
 * One worker thread that parses the formats whose cost is not bounded by their size on
 * disk (DOCX, PDF, CSV, JSON, gzip), one file at a time, under a heap limit and a time
 * limit. A file that overruns either kills only that thread: the file fails with
 * TOO_LARGE and the next file gets a fresh thread, while the caller's thread (the
 * server answering requests) never sees the parse at all.
 */
export class ParserThread {
  private worker?: Worker;
  private ready?: Promise<void>;
  private nextId = 1;
  private chain: Promise<unknown> = Promise.resolve();
  private idleTimer?: NodeJS.Timeout;

  constructor(readonly memoryMb: number) {}

  /** Loads one file in the thread; calls run one after another. */
  parse(absPath: string, bytes: Uint8Array, options: LoadFileOptions, limits: LoadLimits): Promise<Document[]> {
    const run = this.chain.then(() => this.parseNow(absPath, bytes, options, limits));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stops the thread (a later parse starts a new one). */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    await worker?.terminate();
  }

  private start(): { worker: Worker; ready: Promise<void> } {
    if (this.worker && this.ready) return { worker: this.worker, ready: this.ready };
    const worker = startModuleWorker(
      new URL("./parseWorker.ts", import.meta.url),
      {},
      // The young generation is capped too: otherwise V8 sizes it from the machine's memory.
      { resourceLimits: { maxOldGenerationSizeMb: this.memoryMb, maxYoungGenerationSizeMb: 32 } },
    );
    const ready = new Promise<void>((resolve, reject) => {
      worker.once("message", () => resolve());
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the parser thread exited with code ${code} while starting`)));
    });
    ready.catch(() => undefined);
    this.worker = worker;
    this.ready = ready;
    return { worker, ready };
  }

  private async parseNow(
    absPath: string,
    bytes: Uint8Array,
    options: LoadFileOptions,
    limits: LoadLimits,
  ): Promise<Document[]> {
    clearTimeout(this.idleTimer);
    const { worker, ready } = this.start();
    worker.ref();
    try {
      try {
        await ready;
      } catch (error) {
        await this.kill(worker);
        throw fileError("FILE_UNREADABLE", absPath, `the parser thread could not start (${(error as Error).message})`);
      }
      const id = this.nextId++;
      // Only plain data crosses: models and callbacks (speech, captions) stay in this thread.
      const { bytes: _bytes, isolate: _isolate, audio: _audio, image, ...plain } = options;
      const request: ParseRequest = {
        id,
        absPath,
        options: { ...plain, image: { embedded: image?.embedded }, describeImages: false },
        bytes,
      };
      const response = await new Promise<ParseResponse>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            fileError(
              "TOO_LARGE",
              absPath,
              `parsing took longer than ${Math.round(limits.parseTimeoutMs / 1000)} s; stopped`,
            ),
          );
          void this.kill(worker);
        }, limits.parseTimeoutMs);
        const onMessage = (message: ParseResponse) => {
          if (message.id !== id) return;
          done();
          resolve(message);
        };
        const onError = (error: Error & { code?: string }) => {
          done();
          const outOfMemory = error.code === "ERR_WORKER_OUT_OF_MEMORY";
          reject(
            outOfMemory
              ? fileError(
                  "TOO_LARGE",
                  absPath,
                  `parsing needed more than ${this.memoryMb} MiB of memory; stopped`,
                  error,
                )
              : fileError("FILE_UNREADABLE", absPath, `the parser failed (${error.message})`, error),
          );
          void this.kill(worker);
        };
        const onExit = (code: number) => {
          done();
          reject(fileError("FILE_UNREADABLE", absPath, `the parser thread exited (code ${code})`));
          void this.kill(worker);
        };
        const done = () => {
          clearTimeout(timer);
          worker.off("message", onMessage);
          worker.off("error", onError);
          worker.off("exit", onExit);
        };
        worker.on("message", onMessage);
        worker.once("error", onError);
        worker.once("exit", onExit);
        worker.postMessage(request);
      });
      if ("error" in response) {
        const { code, message, details } = response.error;
        throw new GeneraError(code as GeneraErrorCode, message, { details });
      }
      return response.docs.map((d) => new Document(d));
    } finally {
      if (this.worker === worker) {
        worker.unref();
        this.idleTimer = setTimeout(() => void this.close(), IDLE_STOP_MS);
        this.idleTimer.unref();
      }
    }
  }

  private async kill(worker: Worker): Promise<void> {
    if (this.worker === worker) {
      this.worker = undefined;
      this.ready = undefined;
    }
    await worker.terminate().catch(() => undefined);
  }
}

let shared: ParserThread | undefined;

/** The process's parser thread (a new one when a different heap limit is asked for). */
export function parserThread(memoryMb: number): ParserThread {
  if (shared?.memoryMb !== memoryMb) {
    void shared?.close();
    shared = new ParserThread(memoryMb);
  }
  return shared;
}

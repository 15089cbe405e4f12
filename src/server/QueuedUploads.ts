import { randomUUID } from "node:crypto";
import { basename, join } from "node:path";
import type { IndexJobStatus, IndexQueue } from "../queue/IndexQueue.js";
import { isUpload, type UploadJob, type UploadJobs } from "./UploadQueue.js";

/**
 * Uploads indexed by `genera worker` processes: each upload is one job on the shared BullMQ
 * queue, committed to Redis before the 202 goes out, so any replica can report it and any worker
 * can index it (the workers read the files where this server wrote them: the same machine, or a
 * volume they share). Nothing runs in this process.
 */
export class QueuedUploads implements UploadJobs {
  private stopped?: () => void;
  private readonly stopping = new Promise<void>((resolve) => {
    this.stopped = resolve;
  });

  constructor(
    private readonly queue: IndexQueue,
    private readonly uploadsDir: string,
  ) {}

  async enqueue(names: string[]): Promise<UploadJob> {
    const id = randomUUID();
    await this.queue.add([{ paths: names.map((name) => join(this.uploadsDir, name)), root: this.uploadsDir }], [id]);
    return { id, status: "queued", files: names, filesDone: 0, chunksDone: 0 };
  }

  async get(id: string): Promise<UploadJob | undefined> {
    const status = await this.queue.status(id);
    return status && uploadJob(status);
  }

  async wait(id: string): Promise<UploadJob> {
    const finished = this.queue.follow([id]).then(([status]) => uploadJob(status as IndexJobStatus));
    const stopped = this.stopping.then(async () => (await this.get(id)) as UploadJob);
    return Promise.race([finished, stopped]);
  }

  async stop(): Promise<void> {
    this.stopped?.();
    await this.queue.close();
  }

  holds(path: string): boolean {
    return isUpload(this.uploadsDir, path);
  }
}

/** A queue job as the upload API shows it (the same shape as the in-process queue's jobs). */
function uploadJob(status: IndexJobStatus): UploadJob {
  const s = status.summary;
  return {
    id: status.id,
    status: status.state,
    files: status.data.paths.map((path) => basename(path)),
    filesDone: s ? s.added + s.updated + s.unchanged + s.failed : (status.progress?.filesDone ?? 0),
    chunksDone: s ? s.chunksAdded : (status.progress?.chunksDone ?? 0),
    ...(status.state === "indexing" && status.progress
      ? {
          progress: {
            filesTotal: status.progress.filesTotal,
            chunksEmbedded: status.progress.chunksEmbedded,
            chunksSplit: status.progress.chunksSplit,
          },
        }
      : {}),
    ...(s ? { summary: s } : {}),
    ...(s?.failed
      ? {
          error: {
            code: s.failures[0]?.code ?? "FILE_UNREADABLE",
            message: s.failures.map((f) => `${f.path}: ${f.reason}`).join("; "),
          },
        }
      : status.state === "failed"
        ? { error: { code: "INTERNAL", message: status.error ?? "indexing failed" } }
        : {}),
  };
}

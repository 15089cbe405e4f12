import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import Database from "better-sqlite3";
import type { GeneraError } from "../errors.js";
import type { IndexSummary, KnowledgeBase } from "../knowledge/KnowledgeBase.js";
import type { ServerMetrics } from "./metrics.js";

export interface UploadJob {
  id: string;
  status: "queued" | "indexing" | "done" | "failed";
  files: string[];
  filesDone: number;
  chunksDone: number;
  /** While indexing: the run's progress inside its files (chunks embedded of those split so far). */
  progress?: { filesTotal: number; chunksEmbedded: number; chunksSplit: number };
  summary?: IndexSummary;
  error?: { code: string; message: string };
}

/**
 * Where acknowledged uploads wait to be indexed: in this process (UploadQueue, SQLite in the
 * uploads folder) or on the shared BullMQ queue for `genera worker` processes (QueuedUploads).
 */
export interface UploadJobs {
  /** The files (already written under the uploads folder) become one job, durable once this resolves. */
  enqueue(names: string[]): Promise<UploadJob>;
  get(id: string): Promise<UploadJob | undefined>;
  /** Resolves when the job is done or failed (or, when the server stops first, as it stands then). */
  wait(id: string): Promise<UploadJob>;
  stop(): Promise<void>;
  /** Whether `path` is an uploaded file (so removing its document also removes the file). */
  holds(path: string): boolean;
}

export interface UploadQueueOptions {
  kb: KnowledgeBase;
  /** Where uploaded files live; the queue's database sits inside it as a hidden file. */
  uploadsDir: string;
  metrics?: ServerMetrics;
  log?: (line: string) => void;
  /** Runs after a job's files are in the knowledge base (the image index adds its picture vectors). */
  afterIndex?: (paths: string[]) => Promise<void>;
}

/** Finished jobs remembered for GET /api/documents/jobs/:id; older ones are forgotten. */
const KEPT_JOBS = 200;
const QUEUE_FILE = ".jobs.sqlite";

interface JobRow {
  id: string;
  status: UploadJob["status"];
  files: string;
  files_done: number;
  chunks_done: number;
  summary: string | null;
  error: string | null;
}

/**
 * Uploads waiting to be indexed, kept in SQLite so that an upload acknowledged with 202 is
 * indexed even if the server stops first: its job is committed before the answer goes out,
 * and start-up resumes every job not finished. One job runs at a time, through the knowledge
 * base's write queue; `stop` aborts it between batches and leaves it queued for next time.
 *
 * Start-up also re-indexes the uploads folder itself (unchanged files cost a stat), so the
 * files on disk stay the truth for uploads even if the index folder was lost.
 */
export class UploadQueue implements UploadJobs {
  private readonly db: Database.Database;
  private readonly jobs = new Map<string, UploadJob>();
  private readonly waiting: string[] = [];
  private readonly finished = new Map<string, Array<(job: UploadJob) => void>>();
  private running?: Promise<void>;
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(private readonly options: UploadQueueOptions) {
    mkdirSync(options.uploadsDir, { recursive: true });
    this.db = new Database(join(options.uploadsDir, QUEUE_FILE));
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        files TEXT NOT NULL,
        files_done INTEGER NOT NULL DEFAULT 0,
        chunks_done INTEGER NOT NULL DEFAULT 0,
        summary TEXT,
        error TEXT
      );
    `);
    const rows = this.db.prepare("SELECT * FROM jobs ORDER BY seq").all() as JobRow[];
    for (const row of rows) {
      const job: UploadJob = {
        id: row.id,
        status: row.status === "indexing" ? "queued" : row.status,
        files: JSON.parse(row.files) as string[],
        filesDone: row.files_done,
        chunksDone: row.chunks_done,
        ...(row.summary ? { summary: JSON.parse(row.summary) as IndexSummary } : {}),
        ...(row.error ? { error: JSON.parse(row.error) as UploadJob["error"] } : {}),
      };
      this.jobs.set(job.id, job);
      if (job.status === "queued") this.waiting.push(job.id);
    }
    if (this.waiting.length) options.log?.(`uploads: resuming ${this.waiting.length} queued upload job(s)`);
    this.rescan();
    this.pump();
  }

  /** Files of the upload (already written under uploadsDir) become a job, committed before this returns. */
  async enqueue(names: string[]): Promise<UploadJob> {
    const job: UploadJob = { id: randomUUID(), status: "queued", files: names, filesDone: 0, chunksDone: 0 };
    this.db.prepare("INSERT INTO jobs (id, status, files) VALUES (?, 'queued', ?)").run(job.id, JSON.stringify(names));
    this.jobs.set(job.id, job);
    this.waiting.push(job.id);
    this.forgetOldJobs();
    this.pump();
    return job;
  }

  async get(id: string): Promise<UploadJob | undefined> {
    return this.jobs.get(id);
  }

  wait(id: string): Promise<UploadJob> {
    const job = this.jobs.get(id);
    if (!job || job.status === "done" || job.status === "failed") return Promise.resolve(job as UploadJob);
    return new Promise((resolve) => {
      const list = this.finished.get(id) ?? [];
      list.push(resolve);
      this.finished.set(id, list);
    });
  }

  /** Stops between batches: the job in progress keeps what it committed and stays queued for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
    // Requests waiting on a job that will finish after the restart get it as it stands (queued).
    for (const [id, waiters] of this.finished) for (const resolve of waiters) resolve(this.jobs.get(id) as UploadJob);
    this.finished.clear();
    this.db.close();
  }

  private rescan(): void {
    const { kb, uploadsDir } = this.options;
    // An atomic write a crash interrupted (name.<pid>.<hex>.tmp): never acknowledged, never complete.
    for (const name of readdirSync(uploadsDir)) {
      if (/\.\d+\.[0-9a-f]+\.tmp$/.test(name)) rmSync(join(uploadsDir, name), { force: true });
    }
    // Hidden files (the queue itself) are never listed; *.tmp are writes a crash interrupted.
    const done = kb.index([uploadsDir], { include: [], exclude: ["*.tmp"], signal: this.abort.signal });
    done.then(
      (s) => {
        if (s.added || s.updated || s.deleted) {
          this.options.log?.(`uploads: re-indexed ${s.added + s.updated} and removed ${s.deleted} from ${uploadsDir}`);
        }
      },
      (error: unknown) => this.options.log?.(`uploads: re-indexing ${uploadsDir} failed: ${(error as Error).message}`),
    );
  }

  private pump(): void {
    if (this.running || this.stopped) return;
    const id = this.waiting.shift();
    if (id === undefined) return;
    this.running = this.run(this.jobs.get(id) as UploadJob).finally(() => {
      this.running = undefined;
      this.pump();
    });
  }

  private async run(job: UploadJob): Promise<void> {
    const paths = job.files.map((name) => join(this.options.uploadsDir, name));
    try {
      const summary = await this.options.kb.index(paths, {
        // The configured chunking applies; folder include/exclude globs do not: the user chose these files.
        include: [],
        exclude: [],
        cleanup: "none",
        signal: this.abort.signal,
        onProgress: (e) => {
          job.status = "indexing";
          job.filesDone = e.filesDone;
          job.chunksDone = e.chunksDone;
          job.progress = { filesTotal: e.filesTotal, chunksEmbedded: e.chunksEmbedded, chunksSplit: e.chunksSplit };
        },
      });
      if (summary.aborted) {
        job.status = "queued";
        return;
      }
      await this.options.afterIndex?.(paths);
      job.status = summary.failed === job.files.length ? "failed" : "done";
      job.summary = summary;
      this.options.metrics?.documentsIndexed.inc(summary.added + summary.updated);
      if (summary.failed) {
        job.error = {
          code: summary.failures[0]?.code ?? "FILE_UNREADABLE",
          message: summary.failures.map((f) => `${f.path}: ${f.reason}`).join("; "),
        };
        // A file that cannot be indexed is not kept: it would fail again at every start.
        for (const f of summary.failures) rmSync(join(this.options.uploadsDir, f.path), { force: true });
      }
    } catch (error) {
      if (!(error instanceof Error) || !this.abort.signal.aborted) {
        job.status = "failed";
        job.error = { code: (error as GeneraError).code ?? "INTERNAL", message: (error as Error).message };
      } else {
        job.status = "queued";
        return;
      }
    }
    this.db
      .prepare("UPDATE jobs SET status = ?, files_done = ?, chunks_done = ?, summary = ?, error = ? WHERE id = ?")
      .run(
        job.status,
        job.filesDone,
        job.chunksDone,
        job.summary ? JSON.stringify(job.summary) : null,
        job.error ? JSON.stringify(job.error) : null,
        job.id,
      );
    for (const resolve of this.finished.get(job.id) ?? []) resolve(job);
    this.finished.delete(job.id);
  }

  private forgetOldJobs(): void {
    if (this.jobs.size <= KEPT_JOBS) return;
    // Map order is oldest first; only finished jobs are forgotten.
    for (const [id, old] of this.jobs) {
      if (this.jobs.size <= KEPT_JOBS) break;
      if (old.status === "done" || old.status === "failed") {
        this.jobs.delete(id);
        this.db.prepare("DELETE FROM jobs WHERE id = ?").run(id);
      }
    }
  }

  holds(path: string): boolean {
    return isUpload(this.options.uploadsDir, path);
  }
}

/** Whether `path` is a file directly inside the uploads folder. */
export function isUpload(uploadsDir: string, path: string): boolean {
  const rel = relative(uploadsDir, path);
  return rel !== "" && !rel.startsWith("..") && !rel.includes("/") && !rel.includes("\\");
}

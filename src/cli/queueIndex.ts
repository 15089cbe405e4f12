import { resolve } from "node:path";
import { walkFiles } from "../../loaders/DirectoryLoader.js";
import type { GeneraConfig } from "../config.js";
import type { IndexSummary } from "../knowledge/KnowledgeBase.js";
import type { IndexJobProgress } from "../queue/IndexQueue.js";
import { createProgressReporter } from "./progress.js";

export interface QueuedIndexResult {
  jobs: number;
  /** The workers' summaries added up (undefined with `wait: false`). */
  summary?: Pick<
    IndexSummary,
    "added" | "updated" | "unchanged" | "failed" | "failures" | "chunksAdded" | "chunksDeleted"
  >;
  /** Jobs that failed after their last attempt (the database unreachable, say), with why. */
  jobFailures: Array<{ path: string; reason: string }>;
  skipped: Array<{ path: string; reason: string }>;
}

/**
 * `genera index --queue`: lists the files as `genera index` would, adds one BullMQ job per file,
 * then (unless `wait` is false) follows the workers' progress and per-file failures to the end.
 */
export async function enqueueIndex(
  config: GeneraConfig,
  url: string,
  paths: string[],
  options: { wait: boolean },
): Promise<QueuedIndexResult> {
  const { IndexQueue } = await import("../queue/IndexQueue.js");
  const skipped: QueuedIndexResult["skipped"] = [];
  const jobs = [];
  for await (const file of walkFiles(paths, {
    include: config.ingest.include,
    exclude: config.ingest.exclude,
    maxFileBytes: config.ingest.maxFileBytes,
    onSkip: (path, reason) => skipped.push({ path, reason }),
  })) {
    jobs.push({
      paths: [file.absPath],
      root: resolve(file.root),
      chunkSize: config.ingest.chunkSize,
      chunkOverlap: config.ingest.chunkOverlap,
    });
  }
  const queue = await IndexQueue.open(url);
  try {
    // Listening starts before the jobs exist, so no worker finishes one unseen.
    if (options.wait) await queue.listen();
    const ids = await queue.add(jobs);
    process.stderr.write(`queued ${ids.length} file(s) on ${new URL(url).host}\n`);
    const result: QueuedIndexResult = { jobs: ids.length, jobFailures: [], skipped };
    if (!options.wait) return result;
    const summary: NonNullable<QueuedIndexResult["summary"]> = {
      added: 0,
      updated: 0,
      unchanged: 0,
      failed: 0,
      failures: [],
      chunksAdded: 0,
      chunksDeleted: 0,
    };
    const running = new Map<string, IndexJobProgress>();
    let finished = 0;
    let chunksFinished = 0;
    const progress = createProgressReporter("indexing (queue)");
    const show = () => {
      let chunks = chunksFinished;
      for (const p of running.values()) chunks += p.chunksDone;
      progress.update({ done: finished, total: ids.length, fields: { chunks, "working on": running.size } });
    };
    try {
      await queue.follow(ids, {
        onProgress: (id, p) => {
          running.set(id, p);
          show();
        },
        onFinished: (status) => {
          running.delete(status.id);
          finished++;
          const s = status.summary;
          if (status.state === "failed" && !s) {
            result.jobFailures.push({ path: status.data.paths.join(", "), reason: status.error ?? "failed" });
          } else if (s) {
            summary.added += s.added;
            summary.updated += s.updated;
            summary.unchanged += s.unchanged;
            summary.failed += s.failed;
            summary.failures.push(...s.failures);
            summary.chunksAdded += s.chunksAdded;
            summary.chunksDeleted += s.chunksDeleted;
            chunksFinished += s.chunksAdded;
          }
          show();
        },
      });
    } finally {
      progress.stop();
    }
    result.summary = summary;
    return result;
  } finally {
    await queue.close();
  }
}

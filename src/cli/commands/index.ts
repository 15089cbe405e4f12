import type { Command } from "commander";
import type { GeneraConfig } from "../../config.js";
import { GeneraError } from "../../errors.js";
import { indexWithProgress, loadCliConfig, openKnowledgeBase } from "../context.js";
import { numberFlag, queueFlag } from "../flags.js";

/** Exit code for a run that indexed what it could but reported unreadable files. */
export const EXIT_PARTIAL = 3;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  program
    .command("index")
    .description("index files, folders or globs; re-runs only touch what changed")
    .argument("<paths...>", "files, folders or globs to index")
    .option("--store <dir>", "index folder (default <dataDir>/index)")
    .option("--include <glob>", "only files matching this glob (repeatable)", collect)
    .option("--exclude <glob>", "skip files matching this glob (repeatable)", collect)
    .option("--chunk-size <n>", "chunk size in characters", numberFlag("--chunk-size", { integer: true, min: 1 }))
    .option(
      "--chunk-overlap <n>",
      "overlap between chunks in characters",
      numberFlag("--chunk-overlap", { integer: true, min: 0 }),
    )
    .option("--no-cleanup", "keep chunks of files that were deleted")
    .option("--prune", "also remove stored files outside these paths and filters (the store mirrors this run)")
    .option("--json", "print the summary as one JSON object")
    .option(
      "--queue <url>",
      "enqueue the files on this Redis (redis://…) for `genera worker` processes instead",
      queueFlag,
    )
    .option("--no-wait", "with --queue: return once the jobs are queued, without following them")
    .action(async (paths: string[], opts, command: Command) => {
      const config = loadCliConfig(command, {
        ingest: {
          chunkSize: opts.chunkSize,
          chunkOverlap: opts.chunkOverlap,
          include: opts.include,
          exclude: opts.exclude,
        },
        // Only an explicit --queue enqueues (GENERA_QUEUE_URL is for serve and worker); validated here.
        queue: { url: opts.queue },
      });
      if (opts.queue && config.queue.url) {
        await indexOnQueue(config, config.queue.url, paths, opts);
        return;
      }
      // The image index opens at the first image this run meets (one already on disk at once), so a
      // run over text alone never loads the image stack; the text index hands it the images it finds
      // inside PDFs and DOCX.
      const { DeferredImageIndex, indexImagesWithProgress } = await import("../imageIndex.js");
      const imageIndex = config.multimodal.images ? await DeferredImageIndex.create(config, opts.store) : undefined;
      let kb: Awaited<ReturnType<typeof openKnowledgeBase>>;
      try {
        kb = await openKnowledgeBase(config, { store: opts.store, images: imageIndex });
      } catch (error) {
        await imageIndex?.close();
        throw error;
      }
      try {
        const cleanup = opts.cleanup === false ? "none" : opts.prune ? "all" : "scoped";
        const summary = await indexWithProgress(kb, paths, cleanup);
        // Images also get a vector of their picture in the image index (`genera search --images`).
        // Its cleanup works by whole roots, so it only removes anything under --prune.
        const images = imageIndex
          ? await indexImagesWithProgress(config, paths, {
              store: opts.store,
              cleanup: cleanup === "all" ? "full" : "none",
              // Not opened yet: opened there only if the paths hold images.
              index: imageIndex.opened ? await imageIndex.get() : undefined,
            })
          : undefined;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...summary, stats: await kb.stats(), images })}\n`);
        } else {
          const s = summary;
          process.stdout.write(
            `added ${s.added}, updated ${s.updated}, unchanged ${s.unchanged}, deleted ${s.deleted}, failed ${s.failed}, skipped ${s.skipped.length}` +
              ` — ${s.chunksAdded} chunks added, ${s.chunksDeleted} removed in ${s.seconds.toFixed(1)} s\n`,
          );
          for (const path of s.removed) process.stdout.write(`removed: ${path}\n`);
          for (const f of s.failures) process.stderr.write(`failed: ${f.path}: ${f.reason} [${f.code}]\n`);
          for (const f of s.skipped) process.stderr.write(`skipped: ${f.path}: ${f.reason}\n`);
          if (images && images.added + images.updated + images.deleted + images.failed > 0) {
            process.stdout.write(
              `images: added ${images.added}, updated ${images.updated}, unchanged ${images.unchanged}, deleted ${images.deleted}, failed ${images.failed}\n`,
            );
          }
        }
        if (summary.failed > 0 || (images?.failed ?? 0) > 0) process.exitCode = EXIT_PARTIAL;
      } finally {
        await kb.close();
        await imageIndex?.close();
      }
    });
}

/** `--queue`: the workers index; this run lists, enqueues and reports what they did. */
async function indexOnQueue(
  config: GeneraConfig,
  url: string,
  paths: string[],
  opts: { wait?: boolean; json?: boolean; cleanup?: boolean; prune?: boolean },
): Promise<void> {
  if (opts.prune) {
    throw new GeneraError(
      "INVALID_INPUT",
      "--prune removes files, which queued workers do not do: run it without --queue",
    );
  }
  const { enqueueIndex } = await import("../queueIndex.js");
  const result = await enqueueIndex(config, url, paths, { wait: opts.wait !== false });
  const s = result.summary;
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if (s) {
    process.stdout.write(
      `added ${s.added}, updated ${s.updated}, unchanged ${s.unchanged}, failed ${s.failed + result.jobFailures.length}` +
        ` — ${s.chunksAdded} chunks added by the workers\n`,
    );
    for (const f of s.failures) process.stderr.write(`failed: ${f.path}: ${f.reason} [${f.code}]\n`);
    for (const f of result.jobFailures) process.stderr.write(`failed: ${f.path}: ${f.reason}\n`);
    for (const f of result.skipped) process.stderr.write(`skipped: ${f.path}: ${f.reason}\n`);
  } else {
    process.stdout.write(`queued ${result.jobs} job(s)\n`);
  }
  if ((s?.failed ?? 0) + result.jobFailures.length > 0) process.exitCode = EXIT_PARTIAL;
}

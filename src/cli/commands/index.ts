import type { Command } from "commander";
import { indexWithProgress, loadCliConfig, openKnowledgeBase } from "../context.js";
import { numberFlag } from "../flags.js";

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
    .option("--json", "print the summary as one JSON object")
    .action(async (paths: string[], opts, command: Command) => {
      const config = loadCliConfig(command, {
        ingest: {
          chunkSize: opts.chunkSize,
          chunkOverlap: opts.chunkOverlap,
          include: opts.include,
          exclude: opts.exclude,
        },
      });
      const kb = await openKnowledgeBase(config, { store: opts.store });
      try {
        const summary = await indexWithProgress(kb, paths, opts.cleanup === false ? "none" : "full");
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...summary, stats: kb.stats() })}\n`);
        } else {
          const s = summary;
          process.stdout.write(
            `added ${s.added}, updated ${s.updated}, unchanged ${s.unchanged}, deleted ${s.deleted}, failed ${s.failed}` +
              ` — ${s.chunksAdded} chunks added, ${s.chunksDeleted} removed in ${s.seconds.toFixed(1)} s\n`,
          );
          for (const f of s.failures) process.stderr.write(`failed: ${f.path}: ${f.reason} [${f.code}]\n`);
        }
        if (summary.failed > 0) process.exitCode = EXIT_PARTIAL;
      } finally {
        await kb.close();
      }
    });
}

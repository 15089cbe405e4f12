import type { Command } from "commander";
import { loadCliConfig, openKnowledgeBase } from "../context.js";

export function register(program: Command): void {
  program
    .command("stats")
    .description("documents, chunks, model, dimension and index size")
    .option("--store <dir>", "index folder (default <dataDir>/index)")
    .option("--json", "print one JSON object")
    .action(async (opts, command: Command) => {
      const config = loadCliConfig(command);
      const kb = await openKnowledgeBase(config, { store: opts.store });
      try {
        const stats = kb.stats();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(stats)}\n`);
          return;
        }
        const mib = (stats.indexBytes / 1024 / 1024).toFixed(2);
        process.stdout.write(
          `documents  ${stats.documents}\nchunks     ${stats.chunks}\nmodel      ${stats.model}\n` +
            `dimension  ${stats.dimension ?? "-"}\nindex size ${mib} MiB\nlocation   ${stats.dir}\n`,
        );
      } finally {
        await kb.close();
      }
    });
}

import type { Command } from "commander";
import type { GeneraConfig } from "../../config.js";
import { readStoreSummary } from "../../knowledge/storeFiles.js";
import { loadCliConfig, openKnowledgeBase, storeDir } from "../context.js";

export function register(program: Command): void {
  program
    .command("stats")
    .description("documents, chunks, model, dimension and index size")
    .option("--store <dir>", "index folder (default <dataDir>/index)")
    .option("--json", "print one JSON object")
    .action(async (opts, command: Command) => {
      const config = loadCliConfig(command);
      const dir = storeDir(config, opts.store);
      // Read from the database alone: no embedding model, graph or keyword postings to load.
      const stats = (config.databaseUrl && !opts.store ? await postgresStats(config) : await readStoreSummary(dir)) ?? {
        documents: 0,
        chunks: 0,
        model: undefined,
        dimension: undefined,
        indexBytes: 0,
        dir,
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(stats)}\n`);
        return;
      }
      const mib = (stats.indexBytes / 1024 / 1024).toFixed(2);
      process.stdout.write(
        `documents  ${stats.documents}\nchunks     ${stats.chunks}\nmodel      ${stats.model ?? "-"}\n` +
          `dimension  ${stats.dimension ?? "-"}\nindex size ${mib} MiB\nlocation   ${stats.dir}\n`,
      );
    });
}

/** The knowledge base in Postgres: counted by the server (opening it loads no graph or postings). */
async function postgresStats(config: GeneraConfig) {
  const kb = await openKnowledgeBase(config);
  try {
    return await kb.stats();
  } finally {
    await kb.close();
  }
}

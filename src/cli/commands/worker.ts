import type { Command } from "commander";
import { GeneraError } from "../../errors.js";
import type { IndexWorker as Worker } from "../../queue/IndexWorker.js";
import { loadCliConfig, openKnowledgeBase } from "../context.js";
import { numberFlag, queueFlag } from "../flags.js";

export function register(program: Command): void {
  program
    .command("worker")
    .description("index files from the queue into the shared store (`genera index --queue` and uploads add them)")
    .option("--queue <url>", "the queue's Redis, redis://host:port (default GENERA_QUEUE_URL)", queueFlag)
    .option(
      "--concurrency <n>",
      "jobs at once in this process, each on its own store connection: one job embeds while another commits (default 1)",
      numberFlag("--concurrency", { integer: true, min: 1 }),
    )
    .option(
      "--threads <n>",
      "embedding threads of this process (GENERA_EMBEDDINGS_WORKERS; default one per core): with several workers on one machine, give each its share of the cores",
      numberFlag("--threads", { integer: true, min: 1 }),
    )
    .action(async (opts, command: Command) => {
      const config = loadCliConfig(command, { queue: { url: opts.queue }, embeddings: { workers: opts.threads } });
      const url = config.queue.url;
      if (!url) {
        throw new GeneraError(
          "CONFIG_INVALID",
          "genera worker needs a queue: pass --queue redis://… or set GENERA_QUEUE_URL",
        );
      }
      // Workers on many machines write one store: the embedded one belongs to one process.
      if (!config.databaseUrl) {
        throw new GeneraError(
          "CONFIG_INVALID",
          "genera worker needs a shared store: set GENERA_DATABASE_URL=postgres://… (the same one the servers use)",
        );
      }
      const { IndexWorker } = await import("../../queue/IndexWorker.js");
      const kb = await openKnowledgeBase(config);
      // Lanes beyond the first share its embeddings (one set of threads) and have their own connections.
      const lanes = [kb];
      let worker: Worker;
      try {
        for (let i = 1; i < (opts.concurrency ?? 1); i++) {
          lanes.push(await openKnowledgeBase(config, { embeddings: kb.embeddings }));
        }
        worker = await IndexWorker.start({
          url,
          kb: lanes,
          lockMs: config.queue.lockMs,
          log: (line) => process.stderr.write(`${line}\n`),
        });
      } catch (error) {
        for (const lane of lanes.reverse()) await lane.close();
        throw error;
      }
      process.stderr.write(`genera worker: waiting for jobs on ${new URL(url).host}\n`);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${signal}: stopping; a job in progress goes back to the queue\n`);
        await worker.close();
        // The first lane owns the embeddings: it closes last.
        for (const lane of lanes.reverse()) await lane.close();
        process.exit(0);
      };
      process.on("SIGTERM", () => void stop("SIGTERM"));
      process.on("SIGINT", () => void stop("SIGINT"));
    });
}

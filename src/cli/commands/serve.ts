import type { Command } from "commander";
import type { ImageIndex } from "../../multimodal/ImageIndex.js";
import type { RunningServer } from "../../server/startServer.js";
import { indexWithProgress, loadCliConfig, openKnowledgeBase } from "../context.js";
import { portFlag, queueFlag } from "../flags.js";

export function register(program: Command): void {
  program
    .command("serve")
    .description("serve the web chat and the HTTP APIs over the indexed documents")
    .option("--host <host>", "interface to listen on (default 127.0.0.1)")
    .option("--port <port>", "port to listen on (default 3000)", portFlag)
    .option("--store <dir>", "index folder (default <dataDir>/index)")
    .option("--folder <dir...>", "folders to index at start-up (default examples/knowledge)")
    .option("--no-index", "serve the existing index without refreshing it")
    .option(
      "--queue <url>",
      "hand uploads to `genera worker` processes on this Redis (default GENERA_QUEUE_URL)",
      queueFlag,
    )
    .action(async (opts, command: Command) => {
      const config = loadCliConfig(command, {
        server: { host: opts.host, port: opts.port, folders: opts.folder },
        queue: { url: opts.queue },
      });
      // The server and the image stack load once the flags are known to be good.
      const [{ assertPortFree, startServer }, { indexImagesWithProgress, openImageIndex }] = await Promise.all([
        import("../../server/startServer.js"),
        import("../imageIndex.js"),
      ]);
      // A taken port is found now, not after a long indexing run (startServer checks again when it binds).
      await assertPortFree(config.server.host, config.server.port);
      // The image index opens first: the text index hands it the images inside PDFs and DOCX.
      const images: ImageIndex | undefined = config.multimodal.images
        ? await openImageIndex(config, opts.store)
        : undefined;
      let kb: Awaited<ReturnType<typeof openKnowledgeBase>>;
      try {
        kb = await openKnowledgeBase(config, { store: opts.store, images });
      } catch (error) {
        await images?.close();
        throw error;
      }
      let running: RunningServer;
      try {
        if (opts.index !== false && config.server.folders.length) {
          // Incremental: the first start builds the index, later starts only look for changes.
          const summary = await indexWithProgress(kb, config.server.folders, "scoped");
          const { documents, chunks } = await kb.counts();
          process.stderr.write(
            `index ready: ${documents} documents, ${chunks} chunks` +
              ` (${summary.added} added, ${summary.updated} updated, ${summary.failed} failed)\n`,
          );
          for (const f of summary.failures) process.stderr.write(`failed: ${f.path}: ${f.reason}\n`);
        }
        // Images of the folders get their picture's vector too; the server searches them (?modality=image).
        if (opts.index !== false && images && config.server.folders.length) {
          await indexImagesWithProgress(config, config.server.folders, {
            store: opts.store,
            cleanup: "full",
            index: images,
          });
        }
        running = await startServer({ config, kb, images });
      } catch (error) {
        // The embedding workers would keep the process alive after the error is printed.
        await images?.close();
        await kb.close();
        throw error;
      }
      process.stdout.write(`genera is serving on ${running.url}\n`);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`${signal}: finishing in-flight requests and saving…\n`);
        await running.close();
        await kb.close();
        process.exit(0);
      };
      process.on("SIGTERM", () => void stop("SIGTERM"));
      process.on("SIGINT", () => void stop("SIGINT"));
    });
}

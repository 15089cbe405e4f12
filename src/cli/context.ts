import { join } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { Command } from "commander";
import type { ImageLoadOptions } from "../../loaders/embeddedImages.js";
import type { AudioLoadOptions } from "../../loaders/loadAudio.js";
import { type GeneraConfig, type LoadConfigOptions, loadConfig } from "../config.js";
import type { IndexOptions, IndexSummary, KnowledgeBase } from "../knowledge/KnowledgeBase.js";
import { createProgressReporter } from "./progress.js";

/** Options every command understands (set on the root program). */
export interface GlobalCliOptions {
  config?: string;
}

/** The configuration for a CLI run: file/env layers from loadConfig, then the command's own flags. */
export function loadCliConfig(command: Command, overrides: LoadConfigOptions["overrides"] = {}): GeneraConfig {
  const globals = command.optsWithGlobals() as GlobalCliOptions;
  return loadConfig({ file: globals.config, overrides });
}

/** Where the index lives: `--store DIR`, else `<dataDir>/index`. */
export function storeDir(config: GeneraConfig, store?: string): string {
  return store ?? join(config.dataDir, "index");
}

/**
 * Opens the configured knowledge base with the configured embeddings; `close()` also stops their workers.
 * The store, the loaders and the embedding runtime are imported here, not at the top, so that a command
 * checks its flags and configuration before paying for them.
 */
export async function openKnowledgeBase(
  config: GeneraConfig,
  options: {
    store?: string;
    images?: { loadOptions(): ImageLoadOptions };
    /** Embeddings another knowledge base owns (it closes them): shared, not created. */
    embeddings?: EmbeddingsInterface;
  } = {},
): Promise<KnowledgeBase> {
  const [{ KnowledgeBase }, { createEmbeddings }] = await Promise.all([
    import("../knowledge/KnowledgeBase.js"),
    import("../embeddings/createEmbeddings.js"),
  ]);
  const embeddings =
    options.embeddings ?? createEmbeddings({ ...config.embeddings, cacheDir: join(config.dataDir, "embedding-cache") });
  try {
    return await KnowledgeBase.open({
      dir: storeDir(config, options.store),
      // An explicit --store folder means the embedded store there, even when a database is configured.
      databaseUrl: options.store ? undefined : config.databaseUrl,
      embeddings,
      ownsEmbeddings: options.embeddings === undefined,
      indexDefaults: config.ingest,
      contextualHeaders: config.ingest.contextualHeaders,
      audio: await speechOptions(config),
      // With the image index open, images get captions and those inside PDFs and DOCX are read.
      image: options.images?.loadOptions(),
    });
  } catch (error) {
    if (!options.embeddings) await (embeddings as { close?: () => Promise<void> }).close?.();
    throw error;
  }
}

/** Indexes `paths` with the knowledge base's settings, showing progress (a bar on a terminal, lines otherwise). */
export async function indexWithProgress(
  kb: KnowledgeBase,
  paths: string[],
  cleanup: IndexOptions["cleanup"],
): Promise<IndexSummary> {
  const progress = createProgressReporter("indexing");
  try {
    return await kb.index(paths, {
      cleanup,
      onProgress: (e) => {
        if (e.phase === "scan") return;
        progress.update({
          done: e.filesDone,
          total: e.filesTotal,
          etaSeconds: e.etaSeconds,
          fields: { chunks: e.chunksDone, "chunks/s": e.chunksPerSecond.toFixed(1) },
        });
      },
    });
  } finally {
    progress.stop();
  }
}

/** The configured speech model for audio files, if any (transformers.js is loaded only then). */
async function speechOptions(config: GeneraConfig): Promise<AudioLoadOptions | undefined> {
  const model = config.multimodal.speechModel;
  if (!model) return undefined;
  const { TransformersJsTranscriber } = await import("../multimodal/TransformersJsTranscriber.js");
  return { transcriber: new TransformersJsTranscriber({ model, allowRemote: config.multimodal.allowRemote }) };
}

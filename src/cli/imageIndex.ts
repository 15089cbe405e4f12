import { existsSync } from "node:fs";
import { join } from "node:path";
import { walkFiles } from "../../loaders/DirectoryLoader.js";
import { recognizeText } from "../../loaders/loadImage.js";
import type { GeneraConfig } from "../config.js";
import { createImageEmbeddings } from "../multimodal/createImageEmbeddings.js";
import { type ImageFile, ImageIndex, type ImageIndexSummary, isIndexedImage } from "../multimodal/ImageIndex.js";
import { storeDir } from "./context.js";
import { createProgressReporter } from "./progress.js";

/** The image index lives beside the text index: `<store>/images`. */
export function imageIndexDir(config: GeneraConfig, store?: string): string {
  return join(storeDir(config, store), "images");
}

export async function openImageIndex(config: GeneraConfig, store?: string): Promise<ImageIndex> {
  const embeddings = await createImageEmbeddings(config.multimodal);
  try {
    return await ImageIndex.open(imageIndexDir(config, store), embeddings);
  } catch (error) {
    await embeddings.close?.();
    throw error;
  }
}

/**
 * Gives the images under `paths` their vectors in the image index (the text index has
 * already read their OCR text as a document), with their caption (when a captioning
 * model is configured) and OCR text kept as their text; shows progress like indexing does.
 */
export async function indexImagesWithProgress(
  config: GeneraConfig,
  paths: string[],
  options: { store?: string; cleanup: "full" | "none" },
): Promise<ImageIndexSummary> {
  const files: ImageFile[] = [];
  const roots = new Set<string>();
  for await (const file of walkFiles(paths, { include: config.ingest.include, exclude: config.ingest.exclude })) {
    roots.add(file.root);
    if (isIndexedImage(file.absPath)) files.push({ absPath: file.absPath, relPath: file.relPath, root: file.root });
  }
  // Nothing to add and nothing stored: leave the image index (and its model) unopened.
  if (files.length === 0 && !existsSync(imageIndexDir(config, options.store))) {
    return { added: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0, failures: [] };
  }
  const index = await openImageIndex(config, options.store);
  const progress = createProgressReporter("images");
  try {
    const captioner = config.multimodal.captionModel
      ? await import("../multimodal/TransformersJsCaptioner.js").then(
          (m) =>
            new m.TransformersJsCaptioner({
              model: config.multimodal.captionModel as string,
              allowRemote: config.multimodal.allowRemote,
            }),
        )
      : undefined;
    const summary = await index.indexFiles(files, {
      removeMissingUnder: options.cleanup === "full" ? [...roots] : [],
      describe: async (file, bytes) => {
        const ocr = await recognizeText(Buffer.from(bytes), file.absPath);
        const caption = captioner ? await captioner.caption(bytes) : undefined;
        return { caption, ocrText: ocr.lines.map((l) => l.text).join("\n") || undefined };
      },
      onProgress: (done, total) => progress.update({ done, total }),
    });
    await captioner?.close();
    if (summary.added + summary.updated + summary.deleted > 0) await index.save();
    return summary;
  } finally {
    progress.stop();
    await index.close();
  }
}

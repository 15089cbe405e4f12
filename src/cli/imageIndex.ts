import { existsSync } from "node:fs";
import { join } from "node:path";
import { walkFiles } from "../../loaders/DirectoryLoader.js";
import { recognizedText } from "../../loaders/loadImage.js";
import type { GeneraConfig } from "../config.js";
import { createCaptioner, createImageEmbeddings } from "../multimodal/createImageEmbeddings.js";
import { type ImageFile, ImageIndex, type ImageIndexSummary, isIndexedImage } from "../multimodal/ImageIndex.js";
import { imageDescriber, rememberingCaptioner } from "../multimodal/imageDescriber.js";
import { storeDir } from "./context.js";
import { createProgressReporter } from "./progress.js";

/** The image index lives beside the text index: `<store>/images`. */
export function imageIndexDir(config: GeneraConfig, store?: string): string {
  return join(storeDir(config, store), "images");
}

/** The configured image index, describing new images with the configured captioner and OCR. */
export async function openImageIndex(config: GeneraConfig, store?: string): Promise<ImageIndex> {
  const embeddings = await createImageEmbeddings(config.multimodal);
  const model = await createCaptioner(config.multimodal);
  // The text index captions the same images (see openKnowledgeBase): one caption each.
  const captioner = model ? rememberingCaptioner(model) : undefined;
  try {
    return await ImageIndex.open(imageIndexDir(config, store), embeddings, {
      describe: imageDescriber({ captioner, ocr: recognizedText }),
      caption: captioner ? (bytes, label) => captioner.caption(bytes, label) : undefined,
      onClose: async () => captioner?.close?.(),
    });
  } catch (error) {
    await captioner?.close?.();
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
  options: { store?: string; cleanup: "full" | "none"; index?: ImageIndex },
): Promise<ImageIndexSummary> {
  const files: ImageFile[] = [];
  const present: string[] = [];
  const roots = new Set<string>();
  for await (const file of walkFiles(paths, { include: config.ingest.include, exclude: config.ingest.exclude })) {
    roots.add(file.root);
    present.push(file.relPath);
    if (isIndexedImage(file.absPath)) files.push({ absPath: file.absPath, relPath: file.relPath, root: file.root });
  }
  // Nothing to add and nothing stored: leave the image index (and its model) unopened.
  if (!options.index && files.length === 0 && !existsSync(imageIndexDir(config, options.store))) {
    return { added: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0, failures: [] };
  }
  const index = options.index ?? (await openImageIndex(config, options.store));
  const progress = createProgressReporter("images");
  try {
    const summary = await index.indexFiles(files, {
      removeMissingUnder: options.cleanup === "full" ? [...roots] : [],
      present,
      onProgress: (done, total) => progress.update({ done, total }),
    });
    if (index.hasChanges) await index.save();
    return summary;
  } finally {
    progress.stop();
    if (!options.index) await index.close();
  }
}

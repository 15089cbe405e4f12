import { existsSync } from "node:fs";
import { join } from "node:path";
import { walkFiles } from "../../loaders/DirectoryLoader.js";
import type { ImageLoadOptions } from "../../loaders/embeddedImages.js";
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
 * The image index of one indexing run, opened when first needed: a run over text alone never
 * loads the image encoder, OCR or a captioning model. An index already on disk opens at once,
 * so that a changed image model is refused (MODEL_MISMATCH) before anything is indexed.
 */
export class DeferredImageIndex {
  private opening?: Promise<ImageIndex>;

  private constructor(
    private readonly config: GeneraConfig,
    private readonly store?: string,
  ) {}

  static async create(config: GeneraConfig, store?: string): Promise<DeferredImageIndex> {
    const deferred = new DeferredImageIndex(config, store);
    if (existsSync(imageIndexDir(config, store))) await deferred.get();
    return deferred;
  }

  get opened(): boolean {
    return this.opening !== undefined;
  }

  get(): Promise<ImageIndex> {
    this.opening ??= openImageIndex(this.config, this.store);
    return this.opening;
  }

  /** ImageIndex.loadOptions, opening the index at the first image (or caption) the text index meets. */
  loadOptions(): ImageLoadOptions {
    const caption = this.config.multimodal.captionModel
      ? async (bytes: Uint8Array, label: string) =>
          (await (await this.get()).loadOptions().caption?.(bytes, label)) ?? ""
      : undefined;
    return {
      embedded: true,
      caption,
      onEmbeddedImages: async (file, images) => {
        // A document without pictures has nothing to remove from an index that does not exist.
        if (images.length === 0 && !this.opened) return;
        await (await this.get()).putEmbedded(file, images);
      },
    };
  }

  async close(): Promise<void> {
    const index = await this.opening?.catch(() => undefined);
    await index?.close();
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

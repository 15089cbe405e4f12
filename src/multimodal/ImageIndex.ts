import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { Document } from "@langchain/core/documents";
import { HNSWVectorStore } from "../../vectorstores/hnsw.js";
import { GeneraError, isGeneraError } from "../errors.js";
import type { ImageEmbeddingsInterface } from "./ImageEmbeddings.js";

/** Image files the index reads (sharp decodes them; a GIF by its first frame). */
export const INDEXED_IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".webp", ".gif"];

export function isIndexedImage(path: string): boolean {
  return INDEXED_IMAGE_EXTENSIONS.includes(extname(path).toLowerCase());
}

/** An image file to index: where it is, and its path relative to the indexed root (its `source`). */
export interface ImageFile {
  absPath: string;
  relPath: string;
  /** The folder it was found under; lets a later run tell which stored images a root no longer has. */
  root?: string;
}

/** Text known about an image (its caption, the text OCR found in it), kept as its searchable text. */
export interface ImageText {
  caption?: string;
  ocrText?: string;
}

export interface IndexImagesOptions {
  /** Caption and OCR text for a file; a failure here is that file's failure, like a corrupt image. */
  describe?: (file: ImageFile, bytes: Uint8Array) => Promise<ImageText>;
  /** Stored images found under these roots that `files` no longer lists are dropped (default: none are). */
  removeMissingUnder?: string[];
  onProgress?: (done: number, total: number, current: string) => void;
}

export interface ImageIndexSummary {
  added: number;
  updated: number;
  unchanged: number;
  deleted: number;
  failed: number;
  failures: Array<{ path: string; code: string; reason: string }>;
}

export interface ImageSearchResult {
  source: string;
  score: number;
  caption?: string;
  ocrText?: string;
  /** The stored document: pageContent is the caption and OCR text. */
  document: Document;
}

/**
 * The image side of a knowledge base: one vector per image (from image embeddings such as
 * CLIP or the shipped digit encoder) in its own HNSW index, beside the text one, with the
 * image's caption and OCR text as its document. Keyed by source, with a content hash, so
 * re-indexing only embeds new or changed images. Saved in `dir` (HNSWVectorStore's format).
 */
export class ImageIndex {
  private constructor(
    readonly dir: string,
    readonly embeddings: ImageEmbeddingsInterface,
    readonly store: HNSWVectorStore,
    private readonly describe?: IndexImagesOptions["describe"],
    private readonly onClose?: () => Promise<void>,
  ) {}

  /**
   * Opens the index in `dir`, or an empty one; one saved with another model is MODEL_MISMATCH.
   * `describe` is the default caption / OCR step of indexFiles; `onClose` releases what it holds.
   */
  static async open(
    dir: string,
    embeddings: ImageEmbeddingsInterface,
    options: { describe?: IndexImagesOptions["describe"]; onClose?: () => Promise<void> } = {},
  ): Promise<ImageIndex> {
    const store = HNSWVectorStore.exists(dir)
      ? await HNSWVectorStore.load(dir, embeddings, { modelId: embeddings.modelId })
      : new HNSWVectorStore(embeddings, { modelId: embeddings.modelId });
    return new ImageIndex(dir, embeddings, store, options.describe, options.onClose);
  }

  get size(): number {
    return this.store.size;
  }

  /** The stored document of an image by its source, if indexed. */
  document(source: string): Document | undefined {
    return this.store.getDocument(imageId(source));
  }

  sources(): string[] {
    return this.store.listDocuments().map((doc) => String(doc.metadata.source));
  }

  /** Embeds the new and changed images among `files`; a corrupt one is a failure of its own and the run goes on. */
  async indexFiles(files: ImageFile[], options: IndexImagesOptions = {}): Promise<ImageIndexSummary> {
    const summary: ImageIndexSummary = { added: 0, updated: 0, unchanged: 0, deleted: 0, failed: 0, failures: [] };
    const listed = new Set<string>();
    let done = 0;
    for (const file of files) {
      options.onProgress?.(done++, files.length, file.relPath);
      listed.add(file.relPath);
      try {
        const bytes = await readImageFile(file.absPath);
        const contentHash = createHash("sha256").update(bytes).digest("hex");
        const id = imageId(file.relPath);
        const existing = this.store.getDocument(id);
        if (existing?.metadata.contentHash === contentHash) {
          summary.unchanged++;
          continue;
        }
        const [vector] = await this.embeddings.embedImages([bytes]);
        const describe = options.describe ?? this.describe;
        const text = (await describe?.(file, bytes)) ?? {};
        const document = new Document({
          pageContent: [text.caption, text.ocrText].filter(Boolean).join("\n"),
          metadata: {
            source: file.relPath,
            ...(file.root ? { root: file.root } : {}),
            title: file.relPath.split("/").pop(),
            format: "image",
            modality: "image",
            contentHash,
            ...(text.caption ? { caption: text.caption } : {}),
            ...(text.ocrText ? { ocrText: text.ocrText } : {}),
          },
        });
        await this.store.addVectors([vector as number[]], [document], { ids: [id] });
        if (existing) summary.updated++;
        else summary.added++;
      } catch (error) {
        summary.failed++;
        summary.failures.push({
          path: file.absPath,
          code: isGeneraError(error) ? error.code : "FILE_UNREADABLE",
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    }
    options.onProgress?.(done, files.length, "");
    const roots = new Set(options.removeMissingUnder ?? []);
    const gone = this.store
      .listDocuments()
      .filter((doc) => roots.has(doc.metadata.root as string) && !listed.has(doc.metadata.source as string))
      .map((doc) => doc.metadata.source as string);
    await this.remove(gone);
    summary.deleted = gone.length;
    return summary;
  }

  /** Drops the images of these sources (unknown sources are ignored). */
  async remove(sources: string[]): Promise<void> {
    const ids = sources.map(imageId).filter((id) => this.store.has(id));
    if (ids.length) await this.store.delete({ ids });
  }

  /** The images nearest to a text query in the shared space, best first. */
  async search(query: string, k = 10): Promise<ImageSearchResult[]> {
    if (typeof query !== "string" || query.trim() === "") {
      throw new GeneraError("INVALID_INPUT", "an image search needs a non-empty text query");
    }
    if (!Number.isInteger(k) || k < 1) throw new GeneraError("INVALID_INPUT", `k must be a positive integer, got ${k}`);
    if (this.store.size === 0) return [];
    const vector = await this.embeddings.embedQuery(query);
    const hits = await this.store.similaritySearchVectorWithScore(vector, Math.min(k, this.store.size));
    return hits.map(([document, score]) => ({
      source: String(document.metadata.source),
      score,
      caption: document.metadata.caption as string | undefined,
      ocrText: document.metadata.ocrText as string | undefined,
      document,
    }));
  }

  async save(): Promise<void> {
    await this.store.save(this.dir);
  }

  async close(): Promise<void> {
    await this.onClose?.();
    await this.embeddings.close?.();
  }
}

function imageId(source: string): string {
  return `image:${source}`;
}

async function readImageFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (error as Error).message;
    throw new GeneraError("FILE_UNREADABLE", `Cannot load ${path}: ${reason}`, {
      cause: error,
      details: { path, reason },
    });
  }
}

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { Document } from "@langchain/core/documents";
import type { ImageLoadOptions } from "../../loaders/embeddedImages.js";
import { HNSWVectorStore } from "../../vectorstores/hnsw.js";
import { GeneraError, isGeneraError } from "../errors.js";
import { atomicWriteFileSync } from "../util/atomicWrite.js";
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

/**
 * A picture found inside a document (a PDF or DOCX), with the text its loader read from it:
 * what the loaders' `onEmbeddedImages` hands over (loaders/embeddedImages.ts).
 */
export interface EmbeddedImageEntry {
  /** 1-based position in its file: citations say "image 2". */
  image: number;
  page?: number;
  bytes: Uint8Array;
  /** ".png", ".jpg", ".gif" or ".webp": how its copy in the index is named and served. */
  ext: string;
  contentHash: string;
  caption?: string;
  ocrText?: string;
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
  /** Other files still under those roots (PDFs, DOCX): the images inside them stay. */
  present?: string[];
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
  /** Whether anything was added or removed since the last save. */
  private changed = false;

  private constructor(
    readonly dir: string,
    readonly embeddings: ImageEmbeddingsInterface,
    readonly store: HNSWVectorStore,
    private readonly describe?: IndexImagesOptions["describe"],
    private readonly onClose?: () => Promise<void>,
    /** The captioning model this index describes images with, for the text index to share. */
    readonly caption?: (bytes: Uint8Array, label: string) => Promise<string>,
  ) {}

  /**
   * Opens the index in `dir`, or an empty one; one saved with another model is MODEL_MISMATCH.
   * `describe` is the default caption / OCR step of indexFiles; `caption` the captioning model
   * it uses (shared with the text index); `onClose` releases what it holds.
   */
  static async open(
    dir: string,
    embeddings: ImageEmbeddingsInterface,
    options: {
      describe?: IndexImagesOptions["describe"];
      onClose?: () => Promise<void>;
      caption?: (bytes: Uint8Array, label: string) => Promise<string>;
    } = {},
  ): Promise<ImageIndex> {
    const store = HNSWVectorStore.exists(dir)
      ? await HNSWVectorStore.load(dir, embeddings, { modelId: embeddings.modelId })
      : new HNSWVectorStore(embeddings, { modelId: embeddings.modelId });
    return new ImageIndex(dir, embeddings, store, options.describe, options.onClose, options.caption);
  }

  get size(): number {
    return this.store.size;
  }

  /** The stored document of an image by its source (and, for one inside a PDF or DOCX, its number), if indexed. */
  document(source: string, image?: number): Document | undefined {
    return this.store.getDocument(imageId(source, image));
  }

  /**
   * Where an indexed image's bytes are: the file itself under the folder it was indexed from,
   * or for an image inside a document, the copy this index keeps in `<dir>/media`.
   */
  file(source: string, image?: number): string | undefined {
    const doc = this.document(source, image);
    if (typeof doc?.metadata.media === "string") return join(this.dir, MEDIA_DIR, doc.metadata.media);
    const root = doc?.metadata.root;
    if (image !== undefined || typeof root !== "string") return undefined;
    return join(root, source);
  }

  sources(): string[] {
    return this.store.listDocuments().map((doc) => String(doc.metadata.source));
  }

  /**
   * What the text index does with images while this index is open: captions them with this
   * index's captioning model, and reads the images inside PDFs and DOCX, handing them here
   * (their vectors and kept copies).
   */
  loadOptions(): ImageLoadOptions {
    return {
      embedded: true,
      caption: this.caption,
      onEmbeddedImages: (file, images) => this.putEmbedded(file, images),
    };
  }

  /**
   * Replaces the images of one PDF or DOCX (`file.relPath`) with `images`: new and changed
   * pictures are embedded and their bytes kept in `<dir>/media` (the browser is shown them from
   * there), unchanged ones are left alone, and ones the file no longer has are dropped.
   */
  async putEmbedded(file: { relPath: string; root: string }, images: EmbeddedImageEntry[]): Promise<void> {
    const keep = new Set<string>();
    for (const entry of images) {
      const id = imageId(file.relPath, entry.image);
      keep.add(id);
      if (this.store.getDocument(id)?.metadata.contentHash === entry.contentHash) continue;
      const [vector] = await this.embeddings.embedImages([entry.bytes]);
      const media = `${entry.contentHash}${entry.ext}`;
      mkdirSync(join(this.dir, MEDIA_DIR), { recursive: true });
      atomicWriteFileSync(join(this.dir, MEDIA_DIR, media), entry.bytes);
      const document = new Document({
        pageContent: [entry.caption, entry.ocrText].filter(Boolean).join("\n"),
        metadata: {
          source: file.relPath,
          root: file.root,
          image: entry.image,
          ...(entry.page !== undefined ? { page: entry.page } : {}),
          title: `${file.relPath.split("/").pop()}, image ${entry.image}`,
          format: "image",
          modality: "image",
          contentHash: entry.contentHash,
          media,
          ...(entry.caption ? { caption: entry.caption } : {}),
          ...(entry.ocrText ? { ocrText: entry.ocrText } : {}),
        },
      });
      await this.store.addVectors([vector as number[]], [document], { ids: [id] });
      this.changed = true;
    }
    const gone = this.store
      .listDocuments()
      .filter((doc) => doc.metadata.source === file.relPath && doc.metadata.image !== undefined && !keep.has(doc.id!))
      .map((doc) => doc.id!);
    if (gone.length) {
      await this.store.delete({ ids: gone });
      this.changed = true;
    }
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
        this.changed = true;
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
    for (const source of options.present ?? []) listed.add(source);
    const gone = this.store
      .listDocuments()
      .filter((doc) => roots.has(doc.metadata.root as string) && !listed.has(doc.metadata.source as string))
      .map((doc) => doc.id!);
    if (gone.length) {
      await this.store.delete({ ids: gone });
      this.changed = true;
    }
    summary.deleted = gone.length;
    return summary;
  }

  /** Drops the images of these sources, those inside them included (unknown sources are ignored). */
  async remove(sources: string[]): Promise<void> {
    const drop = new Set(sources);
    const ids = this.store
      .listDocuments()
      .filter((doc) => drop.has(doc.metadata.source as string))
      .map((doc) => doc.id!);
    if (ids.length) {
      await this.store.delete({ ids });
      this.changed = true;
    }
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

  /** Whether there is anything to save. */
  get hasChanges(): boolean {
    return this.changed;
  }

  /** Saves the index, then deletes the kept copies of images no entry refers to any more. */
  async save(): Promise<void> {
    await this.store.save(this.dir);
    this.changed = false;
    const used = new Set(this.store.listDocuments().map((doc) => doc.metadata.media));
    let names: string[] = [];
    try {
      names = readdirSync(join(this.dir, MEDIA_DIR));
    } catch {
      return;
    }
    for (const name of names) if (!used.has(name)) rmSync(join(this.dir, MEDIA_DIR, name), { force: true });
  }

  async close(): Promise<void> {
    await this.onClose?.();
    await this.embeddings.close?.();
  }
}

/** Copies of images found inside documents, named by content hash. */
const MEDIA_DIR = "media";

function imageId(source: string, image?: number): string {
  return image === undefined ? `image:${source}` : `image:${source}#${image}`;
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

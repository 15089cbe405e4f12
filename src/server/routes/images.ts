import { basename, resolve, sep } from "node:path";
import { Router } from "express";
import { z } from "zod";
import { GeneraError } from "../../errors.js";
import { type ImageIndex, isIndexedImage } from "../../multimodal/ImageIndex.js";
import { parseInput } from "../httpErrors.js";

export interface ImageHit {
  source: string;
  score: number;
  caption?: string;
  ocrText?: string;
  /** Where the browser fetches the picture (GET /api/images/file). */
  url: string;
}

/** Images nearest to a text query; none when the server has no image index. */
export async function searchImages(images: ImageIndex | undefined, query: string, k: number): Promise<ImageHit[]> {
  if (!images) return [];
  const hits = await images.search(query, k);
  return hits.map(({ source, score, caption, ocrText }) => ({
    source,
    score,
    caption,
    ocrText,
    url: `/api/images/file?source=${encodeURIComponent(source)}`,
  }));
}

/** Uploaded images get their picture's vector in the image index too (their text is in the knowledge base); then it is saved. */
export async function indexUploadedImages(
  images: ImageIndex | undefined,
  paths: string[],
  uploadsDir: string,
): Promise<void> {
  const files = paths
    .filter(isIndexedImage)
    .map((absPath) => ({ absPath, relPath: basename(absPath), root: uploadsDir }));
  if (!images) return;
  if (files.length > 0) await images.indexFiles(files);
  // Images inside uploaded PDFs and DOCX reached the index while the knowledge base read them.
  if (images.hasChanges) await images.save();
}

const FileQuery = z.object({
  source: z.string().min(1).max(4096),
  /** An image inside a PDF or DOCX: its number there (citations carry it as `image`). */
  image: z.coerce.number().int().min(1).optional(),
});

/**
 * GET /images/file?source=…[&image=n] serves an indexed image's bytes, for thumbnails and
 * cited images. Only images in the index are served: a file from the folder it was indexed
 * under, or the index's own copy of an image found inside a document. A source is a key,
 * never a path the client chooses.
 */
export function imagesRouter(images: ImageIndex | undefined): Router {
  const router = Router();
  router.get("/images/file", (req, res, next) => {
    const { source, image } = parseInput(FileQuery, req.query, "image query");
    const notFound = () =>
      new GeneraError("NOT_FOUND", `No indexed image "${source}"${image ? ` #${image}` : ""}`, {
        details: { source, ...(image ? { image } : {}) },
      });
    const path = images?.file(source, image);
    const doc = images?.document(source, image);
    if (!path || !doc) throw notFound();
    const base = typeof doc.metadata.media === "string" ? images?.dir : (doc.metadata.root as string);
    if (!base || !resolve(path).startsWith(resolve(base) + sep)) throw notFound();
    res.setHeader("Cache-Control", "private, max-age=60");
    res.sendFile(resolve(path), (error) => {
      if (error && !res.headersSent) next(new GeneraError("NOT_FOUND", `Image "${source}" is no longer on disk`));
    });
  });
  return router;
}

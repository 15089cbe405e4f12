import { basename, join, resolve, sep } from "node:path";
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

/** Uploaded images get their picture's vector in the image index too (their text is in the knowledge base). */
export async function indexUploadedImages(
  images: ImageIndex | undefined,
  paths: string[],
  uploadsDir: string,
): Promise<void> {
  const files = paths
    .filter(isIndexedImage)
    .map((absPath) => ({ absPath, relPath: basename(absPath), root: uploadsDir }));
  if (!images || files.length === 0) return;
  const summary = await images.indexFiles(files);
  if (summary.added + summary.updated > 0) await images.save();
}

const FileQuery = z.object({ source: z.string().min(1).max(4096) });

/**
 * GET /images/file?source=… serves an indexed image's bytes, for thumbnails. Only images
 * in the index are served, from the folder they were indexed under: a source is a key,
 * never a path the client chooses.
 */
export function imagesRouter(images: ImageIndex | undefined): Router {
  const router = Router();
  router.get("/images/file", (req, res, next) => {
    const { source } = parseInput(FileQuery, req.query, "image query");
    const doc = images?.document(source);
    const root = doc?.metadata.root;
    if (!doc || typeof root !== "string") {
      throw new GeneraError("NOT_FOUND", `No indexed image "${source}"`, { details: { source } });
    }
    const path = resolve(join(root, source));
    if (!path.startsWith(resolve(root) + sep)) {
      throw new GeneraError("NOT_FOUND", `No indexed image "${source}"`, { details: { source } });
    }
    res.setHeader("Cache-Control", "private, max-age=60");
    res.sendFile(path, (error) => {
      if (error && !res.headersSent) next(new GeneraError("NOT_FOUND", `Image "${source}" is no longer on disk`));
    });
  });
  return router;
}

import { GeneraError } from "../errors.js";
import type { SourceWrite } from "./KnowledgeStore.js";

/**
 * What every store checks before it writes a batch, so that a refused batch changes nothing:
 * one vector per chunk, every chunk with an id no other chunk of the batch (or, by
 * `takenElsewhere`, of the store) holds, and vectors of one length of finite numbers.
 * Returns the vector length: the store's, else the batch's first.
 */
export function checkBatch(
  puts: SourceWrite[],
  dimension: number | undefined,
  takenElsewhere: (id: string, put: SourceWrite) => boolean = () => false,
): number | undefined {
  const claimed = new Set<string>();
  for (const put of puts) {
    const path = put.record.path;
    if (put.vectors.length !== put.chunks.length) {
      throw new GeneraError("INVALID_INPUT", `${path}: ${put.vectors.length} vectors for ${put.chunks.length} chunks`);
    }
    for (const [i, chunk] of put.chunks.entries()) {
      const id = chunk.id;
      if (typeof id !== "string" || !id) throw new GeneraError("INVALID_INPUT", `${path}: chunk ${i} has no id`);
      if (claimed.has(id) || takenElsewhere(id, put)) {
        throw new GeneraError("CONFLICT", `Chunk id ${id} of ${path} is already stored for another chunk`, {
          details: { id, path },
        });
      }
      claimed.add(id);
      const vector = put.vectors[i] as number[];
      dimension ??= vector.length;
      if (vector.length !== dimension || !vector.every(Number.isFinite)) {
        throw new GeneraError("INVALID_INPUT", `${path}: vector ${i} is not ${dimension} finite numbers`);
      }
    }
  }
  return dimension;
}

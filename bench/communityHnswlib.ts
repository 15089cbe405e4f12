/**
 * @langchain/community's HNSWLib, the baseline that bench:hnsw and bench:faults compare the store against.
 *
 * It is not a dependency: with @langchain/classic, which it requires, it added 17 packages and 43 MiB to every
 * install for these two comparisons. Without it the benches measure genera alone and say how to add the baseline:
 *
 *   npm install --no-save @langchain/community@1.1.29 @langchain/classic@1.0.50
 */
import type { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";

export const COMMUNITY_INSTALL = "npm install --no-save @langchain/community@1.1.29 @langchain/classic@1.0.50";

/** The part of HNSWLib the benches use. */
export interface CommunityHnswlib {
  index: { setEf(ef: number): void };
  addVectors(vectors: number[][], documents: Document[]): Promise<void>;
  similaritySearchVectorWithScore(query: number[], k: number): Promise<[Document, number][]>;
  save(directory: string): Promise<void>;
}

export type CommunityHnswlibClass = new (
  embeddings: EmbeddingsInterface,
  args: { space: "cosine"; numDimensions: number },
) => CommunityHnswlib;

/** The HNSWLib class, or undefined when @langchain/community is not installed. */
export async function loadCommunityHnswlib(): Promise<CommunityHnswlibClass | undefined> {
  // A specifier in a variable: the type checker must not require the package to be there.
  const specifier = "@langchain/community/vectorstores/hnswlib";
  try {
    return ((await import(specifier)) as { HNSWLib: CommunityHnswlibClass }).HNSWLib;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND") return undefined;
    throw error;
  }
}

import { Embeddings } from "@langchain/core/embeddings";

/**
 * Deterministic bag-of-words embeddings: each lower-cased word hashes (FNV-1a) to a slot and a sign, and the sum is
 * unit-normalised. Texts that share words land close together, which is all the store tests need.
 */
export class BagOfWordsEmbeddings extends Embeddings {
  readonly modelId: string;
  readonly dimension: number;
  embeddedTexts = 0;

  constructor(options: { dimension?: number; modelId?: string } = {}) {
    super({});
    this.dimension = options.dimension ?? 32;
    this.modelId = options.modelId ?? `bag-of-words-${this.dimension}`;
  }

  embed(text: string): number[] {
    const vector = new Array<number>(this.dimension).fill(0);
    for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
      let hash = 0x811c9dc5;
      for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 0x01000193) >>> 0;
      vector[hash % this.dimension] += hash & 0x10000 ? 1 : -1;
    }
    const norm = Math.hypot(...vector);
    // An all-zero text still needs a direction, or cosine distance is undefined.
    if (norm === 0) vector[0] = 1;
    return norm === 0 ? vector : vector.map((x) => x / norm);
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.embeddedTexts += texts.length;
    return texts.map((text) => this.embed(text));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.embed(text);
  }
}

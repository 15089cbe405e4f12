import { createHash } from "node:crypto";
import { Embeddings } from "@langchain/core/embeddings";

/**
 * Deterministic, fast test embeddings: a hashed bag of lower-cased words,
 * unit-normalised. Texts sharing words are similar, which is all retrieval tests need.
 */
export class HashEmbeddings extends Embeddings {
  readonly modelId: string;
  readonly dimension: number;
  calls = 0;
  embedded = 0;

  /** Artificial latency per call, to hold a request open in concurrency tests. */
  delayMs: number;

  constructor(options: { dimension?: number; modelId?: string; delayMs?: number } = {}) {
    super({});
    this.delayMs = options.delayMs ?? 0;
    this.dimension = options.dimension ?? 64;
    this.modelId = options.modelId ?? `hash-${this.dimension}`;
  }

  embedText(text: string): number[] {
    const v = new Array<number>(this.dimension).fill(0);
    for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
      const h = createHash("md5").update(word).digest();
      const i = h.readUInt32LE(0) % this.dimension;
      v[i] = (v[i] as number) + (h[4]! & 1 ? 1 : -1);
    }
    const norm = Math.hypot(...v) || 1;
    return v.map((x) => x / norm);
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.calls++;
    this.embedded += texts.length;
    return texts.map((t) => this.embedText(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.embedText(text);
  }
}

import { Embeddings } from "@langchain/core/embeddings";

/**
 * Deterministic, fast stand-in for a sentence encoder: a hashed bag of lower-cased
 * words (no stemming, a few function words skipped), L2-normalised. Texts sharing words are close,
 * texts sharing nothing are orthogonal (up to hash collisions), which is all the chain
 * tests need.
 */
export class FakeEmbeddings extends Embeddings {
  readonly dimensions: number;
  /** Texts embedded so far, for tests that check what was (not) embedded. */
  readonly seen: string[] = [];

  constructor(dimensions = 256) {
    super({});
    this.dimensions = dimensions;
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => this.vector(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    return this.vector(text);
  }

  private vector(text: string): number[] {
    this.seen.push(text);
    const v = new Array<number>(this.dimensions).fill(0);
    const words = (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => !STOP.has(w));
    for (const f of words) {
      const h = fnv1a(f);
      v[h % this.dimensions] = (v[h % this.dimensions] as number) + ((h >>> 16) & 1 ? 1 : -1);
    }
    const norm = Math.hypot(...v);
    return norm === 0 ? v : v.map((x) => x / norm);
  }
}

const STOP = new Set(
  "a an the is are was were of in on at to for and or how what which who does do did has have it its this that with by".split(
    " ",
  ),
);

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { embeddingsModelId } from "../../embeddings/embeddingsModelId.js";
import { UniversalSentenceEncoderEmbeddings } from "../../embeddings/UniversalSentenceEncoderEmbeddings.js";
import { GeneraError } from "../../errors.js";
import { normalizeWord, type RequestToken } from "./requestTokens.js";

/** The sentence encoder whose vectors the tool model was trained on. */
export const REQUEST_VECTOR_MODEL = "use-lite-512";
export const REQUEST_VECTOR_DIM = 512;
const MAX_CACHED_WORDS = 20_000;

let shared: UniversalSentenceEncoderEmbeddings | undefined;

/**
 * What the tool model knows about words it was never trained on: USE-lite's vector of
 * each token alone and of the whole request (in the [CLS] slot). USE-lite ships with
 * genera and was trained on far more English than the tool model's dataset, so "cancel"
 * lies near "delete" and "explain" near "describe" although the tool model never saw
 * either word. Row layout matches the model's input: [CLS] then one row per token.
 */
export class RequestVectors {
  private readonly words = new Map<string, Float32Array>();
  readonly embeddings: EmbeddingsInterface;

  constructor(embeddings?: EmbeddingsInterface) {
    if (embeddings && embeddingsModelId(embeddings) !== REQUEST_VECTOR_MODEL) {
      throw new GeneraError(
        "MODEL_MISMATCH",
        `the tool model reads ${REQUEST_VECTOR_MODEL} vectors, got embeddings of ${embeddingsModelId(embeddings)}`,
      );
    }
    // One encoder per process unless the caller shares theirs (the knowledge base's, say).
    shared ??= embeddings ? undefined : new UniversalSentenceEncoderEmbeddings();
    this.embeddings = embeddings ?? (shared as UniversalSentenceEncoderEmbeddings);
  }

  /** One [1 + tokens, 512] block per request. */
  async encode(rows: Array<{ text: string; tokens: RequestToken[] }>): Promise<Float32Array[]> {
    const missing = [
      ...new Set(rows.flatMap((r) => r.tokens.map((t) => wordKey(t.text)).filter((k) => !this.words.has(k)))),
    ];
    const [sentences, wordVectors] = await Promise.all([
      this.embeddings.embedDocuments(rows.map((r) => r.text)),
      missing.length ? this.embeddings.embedDocuments(missing) : Promise.resolve([]),
    ]);
    if (this.words.size + missing.length > MAX_CACHED_WORDS) this.words.clear();
    for (const [i, k] of missing.entries()) this.words.set(k, Float32Array.from(wordVectors[i] as number[]));
    return rows.map((r, b) => {
      const out = new Float32Array((1 + r.tokens.length) * REQUEST_VECTOR_DIM);
      out.set(sentences[b] as number[], 0);
      r.tokens.forEach((t, i) => {
        out.set(this.words.get(wordKey(t.text)) as Float32Array, (i + 1) * REQUEST_VECTOR_DIM);
      });
      return out;
    });
  }

  cached(key: string): Float32Array | undefined {
    return this.words.get(key);
  }

  /** Vectors computed elsewhere (the training script precomputes them in bulk). */
  seed(key: string, vector: ArrayLike<number>): void {
    this.words.set(key, Float32Array.from(vector));
  }
}

/** A token's key in the word cache: lower case, digit runs as one "0" (as the vocabulary reads them). */
export function wordKey(token: string): string {
  return normalizeWord(token);
}

import { GeneraError } from "../errors.js";

/**
 * Prompts → what the text-to-image model's prompt reader reads: the USE-lite vector
 * (512-d, unit length; genera's offline sentence encoder) of each word of the prompt,
 * taken alone. A whole-sentence vector mixes the digit in with every other word, so a
 * read-out of it misses the digit in phrasings it was not fitted on; one vector per word
 * keeps the digit's own vector intact, and the reader (PromptReader) learns where in
 * the prompt to look. Loaded lazily: only text-to-image needs onnxruntime.
 */

export const PROMPT_DIMENSION = 512;
/** As POST /api/images allows. */
export const MAX_PROMPT_LENGTH = 300;

/** Lower-case words and numbers; punctuation is dropped, "hand-drawn" and "don't" stay one word. */
export function promptWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) ?? [];
}

export function checkPrompt(prompt: unknown): string {
  if (typeof prompt !== "string" || prompt.trim().length === 0) {
    throw new GeneraError("INVALID_INPUT", 'prompt must be a non-empty text, e.g. "a handwritten seven"');
  }
  if (prompt.length > MAX_PROMPT_LENGTH) {
    throw new GeneraError("INVALID_INPUT", `prompt is ${prompt.length} characters; at most ${MAX_PROMPT_LENGTH}`);
  }
  if (promptWords(prompt).length === 0) {
    throw new GeneraError("INVALID_INPUT", `prompt ${JSON.stringify(prompt)} has no words, e.g. "a handwritten seven"`);
  }
  return prompt;
}

/** Embeds texts with USE-lite in this process; rows of a [texts.length × 512] array. */
export async function embedPrompts(texts: string[]): Promise<Float32Array> {
  const { UniversalSentenceEncoderEmbeddings } = await import("../embeddings/UniversalSentenceEncoderEmbeddings.js");
  const encoder = new UniversalSentenceEncoderEmbeddings({ inProcess: true, workers: 1 });
  try {
    const vectors = await encoder.embedDocuments(texts);
    const out = new Float32Array(texts.length * PROMPT_DIMENSION);
    for (let i = 0; i < vectors.length; i++) out.set(vectors[i], i * PROMPT_DIMENSION);
    return out;
  } finally {
    await encoder.close();
  }
}

/**
 * A batch of prompts as word vectors: each prompt's words in order, all prompts one after
 * another ([Σ lengths, 512]). A prompt of length 0 is "no prompt", the null condition of
 * classifier-free guidance.
 */
export interface PromptBatch {
  vectors: Float32Array;
  lengths: Int32Array;
}

/** A word → USE-lite vector table, filled as new words come (training embeds its vocabulary once). */
export class WordVectors {
  private readonly table = new Map<string, Float32Array>();

  get size(): number {
    return this.table.size;
  }

  /** Embeds the words not yet in the table. */
  async add(words: Iterable<string>): Promise<void> {
    const missing = [...new Set(words)].filter((w) => !this.table.has(w));
    if (missing.length === 0) return;
    const vectors = await embedPrompts(missing);
    missing.forEach((w, i) => {
      this.table.set(w, vectors.slice(i * PROMPT_DIMENSION, (i + 1) * PROMPT_DIMENSION));
    });
  }

  /** A vector computed elsewhere (precomputed in bulk, or made up in tests). */
  set(word: string, vector: Float32Array): void {
    if (vector.length !== PROMPT_DIMENSION) throw new Error(`a word vector has ${PROMPT_DIMENSION} values`);
    this.table.set(word, vector);
  }

  get(word: string): Float32Array {
    const v = this.table.get(word);
    if (!v) throw new Error(`word "${word}" has no vector yet (WordVectors.add it first)`);
    return v;
  }

  /** Prompts given as word lists → a batch (every word must be in the table). */
  batch(prompts: readonly (readonly string[])[]): PromptBatch {
    const lengths = Int32Array.from(prompts, (p) => p.length);
    const vectors = new Float32Array(lengths.reduce((a, b) => a + b, 0) * PROMPT_DIMENSION);
    let row = 0;
    for (const words of prompts) for (const w of words) vectors.set(this.get(w), row++ * PROMPT_DIMENSION);
    return { vectors, lengths };
  }
}

/** Prompt texts → a batch of their words' vectors (one USE-lite call for the distinct words). */
export async function encodePrompts(texts: string[]): Promise<PromptBatch> {
  const words = texts.map(promptWords);
  const table = new WordVectors();
  await table.add(words.flat());
  return table.batch(words);
}

/** The batch without the marked prompts (fewer rows). */
export function removePrompts(batch: PromptBatch, remove: readonly boolean[]): PromptBatch {
  const lengths: number[] = [];
  const rows: Float32Array[] = [];
  let row = 0;
  batch.lengths.forEach((length, i) => {
    const end = row + length * PROMPT_DIMENSION;
    if (!remove[i]) {
      lengths.push(length);
      rows.push(batch.vectors.subarray(row, end));
    }
    row = end;
  });
  const vectors = new Float32Array(rows.reduce((a, r) => a + r.length, 0));
  let at = 0;
  for (const r of rows) {
    vectors.set(r, at);
    at += r.length;
  }
  return { vectors, lengths: Int32Array.from(lengths) };
}

/** The batch with the marked prompts made empty ("no prompt"), the rows kept in place. */
export function blankPrompts(batch: PromptBatch, blank: readonly boolean[]): PromptBatch {
  const kept = removePrompts(batch, blank);
  return { vectors: kept.vectors, lengths: batch.lengths.map((length, i) => (blank[i] ? 0 : length)) };
}

import { GeneraError } from "../errors.js";
import { captionsOf } from "./captions.js";

/**
 * Prompts → sentence embeddings for the text-to-image model: the offline USE-lite
 * encoder genera uses for retrieval (512-d, unit length; the empty prompt is the zero
 * vector, which is also the model's "no prompt" condition for classifier-free guidance).
 * Loaded lazily: only text-to-image needs onnxruntime.
 */

export const PROMPT_DIMENSION = 512;
/** As POST /api/images allows. */
export const MAX_PROMPT_LENGTH = 300;

export function checkPrompt(prompt: unknown): string {
  if (typeof prompt !== "string" || prompt.trim().length === 0) {
    throw new GeneraError("INVALID_INPUT", 'prompt must be a non-empty text, e.g. "a handwritten seven"');
  }
  if (prompt.length > MAX_PROMPT_LENGTH) {
    throw new GeneraError("INVALID_INPUT", `prompt is ${prompt.length} characters; at most ${MAX_PROMPT_LENGTH}`);
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

/** A set of captions with their digits and embeddings, indexed by digit for sampling. */
export interface CaptionBank {
  texts: string[];
  digits: Int32Array;
  vectors: Float32Array;
  byDigit: number[][];
}

export async function captionBank(templates: readonly string[]): Promise<CaptionBank> {
  const captions = captionsOf(templates);
  const vectors = await embedPrompts(captions.map((c) => c.text));
  const byDigit: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < captions.length; i++) byDigit[captions[i].digit].push(i);
  return { texts: captions.map((c) => c.text), digits: Int32Array.from(captions, (c) => c.digit), vectors, byDigit };
}

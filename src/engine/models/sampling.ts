import { GeneraError } from "../../errors.js";

export interface SampleOptions {
  /** How many tokens to generate at most (the stop token, if met, is not counted or returned). */
  maxNewTokens: number;
  /** Softmax temperature; 0 means greedy. Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens. */
  topK?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches p. */
  topP?: number;
  /** Seed of the sampling generator, for repeatable output. */
  seed?: number;
  /** Always pick the most likely token (same as temperature 0). */
  greedy?: boolean;
  /** Reuse keys/values of earlier positions (default true). */
  useKVCache?: boolean;
  /** Generation ends when one of these is produced. */
  stopTokens?: number[];
}

export function validateSampleOptions(o: SampleOptions): void {
  const bad = (name: string, why: string) =>
    new GeneraError("INVALID_INPUT", `sampling option ${name} ${why}`, {
      details: { [name]: (o as unknown as Record<string, unknown>)[name] },
    });
  if (!(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 0))
    throw bad("maxNewTokens", "must be a non-negative integer");
  if (o.temperature !== undefined && !(o.temperature >= 0 && Number.isFinite(o.temperature)))
    throw bad("temperature", "must be ≥ 0");
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 1)) throw bad("topK", "must be an integer ≥ 1");
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw bad("topP", "must be in (0, 1]");
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/**
 * Picks the next token from one row of logits: greedy, or a draw from
 * softmax(logits / temperature) restricted to the top-k tokens and then to
 * the top-p nucleus (both applied when both are set, as in Hugging Face).
 */
export function sampleNext(
  logits: Float32Array,
  options: Omit<SampleOptions, "maxNewTokens">,
  rng: () => number,
): number {
  const temperature = options.temperature ?? 1;
  if (options.greedy || temperature === 0) return argmax(logits);
  const V = logits.length;
  // Candidates sorted by logit, most likely first; only needed when filtering.
  let ids: number[];
  if (options.topK !== undefined || options.topP !== undefined) {
    ids = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a]);
    if (options.topK !== undefined) ids = ids.slice(0, Math.min(options.topK, V));
  } else {
    ids = Array.from({ length: V }, (_, i) => i);
  }
  let max = Number.NEGATIVE_INFINITY;
  for (const i of ids) if (logits[i] > max) max = logits[i];
  const probs = ids.map((i) => Math.exp((logits[i] - max) / temperature));
  let total = probs.reduce((s, p) => s + p, 0);
  if (options.topP !== undefined && options.topP < 1) {
    let cum = 0;
    let keep = ids.length;
    for (let r = 0; r < ids.length; r++) {
      cum += probs[r] / total;
      if (cum >= options.topP) {
        keep = r + 1;
        break;
      }
    }
    ids = ids.slice(0, keep);
    probs.length = keep;
    total = probs.reduce((s, p) => s + p, 0);
  }
  let u = rng() * total;
  for (let r = 0; r < ids.length; r++) {
    u -= probs[r];
    if (u <= 0) return ids[r];
  }
  return ids[ids.length - 1];
}

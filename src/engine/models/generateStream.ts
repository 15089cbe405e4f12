import { GeneraError } from "../../errors.js";
import type { KVCache } from "../layers/index.js";
import { noGrad } from "../ops/index.js";
import { seededRandom } from "../random.js";
import type { GPT } from "./gpt.js";
import { type SampleOptions, sampleNext, validateSampleOptions } from "./sampling.js";

/**
 * Decoding as a pull-based generator (GPT.generate collects it): one token id per
 * `next()`, so a caller can stream each token out (and yield to the event loop)
 * before the next one is computed. With the KV cache (the default) each step runs
 * one position through the model; once the sequence outgrows blockSize the model
 * slides its window over the last blockSize tokens and recomputes, exactly as
 * without the cache. A stop token ends generation and is not yielded.
 */
export function* generateTokens(model: GPT, prompt: number[], options: SampleOptions): Generator<number, void, void> {
  validateSampleOptions(options);
  if (prompt.length === 0) throw new GeneraError("INVALID_INPUT", "generation needs a prompt of at least one token");
  const V = model.config.vocabSize;
  for (const id of prompt) {
    if (!(Number.isInteger(id) && id >= 0 && id < V)) {
      throw new GeneraError("INVALID_INPUT", `prompt token ${id} is outside the vocabulary of ${V}`, {
        details: { id },
      });
    }
  }
  const { blockSize } = model.config;
  const rng = seededRandom(options.seed ?? 0);
  const stop = new Set(options.stopTokens ?? []);
  const useCache = options.useKVCache ?? true;
  const seq = [...prompt];
  let caches: KVCache[] | null = null;
  for (let step = 0; step < options.maxNewTokens; step++) {
    // Eval mode is set per step: the caller may interleave other work with this generator.
    const wasTraining = model.training;
    model.eval();
    let next: number;
    try {
      next = noGrad(() => {
        let last: Float32Array;
        if (useCache && seq.length <= blockSize) {
          const fresh: number[] = caches ? seq.slice(caches[0].length) : seq;
          if (!caches) caches = model.newCaches(1);
          const past = caches[0].length;
          const { logits } = model.forward({
            ids: Int32Array.from(fresh),
            batchSize: 1,
            seqLen: fresh.length,
            caches,
            past,
          });
          last = logits.data.subarray((fresh.length - 1) * V, fresh.length * V);
        } else {
          const ctx = seq.slice(-blockSize);
          const { logits } = model.forward({ ids: Int32Array.from(ctx), batchSize: 1, seqLen: ctx.length });
          last = logits.data.subarray((ctx.length - 1) * V, ctx.length * V);
        }
        return sampleNext(last, options, rng);
      });
    } finally {
      model.train(wasTraining);
    }
    if (stop.has(next)) return;
    seq.push(next);
    yield next;
  }
}

/**
 * Cuts generated text at the first stop sequence. Text that could still turn into
 * a stop sequence is held back, so a stream never shows the start of one.
 */
export class StopSequenceFilter {
  private pending = "";
  stopped = false;

  constructor(private readonly stops: string[]) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  /** Feed new text; returns the part that is safe to emit now. */
  push(text: string): string {
    if (this.stopped) return "";
    this.pending += text;
    let cut = -1;
    for (const s of this.stops) {
      const i = this.pending.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      this.stopped = true;
      const out = this.pending.slice(0, cut);
      this.pending = "";
      return out;
    }
    // Hold back the longest tail that is a prefix of some stop sequence.
    let hold = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, this.pending.length); k > hold; k--) {
        if (this.pending.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    const out = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return out;
  }

  /** End of generation: whatever was held back is not a stop sequence after all. */
  flush(): string {
    const out = this.stopped ? "" : this.pending;
    this.pending = "";
    return out;
  }
}

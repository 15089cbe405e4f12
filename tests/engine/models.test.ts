import { describe, expect, it } from "vitest";
import { sinusoidalPositionalEncoding } from "../../src/engine/layers/index.js";
import { Module } from "../../src/engine/layers/Module.js";
import { ENCODER_DECODER_TINY, EncoderDecoder, PAPER_BASE } from "../../src/engine/models/encoderDecoder.js";
import { GPT, GPT_PRESETS, type GPTConfig } from "../../src/engine/models/gpt.js";
import { sampleNext } from "../../src/engine/models/sampling.js";
import { noGrad } from "../../src/engine/ops/index.js";
import { seededRandom } from "../../src/engine/random.js";

const tinyConfig = (over: Partial<GPTConfig> = {}): GPTConfig => ({
  ...GPT_PRESETS.tiny,
  blockSize: 32,
  vocabSize: 23,
  ...over,
});

/** Plain SGD with momentum, written here so the test depends on nothing but the engine. */
function sgdStep(model: Module, lr: number, velocity: Map<unknown, Float32Array>): void {
  for (const p of model.parameters()) {
    if (!p.grad) continue;
    let v = velocity.get(p);
    if (!v) {
      v = new Float32Array(p.size);
      velocity.set(p, v);
    }
    for (let i = 0; i < p.size; i++) {
      v[i] = 0.9 * v[i] + p.grad[i];
      p.data[i] -= lr * v[i];
    }
  }
}

describe("sinusoidal positional encoding", () => {
  it("matches PE(pos,2i)=sin(pos/10000^(2i/d)), PE(pos,2i+1)=cos(…)", () => {
    const d = 16;
    const pe = sinusoidalPositionalEncoding(50, d);
    expect(pe[0]).toBe(0); // sin 0
    expect(pe[1]).toBe(1); // cos 0
    expect(pe[1 * d + 0]).toBeCloseTo(Math.sin(1), 6);
    expect(pe[1 * d + 1]).toBeCloseTo(Math.cos(1), 6);
    expect(pe[7 * d + 4]).toBeCloseTo(Math.sin(7 / 10000 ** (4 / d)), 6);
    expect(pe[49 * d + 15]).toBeCloseTo(Math.cos(49 / 10000 ** (14 / d)), 6);
  });
});

describe("GPT", () => {
  it("names parameters stably and ties the head to the token embedding", () => {
    const m = new GPT(tinyConfig());
    const names = m.namedParameters().map(([n]) => n);
    expect(names.slice(0, 2)).toEqual(["tokEmb.weight", "posEmb.weight"]);
    expect(names).toContain("blocks.0.attn.q.weight");
    expect(names).toContain("blocks.1.mlp.fc2.bias");
    expect(names.some((n) => n.startsWith("head"))).toBe(false);
    expect(new GPT(tinyConfig()).namedParameters().map(([n]) => n)).toEqual(names);
    const untied = new GPT(tinyConfig({ tieWeights: false, positional: "sinusoidal" }));
    const un = untied.namedParameters().map(([n]) => n);
    expect(un).toContain("head.weight");
    expect(un).not.toContain("posEmb.weight"); // fixed sinusoids are not trained
  });

  it("gives logits [B, T, V] and a loss near ln V at initialisation", () => {
    const m = new GPT(tinyConfig());
    const idx = Int32Array.from({ length: 2 * 5 }, (_, i) => i % 23);
    const next = Int32Array.from(idx, (v) => (v + 7) % 23);
    const { logits, loss } = m.forward({ ids: idx, batchSize: 2, seqLen: 5, targets: next });
    expect(logits.shape).toEqual([2, 5, 23]);
    expect(Math.abs(loss!.item() - Math.log(23))).toBeLessThan(0.3);
  });

  it("is causal: changing a future token leaves earlier logits unchanged", () => {
    const m = new GPT(tinyConfig()).eval();
    const a = Int32Array.from([1, 2, 3, 4, 5, 6]);
    const b = Int32Array.from([1, 2, 3, 9, 9, 9]);
    const la = noGrad(() => m.forward({ ids: a, batchSize: 1, seqLen: 6 }).logits.data);
    const lb = noGrad(() => m.forward({ ids: b, batchSize: 1, seqLen: 6 }).logits.data);
    expect(Array.from(lb.subarray(0, 3 * 23))).toEqual(Array.from(la.subarray(0, 3 * 23)));
    expect(Array.from(lb.subarray(3 * 23))).not.toEqual(Array.from(la.subarray(3 * 23)));
  });

  it("overfits a tiny sequence with plain SGD (loss falls by >90% in 100 steps)", () => {
    const m = new GPT(tinyConfig({ dModel: 32, dFF: 64, nHeads: 2 }), 7);
    const text = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4];
    const idx = Int32Array.from(text.slice(0, -1));
    const tgt = Int32Array.from(text.slice(1));
    const velocity = new Map<unknown, Float32Array>();
    let first = 0;
    let last = 0;
    for (let step = 0; step < 100; step++) {
      m.zeroGrad();
      const { loss } = m.forward({ ids: idx, batchSize: 1, seqLen: idx.length, targets: tgt });
      loss!.backward();
      sgdStep(m, 0.1, velocity);
      if (step === 0) first = loss!.item();
      last = loss!.item();
    }
    expect(last).toBeLessThan(0.1 * first);
    // …and then reproduces the sequence greedily.
    expect(m.generate(text.slice(0, 4), { maxNewTokens: 6, greedy: true })).toEqual(text.slice(4, 10));
  });

  it("generates the same tokens with and without the KV cache, and cached logits match recomputation", () => {
    const m = new GPT(tinyConfig({ nLayers: 3 }), 11);
    for (const p of m.parameters()) for (let i = 0; i < p.size; i++) p.data[i] *= 3; // less uniform logits, still well-conditioned
    const prompt = [1, 2, 3, 4];
    const withCache = m.generate(prompt, { maxNewTokens: 20, greedy: true });
    const without = m.generate(prompt, { maxNewTokens: 20, greedy: true, useKVCache: false });
    expect(withCache).toEqual(without);
    expect(new Set(withCache).size).toBeGreaterThan(1);
    const sampled = { maxNewTokens: 15, temperature: 0.9, topK: 10, topP: 0.95, seed: 3 };
    expect(m.generate(prompt, sampled)).toEqual(m.generate(prompt, { ...sampled, useKVCache: false }));

    // Step by step: logits of the newest position from the cache equal a full forward pass.
    const seq = [...prompt, ...withCache.slice(0, 10)];
    noGrad(() => {
      m.eval();
      const caches = m.newCaches(1);
      m.forward({ ids: Int32Array.from(seq.slice(0, 4)), batchSize: 1, seqLen: 4, caches, past: 0 });
      for (let t = 4; t < seq.length; t++) {
        const step = m.forward({ ids: Int32Array.of(seq[t]), batchSize: 1, seqLen: 1, caches, past: t }).logits.data;
        const full = m
          .forward({ ids: Int32Array.from(seq.slice(0, t + 1)), batchSize: 1, seqLen: t + 1 })
          .logits.data.subarray(t * 23);
        // Different kernels (JS for one row, wasm for many) sum in different orders: float32 rounding only.
        // Relative to the row's logit scale (~30 here); a real mismatch would be of order 1.
        const scale = Math.max(...Array.from(full, Math.abs));
        for (let j = 0; j < 23; j++) expect(Math.abs(step[j] - full[j])).toBeLessThan(3e-5 * scale);
      }
    });
  });

  it("slides its window past blockSize the same way with and without the cache", () => {
    const m = new GPT(tinyConfig({ blockSize: 8 }), 5);
    for (const p of m.parameters()) for (let i = 0; i < p.size; i++) p.data[i] *= 8;
    const a = m.generate([1, 2, 3], { maxNewTokens: 12, greedy: true });
    expect(a).toHaveLength(12);
    expect(a).toEqual(m.generate([1, 2, 3], { maxNewTokens: 12, greedy: true, useKVCache: false }));
  });

  it("stops on a stop token and when onToken returns false", () => {
    const m = new GPT(tinyConfig(), 11);
    const free = m.generate([1], { maxNewTokens: 10, greedy: true });
    const stopAt = free[3];
    const stopped = m.generate([1], { maxNewTokens: 10, greedy: true, stopTokens: [stopAt] });
    expect(stopped).toEqual(free.slice(0, free.indexOf(stopAt)));
    const seen: number[] = [];
    const two = m.generate([1], { maxNewTokens: 10, greedy: true, onToken: (id) => seen.push(id) < 2 });
    expect(two).toEqual(free.slice(0, 2));
    expect(seen).toEqual(two);
  });

  it("rejects bad input with GeneraError", () => {
    const m = new GPT(tinyConfig());
    expect(() => m.forward({ ids: Int32Array.of(1, 2, 3), batchSize: 2, seqLen: 2 })).toThrow(/token ids/);
    expect(() => m.forward({ ids: Int32Array.of(1, 99), batchSize: 1, seqLen: 2 })).toThrow(/vocabulary/);
    expect(() => m.forward({ ids: new Int32Array(33), batchSize: 1, seqLen: 33 })).toThrow(/exceeds/);
    expect(() => m.generate([], { maxNewTokens: 2 })).toThrow(/prompt/);
    expect(() => m.generate([1], { maxNewTokens: 2, topP: 0 })).toThrow(/topP/);
    expect(() => new GPT(tinyConfig({ nHeads: 5 }))).toThrow(/divisible/);
  });
});

describe("sampleNext", () => {
  const logits = Float32Array.from([0, 3, 1, 2.9, -5]);
  it("greedy and temperature 0 pick the argmax", () => {
    expect(sampleNext(logits, { greedy: true }, Math.random)).toBe(1);
    expect(sampleNext(logits, { temperature: 0 }, Math.random)).toBe(1);
  });
  it("top-k and top-p restrict the candidates; the seed makes draws repeatable", () => {
    const rng = seededRandom(1);
    const picks = new Set(Array.from({ length: 200 }, () => sampleNext(logits, { topK: 2 }, rng)));
    expect([...picks].sort()).toEqual([1, 3]);
    // p(1) ≈ 0.48, p(3) ≈ 0.44: a 0.5 nucleus needs both, 0.4 only the first.
    const nucleus = new Set(Array.from({ length: 200 }, () => sampleNext(logits, { topP: 0.4 }, rng)));
    expect([...nucleus]).toEqual([1]);
    const draw = (seed: number) =>
      Array.from(
        { length: 20 },
        (
          (r) => () =>
            sampleNext(logits, {}, r)
        )(seededRandom(seed)),
      );
    expect(draw(9)).toEqual(draw(9));
  });
});

describe("EncoderDecoder", () => {
  it("has the paper's base sizes as a preset", () => {
    expect(PAPER_BASE).toMatchObject({
      dModel: 512,
      nHeads: 8,
      dFF: 2048,
      nEncoderLayers: 6,
      nDecoderLayers: 6,
      dropout: 0.1,
    });
    expect(PAPER_BASE.positional).toBe("sinusoidal");
  });

  it("ignores source padding: logits do not depend on padded positions' ids being masked", () => {
    const m = new EncoderDecoder({ ...ENCODER_DECODER_TINY, srcVocabSize: 12, tgtVocabSize: 12 }).eval();
    const tgt = Int32Array.from([1, 4, 5]);
    const run = (src: number[], pad?: number) =>
      noGrad(
        () =>
          m.forward({
            src: Int32Array.from(src),
            srcPadId: pad,
            tgtIn: tgt,
            batchSize: 1,
            srcLen: src.length,
            tgtLen: 3,
          }).logits.data,
      );
    const short = run([6, 7, 8]);
    const padded = run([6, 7, 8, 0, 0], 0);
    for (let i = 0; i < short.length; i++) expect(padded[i]).toBeCloseTo(short[i], 4);
  });

  it("learns to copy a sequence, and greedy decoding with caches equals full recomputation", () => {
    const V = 10; // 0 pad, 1 bos, 2 eos, 3..9 symbols
    const m = new EncoderDecoder(
      { ...ENCODER_DECODER_TINY, dModel: 32, dFF: 64, nHeads: 2, srcVocabSize: V, tgtVocabSize: V },
      3,
    );
    const rng = seededRandom(8);
    const velocity = new Map<unknown, Float32Array>();
    const B = 8;
    const L = 4;
    let first = 0;
    let last = 0;
    for (let step = 0; step < 150; step++) {
      const src = new Int32Array(B * L);
      const tgtIn = new Int32Array(B * (L + 1));
      const tgtOut = new Int32Array(B * (L + 1));
      for (let b = 0; b < B; b++) {
        tgtIn[b * (L + 1)] = 1;
        for (let t = 0; t < L; t++) {
          const s = 3 + Math.floor(rng() * 7);
          src[b * L + t] = s;
          tgtIn[b * (L + 1) + t + 1] = s;
          tgtOut[b * (L + 1) + t] = s;
        }
        tgtOut[b * (L + 1) + L] = 2;
      }
      m.zeroGrad();
      const { loss } = m.forward({ src, srcPadId: 0, tgtIn, batchSize: B, srcLen: L, tgtLen: L + 1, targets: tgtOut });
      loss!.backward();
      sgdStep(m, 0.02, velocity);
      if (step === 0) first = loss!.item();
      last = loss!.item();
    }
    expect(last).toBeLessThan(0.5 * first);
    // Greedy decode (cached) must agree with step-by-step full recomputation.
    const src = [4, 7, 5, 9];
    const decoded = m.greedyDecode(src, 1, 2, 6);
    const slow: number[] = [];
    noGrad(() => {
      m.eval();
      const prefix = [1];
      for (let t = 0; t < 6; t++) {
        const logits = m.forward({
          src: Int32Array.from(src),
          tgtIn: Int32Array.from(prefix),
          batchSize: 1,
          srcLen: 4,
          tgtLen: prefix.length,
        }).logits.data;
        const row = logits.subarray((prefix.length - 1) * V);
        let best = 0;
        for (let j = 1; j < V; j++) if (row[j] > row[best]) best = j;
        if (best === 2) break;
        slow.push(best);
        prefix.push(best);
      }
    });
    expect(decoded).toEqual(slow);
  });
});

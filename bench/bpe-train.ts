/**
 * BPE training speed: genera's incremental pair counts (only the words containing the
 * merged pair are revisited, a lazy max-heap picks the next pair) against the textbook
 * loop that recounts every pair of every word after each merge. Same corpus, same
 * merges (checked), so the ratio is the algorithmic gain.
 *
 *   node --import ./scripts/ts.mjs bench/bpe-train.ts [--kb 1000] [--vocab 2048]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BPETokenizer, GPT2_PATTERN } from "../src/engine/tokenizers/index.js";

const { values } = parseArgs({
  options: { kb: { type: "string", default: "1000" }, vocab: { type: "string", default: "2048" } },
});
const targetChars = Number(values.kb) * 1000;

// Real prose when available (the knowledge notes, repeated), else generated words.
function corpus(): string {
  let text = "";
  try {
    for (const f of readdirSync("examples/knowledge"))
      if (f.endsWith(".md")) text += readFileSync(join("examples/knowledge", f), "utf8");
  } catch {
    // fall through to generated text
  }
  if (!text) {
    let s = 1;
    const letters = "etaoinshrdlucmfwypvbgkjqxz";
    while (text.length < 100_000) {
      s = (s * 1103515245 + 12345) >>> 0;
      const n = 1 + (s % 8);
      let w = "";
      for (let i = 0; i < n; i++) {
        s = (s * 1103515245 + 12345) >>> 0;
        w += letters[Math.floor((s / 2 ** 32) ** 2 * letters.length)];
      }
      text += `${w} `;
    }
  }
  // Special-token strings are split off before merging; keep them out so both algorithms see the same words.
  text = text.replace(/<\|endoftext\|>|<pad>|<bos>|<eos>/g, " ");
  let out = text;
  while (out.length < targetChars) out += text;
  return out.slice(0, targetChars);
}

/** The textbook algorithm: recount all pairs over all distinct words after every merge. */
function naiveMerges(text: string, numMerges: number): Array<[number, number]> {
  const counts = new Map<string, number>();
  for (const m of text.matchAll(GPT2_PATTERN)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  const words: number[][] = [];
  const freqs: number[] = [];
  for (const [w, c] of counts) {
    const b = Array.from(new TextEncoder().encode(w));
    if (b.length < 2) continue;
    words.push(b);
    freqs.push(c);
  }
  const merges: Array<[number, number]> = [];
  const SHIFT = 2 ** 21;
  while (merges.length < numMerges) {
    const pairs = new Map<number, number>();
    words.forEach((w, wi) => {
      for (let i = 0; i + 1 < w.length; i++) {
        const k = w[i] * SHIFT + w[i + 1];
        pairs.set(k, (pairs.get(k) ?? 0) + freqs[wi]);
      }
    });
    let best = -1;
    let bestCount = 1; // same stopping rule as minFrequency 2
    for (const [k, c] of pairs)
      if (c > bestCount || (c === bestCount && best >= 0 && k < best)) [best, bestCount] = [k, c];
    if (best < 0) break;
    const a = Math.floor(best / SHIFT);
    const b = best - a * SHIFT;
    const id = 256 + merges.length;
    merges.push([a, b]);
    for (let wi = 0; wi < words.length; wi++) {
      const w = words[wi];
      const out: number[] = [];
      for (let i = 0; i < w.length; i++) {
        if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(w[i]);
      }
      words[wi] = out;
    }
  }
  return merges;
}

const text = corpus();
const vocab = Number(values.vocab);
const specials = 4;
const t0 = performance.now();
const tok = BPETokenizer.train(text, { vocabSize: vocab });
const fastMs = performance.now() - t0;
const t1 = performance.now();
const naive = naiveMerges(text, vocab - 256 - specials);
const naiveMs = performance.now() - t1;
const same =
  naive.length === tok.merges.length && naive.every(([a, b], i) => tok.merges[i][0] === a && tok.merges[i][1] === b);
const t2 = performance.now();
const ids = tok.encode(text);
const encodeMs = performance.now() - t2;

console.log(`corpus ${text.length.toLocaleString()} chars, ${tok.merges.length} merges, identical merges: ${same}\n`);
console.log("| algorithm | train time (ms) | ratio vs textbook |");
console.log("|---|---:|---:|");
console.log(`| textbook (recount every merge) | ${naiveMs.toFixed(0)} | 1.00 |`);
console.log(`| genera incremental + heap | ${fastMs.toFixed(0)} | ${(naiveMs / fastMs).toFixed(1)}× faster |`);
console.log(
  `\nencode: ${ids.length.toLocaleString()} tokens in ${encodeMs.toFixed(0)} ms ` +
    `(${(text.length / ids.length).toFixed(2)} chars/token)`,
);

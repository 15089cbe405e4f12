import { GeneraError } from "../../errors.js";
import { atomicWriteFileSync } from "../../util/atomicWrite.js";
import { BYTE_TO_UNICODE, bytesToUnicodeString, unicodeStringToBytes } from "./byteUnicode.js";
import {
  addedToken,
  type DecodeOptions,
  type EncodeOptions,
  splitOnSpecialTokens,
  type Tokenizer,
  type TokenizerJSON,
  utf8Bytes,
} from "./Tokenizer.js";

/** GPT-2's pre-tokenisation: contractions, letter runs, digit runs, punctuation runs, whitespace. */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export const DEFAULT_SPECIAL_TOKENS = ["<|endoftext|>", "<pad>", "<bos>", "<eos>"];

export interface BPETrainOptions {
  /** Total vocabulary: 256 bytes + merges + special tokens. */
  vocabSize: number;
  specialTokens?: string[];
  /** Stop merging when the most frequent pair occurs fewer times than this (default 2). */
  minFrequency?: number;
}

// Pair keys pack two ids into one safe integer; ids stay far below 2^21.
const PAIR_SHIFT = 2 ** 21;
const pairKey = (a: number, b: number): number => a * PAIR_SHIFT + b;

/**
 * Byte-level BPE as in GPT-2: text is split by the GPT-2 regex, each piece becomes
 * its UTF-8 bytes (ids 0–255), and learned merges join adjacent ids by rank. Any
 * UTF-8 text round-trips because every byte has an id.
 */
export class BPETokenizer implements Tokenizer {
  readonly kind = "bpe" as const;
  readonly specialTokens: ReadonlyMap<string, number>;
  /** merges[i] = [left, right]; the merged id is 256 + i. */
  readonly merges: ReadonlyArray<readonly [number, number]>;
  private readonly ranks = new Map<number, number>();
  private readonly bytes: Uint8Array[];
  private readonly cache = new Map<string, number[]>();
  private readonly specialIds: Set<number>;

  constructor(merges: ReadonlyArray<readonly [number, number]>, specialTokens: string[] = DEFAULT_SPECIAL_TOKENS) {
    this.merges = merges.map(([a, b]) => [a, b] as const);
    this.bytes = [];
    for (let b = 0; b < 256; b++) this.bytes.push(Uint8Array.of(b));
    this.merges.forEach(([a, b], i) => {
      const id = 256 + i;
      if (!(a < id && b < id && a >= 0 && b >= 0)) {
        throw new GeneraError("INVALID_INPUT", `merge ${i} (${a}, ${b}) refers to a token not defined before it`);
      }
      const key = pairKey(a, b);
      if (this.ranks.has(key)) throw new GeneraError("INVALID_INPUT", `merge ${i} (${a}, ${b}) is listed twice`);
      this.ranks.set(key, i);
      const joined = new Uint8Array(this.bytes[a].length + this.bytes[b].length);
      joined.set(this.bytes[a]);
      joined.set(this.bytes[b], this.bytes[a].length);
      this.bytes.push(joined);
    });
    const sp = new Map<string, number>();
    for (const s of specialTokens) {
      if (sp.has(s)) throw new GeneraError("INVALID_INPUT", `special token ${JSON.stringify(s)} is duplicated`);
      sp.set(s, this.bytes.length + sp.size);
    }
    this.specialTokens = sp;
    this.specialIds = new Set(sp.values());
    for (const s of sp.keys()) this.bytes.push(utf8Bytes(s));
  }

  get vocabSize(): number {
    return this.bytes.length;
  }

  /**
   * Learn merges from a corpus. Pair counts are kept incrementally: a merge only
   * revisits the distinct words that contain the pair, and a max-heap with lazy
   * deletion finds the next best pair, so ~1 MB trains in seconds.
   */
  static train(text: string, options: BPETrainOptions): BPETokenizer {
    const specials = options.specialTokens ?? DEFAULT_SPECIAL_TOKENS;
    const numMerges = options.vocabSize - 256 - specials.length;
    if (!Number.isInteger(options.vocabSize) || numMerges < 0) {
      throw new GeneraError(
        "INVALID_INPUT",
        `BPE vocabSize must be an integer ≥ 256 + ${specials.length} special tokens; got ${options.vocabSize}`,
      );
    }
    const minFrequency = Math.max(1, options.minFrequency ?? 2);

    // Distinct pre-tokens with their counts; special tokens never take part in merges.
    const wordCounts = new Map<string, number>();
    const specialMap = new Map(specials.map((s, i) => [s, i]));
    for (const part of splitOnSpecialTokens(text, specialMap)) {
      if (!("text" in part)) continue;
      for (const m of part.text.matchAll(GPT2_PATTERN)) wordCounts.set(m[0], (wordCounts.get(m[0]) ?? 0) + 1);
    }
    const words: number[][] = [];
    const freqs: number[] = [];
    for (const [w, c] of wordCounts) {
      const b = utf8Bytes(w);
      if (b.length < 2) continue;
      words.push(Array.from(b));
      freqs.push(c);
    }

    const counts = new Map<number, number>();
    const where = new Map<number, Set<number>>();
    const addPairs = (wi: number, sign: number) => {
      const w = words[wi];
      const f = freqs[wi] * sign;
      for (let i = 0; i + 1 < w.length; i++) {
        const k = pairKey(w[i], w[i + 1]);
        counts.set(k, (counts.get(k) ?? 0) + f);
        if (sign > 0) {
          const s = where.get(k);
          if (s) s.add(wi);
          else where.set(k, new Set([wi]));
        }
      }
    };
    for (let wi = 0; wi < words.length; wi++) addPairs(wi, 1);

    const heap = new PairHeap();
    for (const [k, c] of counts) heap.push(c, k);

    const merges: Array<[number, number]> = [];
    while (merges.length < numMerges) {
      const top = heap.pop();
      if (!top) break;
      const [count, key] = top;
      if (counts.get(key) !== count) continue; // stale heap entry
      if (count < minFrequency) break;
      const a = Math.floor(key / PAIR_SHIFT);
      const b = key - a * PAIR_SHIFT;
      const newId = 256 + merges.length;
      merges.push([a, b]);
      const touched = new Set<number>();
      for (const wi of where.get(key) ?? []) {
        const w = words[wi];
        const before = new Set<number>();
        for (let i = 0; i + 1 < w.length; i++) before.add(pairKey(w[i], w[i + 1]));
        addPairs(wi, -1);
        const merged: number[] = [];
        for (let i = 0; i < w.length; i++) {
          if (i + 1 < w.length && w[i] === a && w[i + 1] === b) {
            merged.push(newId);
            i++;
          } else merged.push(w[i]);
        }
        words[wi] = merged;
        addPairs(wi, 1);
        const after = new Set<number>();
        for (let i = 0; i + 1 < merged.length; i++) after.add(pairKey(merged[i], merged[i + 1]));
        for (const k of before) {
          touched.add(k);
          if (!after.has(k)) where.get(k)?.delete(wi);
        }
        for (const k of after) touched.add(k);
      }
      where.delete(key);
      counts.delete(key);
      for (const k of touched) {
        const c = counts.get(k);
        if (c === undefined) continue;
        if (c <= 0) {
          counts.delete(k);
          where.delete(k);
        } else heap.push(c, k);
      }
    }
    return new BPETokenizer(merges, specials);
  }

  private encodeChunk(chunk: string): number[] {
    const cached = this.cache.get(chunk);
    if (cached) return cached;
    let ids = Array.from(utf8Bytes(chunk));
    while (ids.length >= 2) {
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.ranks.get(pairKey(ids[i], ids[i + 1]));
        if (r !== undefined && r < bestRank) bestRank = r;
      }
      if (bestRank === Number.POSITIVE_INFINITY) break;
      const [a, b] = this.merges[bestRank];
      const id = 256 + bestRank;
      const next: number[] = [];
      for (let i = 0; i < ids.length; i++) {
        if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
          next.push(id);
          i++;
        } else next.push(ids[i]);
      }
      ids = next;
    }
    // Bounded so encoding an endless stream of novel words cannot grow memory without limit.
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(chunk, ids);
    return ids;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    const parts = options.allowSpecial === false ? [{ text }] : splitOnSpecialTokens(text, this.specialTokens);
    for (const part of parts) {
      if ("special" in part) {
        out.push(part.special);
        continue;
      }
      for (const m of part.text.matchAll(GPT2_PATTERN)) for (const id of this.encodeChunk(m[0])) out.push(id);
    }
    return out;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const pieces: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (options.skipSpecialTokens && this.specialIds.has(id)) continue;
      const b = this.tokenBytes(id);
      pieces.push(b);
      total += b.length;
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const p of pieces) {
      all.set(p, at);
      at += p.length;
    }
    // A model may emit byte sequences that are not valid UTF-8; they become U+FFFD rather than an error.
    return new TextDecoder("utf-8").decode(all);
  }

  tokenBytes(id: number): Uint8Array {
    const b = Number.isInteger(id) ? this.bytes[id] : undefined;
    if (b === undefined)
      throw new GeneraError("INVALID_INPUT", `token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    return b;
  }

  idToToken(id: number): string | undefined {
    if (this.specialIds.has(id)) return new TextDecoder().decode(this.bytes[id]);
    const b = this.bytes[id];
    return b === undefined ? undefined : bytesToUnicodeString(b);
  }

  tokenToId(token: string): number | undefined {
    const sp = this.specialTokens.get(token);
    if (sp !== undefined) return sp;
    const b = unicodeStringToBytes(token);
    if (!b) return undefined;
    if (b.length === 1) return b[0];
    const ids = this.encodeBytes(b);
    return ids.length === 1 ? ids[0] : undefined;
  }

  private encodeBytes(b: Uint8Array): number[] {
    // Byte strings that are tokens are always reachable by applying merges in rank order.
    let ids = Array.from(b);
    for (;;) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.ranks.get(pairKey(ids[i], ids[i + 1]));
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) return ids;
      ids = [...ids.slice(0, best), 256 + bestRank, ...ids.slice(best + 2)];
    }
  }

  toJSON(): TokenizerJSON {
    const vocab: Record<string, number> = {};
    for (let id = 0; id < 256 + this.merges.length; id++) vocab[bytesToUnicodeString(this.bytes[id])] = id;
    for (const [s, id] of this.specialTokens) vocab[s] = id;
    const merges = this.merges.map(
      ([a, b]) => `${bytesToUnicodeString(this.bytes[a])} ${bytesToUnicodeString(this.bytes[b])}`,
    );
    const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
    return {
      version: "1.0",
      genera: { kind: "bpe", format: 1 },
      truncation: null,
      padding: null,
      added_tokens: [...this.specialTokens].map(([s, id]) => addedToken(id, s)),
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: null,
      decoder: byteLevel,
      model: {
        type: "BPE",
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: false,
        byte_fallback: false,
        vocab,
        merges,
      },
    };
  }

  save(path: string): void {
    atomicWriteFileSync(path, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
  }

  /**
   * Reads our own files and Hugging Face byte-level BPE files laid out the same way:
   * byte b has id b, merge i makes id 256 + i, special tokens follow. Other layouts
   * (GPT-2's own vocab orders its bytes differently) are rejected rather than
   * silently remapped, since a model's embedding rows are tied to those ids.
   */
  static fromJSON(json: TokenizerJSON, source = "tokenizer.json"): BPETokenizer {
    const corrupt = (why: string) => new GeneraError("INDEX_CORRUPT", `${source}: ${why}`);
    const vocab = json.model?.vocab;
    const rawMerges = json.model?.merges;
    if (!vocab || typeof vocab !== "object" || !Array.isArray(rawMerges))
      throw corrupt("BPE model needs vocab and merges");
    const byId = new Map<number, Uint8Array>();
    const specials = new Map<number, string>();
    for (const t of json.added_tokens ?? []) specials.set(t.id, t.content);
    for (const [tok, id] of Object.entries(vocab)) {
      if (specials.has(id)) continue;
      const b = unicodeStringToBytes(tok);
      if (!b) throw corrupt(`vocab token ${JSON.stringify(tok)} is not in the byte-level alphabet`);
      byId.set(id, b);
    }
    const idOfBytes = new Map<string, number>();
    for (const [id, b] of byId) idOfBytes.set(bytesToUnicodeString(b), id);
    for (let b = 0; b < 256; b++) {
      if (idOfBytes.get(BYTE_TO_UNICODE[b]) === undefined)
        throw corrupt(`vocab lacks the single byte 0x${b.toString(16)}`);
    }
    // Derive the id every token would have in our layout (bytes by value, merges by rank) and insist the file agrees.
    const fileToOurs = new Map<number, number>();
    for (let b = 0; b < 256; b++) fileToOurs.set(idOfBytes.get(BYTE_TO_UNICODE[b])!, b);
    const merges: Array<[number, number]> = [];
    rawMerges.forEach((m, i) => {
      const [l, r] = Array.isArray(m) ? m : String(m).split(" ");
      const li = idOfBytes.get(l);
      const ri = idOfBytes.get(r);
      const joined = idOfBytes.get(`${l}${r}`);
      if (li === undefined || ri === undefined || joined === undefined)
        throw corrupt(`merge ${i} "${l} ${r}" uses tokens missing from the vocab`);
      const a = fileToOurs.get(li);
      const b = fileToOurs.get(ri);
      if (a === undefined || b === undefined)
        throw corrupt(`merge ${i} "${l} ${r}" comes before the merges that build its parts`);
      fileToOurs.set(joined, 256 + i);
      merges.push([a, b]);
    });
    for (const [fileId, ours] of fileToOurs) {
      if (fileId !== ours)
        throw corrupt(
          `token id ${fileId} would be ${ours} here; only vocabularies laid out as bytes then merges are supported`,
        );
    }
    const specialList = [...specials].sort((x, y) => x[0] - y[0]);
    specialList.forEach(([id, content], i) => {
      if (id !== 256 + merges.length + i)
        throw corrupt(`special token ${JSON.stringify(content)} has id ${id}, expected ${256 + merges.length + i}`);
    });
    try {
      return new BPETokenizer(
        merges,
        specialList.map(([, c]) => c),
      );
    } catch (error) {
      throw corrupt((error as Error).message);
    }
  }
}

/** Binary max-heap of (count, pairKey); ties go to the smaller key so training is deterministic. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  private better(i: number, j: number): boolean {
    const c = this.counts;
    return c[i] > c[j] || (c[i] === c[j] && this.keys[i] < this.keys[j]);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.better(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): [number, number] | undefined {
    const n = this.counts.length;
    if (n === 0) return undefined;
    const top: [number, number] = [this.counts[0], this.keys[0]];
    this.swap(0, n - 1);
    this.counts.pop();
    this.keys.pop();
    let i = 0;
    const m = n - 1;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < m && this.better(l, best)) best = l;
      if (r < m && this.better(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}

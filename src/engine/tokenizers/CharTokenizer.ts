import { GeneraError } from "../../errors.js";
import { atomicWriteFileSync } from "../../util/atomicWrite.js";
import {
  addedToken,
  type DecodeOptions,
  type EncodeOptions,
  splitOnSpecialTokens,
  type Tokenizer,
  type TokenizerJSON,
  utf8Bytes,
} from "./Tokenizer.js";

export interface CharTokenizerOptions {
  /**
   * Special tokens appended after the characters. Default ["<unk>"], so text with a
   * character the corpus never had still encodes.
   */
  specialTokens?: string[];
  /** What encode does with a character outside the vocabulary: map it to `<unk>` (default if present) or throw. */
  unknown?: "unk" | "error";
}

const UNK = "<unk>";

/**
 * One token per Unicode code point (not per UTF-16 unit, so emoji and other astral
 * characters stay whole). Ids are the corpus characters sorted by code point,
 * then the special tokens.
 */
export class CharTokenizer implements Tokenizer {
  readonly kind = "char" as const;
  readonly specialTokens: ReadonlyMap<string, number>;
  private readonly chars: string[];
  private readonly charToId: Map<string, number>;
  private readonly unkId: number | undefined;
  private readonly unknown: "unk" | "error";
  private readonly bytesCache: Uint8Array[];

  constructor(chars: string[], options: CharTokenizerOptions = {}) {
    const specials = options.specialTokens ?? [UNK];
    this.chars = chars.slice();
    this.charToId = new Map();
    for (const ch of this.chars) {
      if ([...ch].length !== 1) {
        throw new GeneraError(
          "INVALID_INPUT",
          `CharTokenizer vocabulary entry ${JSON.stringify(ch)} is not one character`,
        );
      }
      if (this.charToId.has(ch)) {
        throw new GeneraError("INVALID_INPUT", `CharTokenizer vocabulary lists ${JSON.stringify(ch)} twice`);
      }
      this.charToId.set(ch, this.charToId.size);
    }
    const sp = new Map<string, number>();
    for (const s of specials) {
      if (sp.has(s) || this.charToId.has(s)) {
        throw new GeneraError("INVALID_INPUT", `special token ${JSON.stringify(s)} is duplicated`);
      }
      sp.set(s, this.chars.length + sp.size);
    }
    this.specialTokens = sp;
    this.unkId = sp.get(UNK);
    this.unknown = options.unknown ?? (this.unkId === undefined ? "error" : "unk");
    if (this.unknown === "unk" && this.unkId === undefined) {
      throw new GeneraError("INVALID_INPUT", 'CharTokenizer unknown: "unk" needs "<unk>" among the special tokens');
    }
    this.bytesCache = [...this.chars, ...sp.keys()].map((s) => utf8Bytes(s));
  }

  /** Vocabulary = every distinct code point of the corpus. */
  static fromCorpus(text: string, options: CharTokenizerOptions = {}): CharTokenizer {
    const set = new Set<string>();
    for (const ch of text) set.add(ch);
    const chars = [...set].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer(chars, options);
  }

  get vocabSize(): number {
    return this.chars.length + this.specialTokens.size;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    const parts = options.allowSpecial === false ? [{ text }] : splitOnSpecialTokens(text, this.specialTokens);
    for (const part of parts) {
      if ("special" in part) {
        ids.push(part.special);
        continue;
      }
      for (const ch of part.text) {
        const id = this.charToId.get(ch);
        if (id !== undefined) ids.push(id);
        else if (this.unknown === "unk") ids.push(this.unkId!);
        else
          throw new GeneraError(
            "INVALID_INPUT",
            `character ${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}) is not in the tokenizer's vocabulary`,
            { details: { char: ch } },
          );
      }
    }
    return ids;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    let s = "";
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id < this.chars.length && id >= 0) s += this.chars[id];
      else {
        const tok = this.idToToken(id);
        if (tok === undefined)
          throw new GeneraError("INVALID_INPUT", `token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
        if (!options.skipSpecialTokens) s += tok;
      }
    }
    return s;
  }

  tokenBytes(id: number): Uint8Array {
    const b = this.bytesCache[id];
    if (b === undefined)
      throw new GeneraError("INVALID_INPUT", `token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    return b;
  }

  idToToken(id: number): string | undefined {
    if (id >= 0 && id < this.chars.length) return this.chars[id];
    for (const [s, i] of this.specialTokens) if (i === id) return s;
    return undefined;
  }

  tokenToId(token: string): number | undefined {
    return this.charToId.get(token) ?? this.specialTokens.get(token);
  }

  toJSON(): TokenizerJSON {
    const vocab: Record<string, number> = {};
    this.chars.forEach((ch, i) => {
      vocab[ch] = i;
    });
    for (const [s, i] of this.specialTokens) vocab[s] = i;
    return {
      version: "1.0",
      genera: { kind: "char", format: 1 },
      truncation: null,
      padding: null,
      added_tokens: [...this.specialTokens].map(([s, i]) => addedToken(i, s)),
      normalizer: null,
      // Documents the behaviour for other readers: every code point is its own token.
      pre_tokenizer: { type: "Split", pattern: { Regex: "(?s:.)" }, behavior: "Isolated", invert: false },
      post_processor: null,
      decoder: { type: "Fuse" },
      model: { type: "WordLevel", vocab, unk_token: this.unkId === undefined ? null : UNK, unknown: this.unknown },
    };
  }

  save(path: string): void {
    atomicWriteFileSync(path, `${JSON.stringify(this.toJSON(), null, 2)}\n`);
  }

  static fromJSON(json: TokenizerJSON, source = "tokenizer.json"): CharTokenizer {
    const vocab = json.model?.vocab;
    if (!vocab || typeof vocab !== "object") {
      throw new GeneraError("INDEX_CORRUPT", `${source}: char tokenizer has no model.vocab`);
    }
    const specialSet = new Set((json.added_tokens ?? []).map((t) => t.content));
    const entries = Object.entries(vocab).sort((a, b) => a[1] - b[1]);
    const chars: string[] = [];
    const specials: string[] = [];
    entries.forEach(([tok, id], index) => {
      if (id !== index)
        throw new GeneraError("INDEX_CORRUPT", `${source}: vocab ids are not 0..n-1 (missing id ${index})`);
      if (specialSet.has(tok)) specials.push(tok);
      else if (specials.length > 0) {
        throw new GeneraError(
          "INDEX_CORRUPT",
          `${source}: character ${JSON.stringify(tok)} listed after the special tokens`,
        );
      } else chars.push(tok);
    });
    const unknown = json.model.unknown === "error" ? "error" : undefined;
    try {
      return new CharTokenizer(chars, { specialTokens: specials, unknown });
    } catch (error) {
      throw new GeneraError("INDEX_CORRUPT", `${source}: ${(error as Error).message}`, { cause: error });
    }
  }
}

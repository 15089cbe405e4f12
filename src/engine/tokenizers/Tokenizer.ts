/**
 * The contract both tokenizers share, plus the pieces they have in common:
 * special-token splitting and incremental (streaming) decoding.
 *
 * tokenizer.json layout (Hugging Face `tokenizers`-like, so the files read familiarly
 * and a byte-level BPE file written here loads in HF tooling):
 * ```json
 * {
 *   "version": "1.0",
 *   "genera": { "kind": "bpe" | "char", "format": 1 },
 *   "added_tokens": [{ "id": 259, "content": "<|endoftext|>", "special": true, ... }],
 *   "normalizer": null,
 *   "pre_tokenizer": { "type": "ByteLevel", "add_prefix_space": false, "use_regex": true, ... },  // BPE
 *   "decoder": { "type": "ByteLevel", ... },
 *   "model": { "type": "BPE", "vocab": { "Ġthe": 300, ... }, "merges": ["Ġ t", "h e", ...] }
 *   // char: "model": { "type": "WordLevel", "vocab": { "a": 0, ... }, "unk_token": "<unk>" }
 * }
 * ```
 * BPE vocab keys and merges use GPT-2's byte→unicode alphabet (a space is "Ġ"); the
 * first 256 ids are the single bytes, merges are listed in rank order and special
 * tokens come last. The char tokenizer's vocab keys are single code points.
 */

export type TokenizerKind = "char" | "bpe";

export interface EncodeOptions {
  /**
   * Whether special-token strings in the text (e.g. "<|endoftext|>") become their
   * special id (default true) or are encoded as ordinary text.
   */
  allowSpecial?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

export interface Tokenizer {
  readonly kind: TokenizerKind;
  readonly vocabSize: number;
  /** Special token string → id. */
  readonly specialTokens: ReadonlyMap<string, number>;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** UTF-8 bytes a token stands for, so streams can emit text only at character boundaries. */
  tokenBytes(id: number): Uint8Array;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
  toJSON(): TokenizerJSON;
  save(path: string): void;
}

export interface AddedToken {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface TokenizerJSON {
  version: string;
  genera?: { kind: TokenizerKind; format: number };
  truncation: null;
  padding: null;
  added_tokens: AddedToken[];
  normalizer: null;
  pre_tokenizer: Record<string, unknown> | null;
  post_processor: null;
  decoder: Record<string, unknown> | null;
  model: {
    type: string;
    vocab: Record<string, number>;
    merges?: Array<string | [string, string]>;
    unk_token?: string | null;
    [key: string]: unknown;
  };
}

export function addedToken(id: number, content: string): AddedToken {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Split text into ordinary segments and special tokens. Longer specials are tried
 * first so "<|endoftext|>" wins over a hypothetical "<|end".
 */
export function splitOnSpecialTokens(
  text: string,
  specials: ReadonlyMap<string, number>,
): Array<{ text: string } | { special: number }> {
  if (specials.size === 0 || text.length === 0) return text.length ? [{ text }] : [];
  const names = [...specials.keys()].sort((a, b) => b.length - a.length);
  const re = new RegExp(names.map(escapeRegExp).join("|"), "g");
  const out: Array<{ text: string } | { special: number }> = [];
  let last = 0;
  for (const m of text.matchAll(re)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ text: text.slice(last, at) });
    out.push({ special: specials.get(m[0])! });
    last = at + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

/**
 * Turns a stream of token ids into text pieces that are always whole characters:
 * a byte-level BPE token can end in the middle of a multi-byte UTF-8 sequence, and
 * TextDecoder's stream mode holds those bytes back until the character completes.
 */
export class TokenStreamDecoder {
  private readonly decoder = new TextDecoder("utf-8");
  private readonly specialIds: Set<number>;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly options: DecodeOptions = {},
  ) {
    this.specialIds = new Set(tokenizer.specialTokens.values());
  }

  push(id: number): string {
    if (this.options.skipSpecialTokens && this.specialIds.has(id)) return "";
    return this.decoder.decode(this.tokenizer.tokenBytes(id), { stream: true });
  }

  /** Whatever bytes are still pending (an incomplete character decodes to U+FFFD). */
  flush(): string {
    return this.decoder.decode();
  }
}

const utf8 = new TextEncoder();
export function utf8Bytes(s: string): Uint8Array {
  return utf8.encode(s);
}

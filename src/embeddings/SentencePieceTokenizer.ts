import { GeneraError } from "../errors.js";

/** SentencePiece marks the start of every word with this character (U+2581). */
export const WORD_BOUNDARY = "\u2581";

/** Vocabulary rows of USE-lite's vocab.json: [piece, log-probability]. A null score marks a user-defined symbol. */
export type SentencePieceVocabulary = Array<[string, number | null]>;

/**
 * The first six ids of the USE-lite vocabulary are reserved (unk, <s>, </s>,
 * extra tokens) and never produced by segmentation, except id 0 for unknown text.
 */
const RESERVED_SYMBOLS = 6;
const UNKNOWN_ID = 0;

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Vocabulary id of the piece that ends here, or -1. */
  id: number;
}

function newNode(): TrieNode {
  return { children: new Map(), id: -1 };
}

/**
 * Normalises like SentencePiece's default rules as used by USE-lite: NFKC, runs of
 * whitespace (newlines and tabs included) collapse to one space, no leading or
 * trailing space, then every word is prefixed with the boundary mark. Case is kept:
 * the vocabulary holds cased pieces ("▁I", "▁The").
 */
export function normalizeForSentencePiece(text: string): string {
  const collapsed = text.normalize("NFKC").replace(/\s+/gu, " ").trim();
  return collapsed.length === 0 ? "" : WORD_BOUNDARY + collapsed.replaceAll(" ", WORD_BOUNDARY);
}

/**
 * SentencePiece unigram segmentation: Viterbi search for the sequence of pieces
 * with the highest summed log-probability, over a trie of the vocabulary.
 */
export class SentencePieceTokenizer {
  private readonly root = newNode();
  private readonly scores: Float64Array;
  /** Length of each piece in code points, for the backward pass. */
  private readonly lengths: Int32Array;
  /** SentencePiece scores unknown characters well below every real piece so they are used only as a last resort. */
  private readonly unknownScore: number;
  /** Longest piece in code points: bounds how much text a given number of tokens can cover. */
  readonly maxPieceLength: number;

  constructor(vocabulary: SentencePieceVocabulary) {
    if (!Array.isArray(vocabulary) || vocabulary.length <= RESERVED_SYMBOLS) {
      throw new GeneraError("INVALID_INPUT", "SentencePiece vocabulary must be an array of [piece, score] rows");
    }
    this.scores = new Float64Array(vocabulary.length);
    this.lengths = new Int32Array(vocabulary.length);
    let minScore = 0;
    let maxLength = 1;
    for (let id = 0; id < vocabulary.length; id++) {
      const row = vocabulary[id];
      if (!Array.isArray(row) || typeof row[0] !== "string") {
        throw new GeneraError("INVALID_INPUT", `SentencePiece vocabulary row ${id} is not a [piece, score] pair`);
      }
      const [piece, rawScore] = row;
      // The original USE tokenizer adds a null score as 0: such user-defined symbols always win.
      const score = typeof rawScore === "number" && Number.isFinite(rawScore) ? rawScore : 0;
      const chars = Array.from(piece);
      this.scores[id] = score;
      this.lengths[id] = chars.length;
      if (id < RESERVED_SYMBOLS || chars.length === 0) continue;
      minScore = Math.min(minScore, score);
      maxLength = Math.max(maxLength, chars.length);
      let node = this.root;
      for (const ch of chars) {
        let next = node.children.get(ch);
        if (!next) {
          next = newNode();
          node.children.set(ch, next);
        }
        node = next;
      }
      // Keep the first id when a piece is listed twice, like a trie insert that does not overwrite.
      if (node.id === -1) node.id = id;
    }
    this.unknownScore = minScore - 10;
    this.maxPieceLength = maxLength;
    this.lengths[UNKNOWN_ID] = 1;
  }

  /** Token ids of `text`; consecutive unknown characters become a single unknown id. */
  encode(text: string, maxTokens = Number.POSITIVE_INFINITY): number[] {
    const symbols = this.symbolsFor(text, maxTokens);
    if (symbols.length === 0) return [];
    const n = symbols.length;
    const best = new Float64Array(n + 1).fill(Number.NEGATIVE_INFINITY);
    const bestId = new Int32Array(n + 1).fill(-1);
    best[0] = 0;
    for (let start = 0; start < n; start++) {
      const base = best[start] as number;
      if (base === Number.NEGATIVE_INFINITY) continue;
      let node: TrieNode | undefined = this.root;
      let matched = false;
      for (let end = start; end < n; end++) {
        node = node.children.get(symbols[end] as string);
        if (!node) break;
        if (node.id === -1) continue;
        const score = base + (this.scores[node.id] as number);
        // ">=" lets the later of two equal-scoring paths win, as the reference implementation does.
        if (score >= (best[end + 1] as number)) {
          best[end + 1] = score;
          bestId[end + 1] = node.id;
        }
        if (end === start) matched = true;
      }
      if (!matched) {
        const score = base + this.unknownScore;
        if (score >= (best[start + 1] as number)) {
          best[start + 1] = score;
          bestId[start + 1] = UNKNOWN_ID;
        }
      }
    }
    const reversed: number[] = [];
    for (let pos = n; pos > 0; ) {
      const id = bestId[pos] as number;
      const previousWasUnknown = reversed.length > 0 && reversed[reversed.length - 1] === UNKNOWN_ID;
      if (!(id === UNKNOWN_ID && previousWasUnknown)) reversed.push(id);
      pos -= this.lengths[id] as number;
    }
    const ids = reversed.reverse();
    return ids.length > maxTokens ? ids.slice(0, maxTokens) : ids;
  }

  /**
   * The normalised characters that can contribute to the first maxTokens tokens. Pieces
   * span at most maxPieceLength characters, so nothing past maxTokens * maxPieceLength
   * matters; on long input only a growing prefix of the raw text is normalised, because
   * normalising a whole book to keep 256 tokens would dominate the cost.
   */
  private symbolsFor(text: string, maxTokens: number): string[] {
    if (!Number.isFinite(maxTokens)) return Array.from(normalizeForSentencePiece(text));
    const needed = Math.max(1, Math.floor(maxTokens)) * this.maxPieceLength;
    for (let take = needed * 2; ; take *= 2) {
      const whole = take >= text.length;
      const symbols = Array.from(normalizeForSentencePiece(whole ? text : text.slice(0, take)));
      if (symbols.length > needed) {
        symbols.length = needed;
        return symbols;
      }
      if (whole) return symbols;
    }
  }
}

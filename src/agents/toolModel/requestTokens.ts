import type { WordLexicon } from "./WordLexicon.js";

/**
 * How the offline tool model reads a request: word and symbol tokens with their character
 * offsets (a predicted span is cut from the original text, so arguments are copied exactly,
 * never re-typed), and for each token three ids the model embeds: the lower-cased word
 * (UNK when unknown), its shape (number, capitalised, path-like…) and a hashed suffix, so
 * words never seen in training still carry some signal.
 */

export interface RequestToken {
  text: string;
  start: number;
  end: number;
}

/**
 * Numbers (unless they start a file name such as 2025-q3.csv), words with inner
 * apostrophes, dots, slashes and dashes (so file names and paths stay whole), single symbols.
 */
const TOKEN_RE = /\d+(?:\.\d+)?(?![\w\\]|[.\-/][A-Za-z_])|\w+(?:['’][A-Za-z]+)?(?:[./\\-]\w+)*|[^\s\w]/g;

export function tokenizeRequest(text: string): RequestToken[] {
  const tokens: RequestToken[] = [];
  for (const m of text.matchAll(TOKEN_RE)) tokens.push({ text: m[0], start: m.index, end: m.index + m[0].length });
  return tokens;
}

export const SHAPES = [
  "pad",
  "cls",
  "number",
  "decimal",
  "lower",
  "capitalized",
  "upper",
  "path",
  "file",
  "mixed",
  "symbol",
] as const;

export function tokenShape(token: string): number {
  let shape: (typeof SHAPES)[number];
  if (/^\d+$/.test(token)) shape = "number";
  else if (/^\d+(?:[.,]\d+)+$/.test(token)) shape = "decimal";
  else if (/^[\w./\\-]+\.[A-Za-z][A-Za-z0-9]{0,4}$/.test(token)) shape = "file";
  else if (/[/\\]/.test(token)) shape = "path";
  else if (/^[a-z]+(?:['’][a-z]+)?$/.test(token)) shape = "lower";
  else if (/^[A-Z][a-z]+(?:['’][a-z]+)?$/.test(token)) shape = "capitalized";
  else if (/^[A-Z]+$/.test(token)) shape = "upper";
  else if (/^[A-Za-z0-9_.\-'’]+$/.test(token)) shape = "mixed";
  else shape = "symbol";
  return SHAPES.indexOf(shape);
}

export const SUFFIX_BUCKETS = 128;

/** A stable bucket for the last three characters (FNV-1a), 1…SUFFIX_BUCKETS-1; 0 is padding. */
export function suffixBucket(token: string): number {
  const suffix = token.toLowerCase().slice(-3);
  let h = 0x811c9dc5;
  for (let i = 0; i < suffix.length; i++) h = Math.imul(h ^ suffix.charCodeAt(i), 0x01000193) >>> 0;
  return 1 + (h % (SUFFIX_BUCKETS - 1));
}

export const PAD = "<pad>";
export const CLS = "<cls>";
export const UNK = "<unk>";

/**
 * Word ids: the special tokens first, then words in the order the vocabulary was built; and,
 * for models that read them, the lexicon that gives every word (known or not) its classes.
 */
export class RequestVocabulary {
  readonly ids: Map<string, number>;

  constructor(
    readonly words: string[],
    readonly lexicon?: WordLexicon,
  ) {
    this.ids = new Map(words.map((w, i) => [w, i]));
  }

  static build(texts: Iterable<string>, minCount = 2, lexicon?: WordLexicon): RequestVocabulary {
    const counts = new Map<string, number>();
    for (const text of texts) {
      for (const t of tokenizeRequest(text))
        counts.set(normalizeWord(t.text), (counts.get(normalizeWord(t.text)) ?? 0) + 1);
    }
    const words = [...counts]
      .filter(([, n]) => n >= minCount)
      .map(([w]) => w)
      .sort();
    return new RequestVocabulary([PAD, CLS, UNK, ...words], lexicon);
  }

  get size(): number {
    return this.words.length;
  }

  id(word: string): number {
    return this.ids.get(normalizeWord(word)) ?? (this.ids.get(UNK) as number);
  }
}

/** Every run of digits is one word ("7", "42" and "1999" alike): numbers are read by their shape and place, not their value or length. */
export function normalizeWord(word: string): string {
  return word.toLowerCase().replace(/\d+/g, "0");
}

/** One request as the model's input row: [CLS] then the tokens, cut at maxLen. */
export interface EncodedRequest {
  tokens: RequestToken[];
  words: number[];
  shapes: number[];
  suffixes: number[];
  /** Word-class ids (WordLexicon), when the vocabulary has a lexicon. */
  classes?: number[];
}

export function encodeRequest(text: string, vocab: RequestVocabulary, maxLen: number): EncodedRequest {
  const tokens = tokenizeRequest(text).slice(0, maxLen - 1);
  return {
    tokens,
    words: [vocab.id(CLS), ...tokens.map((t) => vocab.id(t.text))],
    shapes: [SHAPES.indexOf("cls"), ...tokens.map((t) => tokenShape(t.text))],
    suffixes: [0, ...tokens.map((t) => suffixBucket(t.text))],
    ...(vocab.lexicon ? { classes: vocab.lexicon.classIds(tokens) } : {}),
  };
}

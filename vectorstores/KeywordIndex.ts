import { basename, extname } from "node:path";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import MiniSearch from "minisearch";
import { GeneraError } from "../src/errors.js";
import { KeywordPostings } from "./KeywordPostings.js";
import { KeywordScores } from "./KeywordScores.js";
import { porterStem } from "./porterStem.js";

/**
 * A BM25 full-text index over the same chunks as the dense index.
 *
 * Why it exists: the offline sentence encoder misses exact names, numbers and
 * rare terms; BM25 catches them. Scoring is MiniSearch's BM25+ (k1 = 1.2,
 * b = 0.7, δ = 0.5), summed over three fields with their own boosts — the
 * document title, the heading path and the body — and multiplied by the number
 * of distinct query terms matched (MiniSearch's coordination factor).
 *
 * Text analysis, applied identically to documents and queries (see `analyzeText`):
 * Unicode compatibility folding (NFKD) with diacritics stripped, case folding,
 * English stop-word removal, optional Porter stemming, and compound tokens such as
 * "gpt-4", "3.14" or "node.js" indexed both whole and as their parts.
 */

/** Metadata object (every key must match) or predicate, the same shape the dense store accepts. */
export type DocumentFilter = Record<string, unknown> | ((doc: DocumentInterface) => boolean);

export interface KeywordFieldBoosts {
  title: number;
  headings: number;
  body: number;
}

/** Where an index that keeps no documents of its own finds them (e.g. the dense store's docstore). */
export interface KeywordDocumentSource {
  get(id: string): DocumentInterface | undefined;
}

export interface KeywordIndexOptions {
  /** Porter stemming of plain English words (default true). */
  stem?: boolean;
  /** Per-field BM25 weights (default title 2, headings 1.5, body 1). */
  boosts?: Partial<KeywordFieldBoosts>;
  /**
   * Read documents from here instead of keeping a copy of each: the knowledge base shares its
   * docstore, so a chunk's text is held once. Callers then add and remove in step with it.
   */
  documents?: KeywordDocumentSource;
}

/**
 * A chunk's analysed fields: its terms in order, space-separated (terms never hold spaces).
 * What a store persists so that reopening an index skips text analysis (see `addAnalyzed`).
 */
export interface KeywordTerms {
  title: string;
  headings: string;
  body: string;
}

export interface KeywordSearchOptions {
  /** How many results (default 10). */
  k?: number;
  filter?: DocumentFilter;
  /** Typo tolerance: true (edit distance 20% of the term length), or an edit distance / fraction. */
  fuzzy?: boolean | number;
  /** Also match terms that start with a query term (weighted lower than exact matches). */
  prefix?: boolean;
  /**
   * Query terms found in more than this share of chunks (default 0.5) are common: they add
   * their share only to chunks that match a selective term of the query (unless every term is
   * common), Lucene's "common terms" query. Finding every chunk that holds only them means
   * visiting most of the index (on 10k chunks that was most of a query's cost), and such chunks
   * rank last anyway; but among the chunks that do match, dropping them changed the ranking: in
   * "Which element has atomic number 11?" over one profile per element, "atomic" and "number"
   * are in most chunks, and without them the element's own "Atomic number: 11" lost to a
   * neighbour's description that says "element" and "11". Applies from 200 chunks up; 1 makes
   * every term selective. (The fuzzy and prefix searches leave common terms out.)
   */
  maxDocFrequency?: number;
}

/** The parts of MiniSearch 7's instance that exactScores reads (the package version is pinned). */
interface MiniSearchInternals {
  _index: {
    get(term: string): Map<number, Map<number, number>> | undefined;
    [Symbol.iterator](): Iterator<[string, Map<number, Map<number, number>>]>;
  };
  _storedFields: Map<number, unknown>;
  _documentIds: Map<number, string>;
  _idToShortId: Map<string, number>;
  _fieldIds: Record<string, number>;
  _fieldLength: Map<number, number[]>;
  _avgFieldLength: number[];
  _documentCount: number;
  _nextId: number;
  _dirtCount: number;
  _options: { searchOptions?: { bm25?: Partial<typeof DEFAULT_BM25> } };
}

interface ScoreScratch {
  stamp: number;
  queryOf: Int32Array;
  termOf: Int32Array;
  total: Float64Array;
  partial: Float64Array;
  matched: Uint32Array;
  /** The documents a search scores, in the order it reached them. */
  docs: Int32Array;
  /** The documents one term reached. */
  termDocs: Int32Array;
}

/** MiniSearch's default BM25+ parameters (k1, b, δ): what every keyword side of genera scores with. */
export const BM25_PARAMETERS: Readonly<{ k: number; b: number; d: number }> = { k: 1.2, b: 0.7, d: 0.5 };
const DEFAULT_BM25 = BM25_PARAMETERS;

export interface KeywordSearchResult {
  id: string;
  score: number;
  document: Document;
}

const DEFAULT_MAX_DOC_FREQUENCY = 0.5;
/** Below this many chunks document frequencies are too coarse to call a term unselective. */
const MIN_DOCS_FOR_DF_CUT = 200;
/** The field weights of a KeywordIndex made without `boosts` (and of the Postgres store's BM25). */
export const DEFAULT_KEYWORD_BOOSTS: Readonly<KeywordFieldBoosts> = { title: 2, headings: 1.5, body: 1 };
const DEFAULT_BOOSTS = DEFAULT_KEYWORD_BOOSTS;
const FIELDS = ["title", "headings", "body"] as const;
/** Ids the change journal remembers (see `changedSince`); older changes mean a full rebuild downstream. */
const JOURNAL_IDS = 200_000;
/** Titles whose terms a KeywordIndex remembers for the retriever's title boost (see titleTerms). */
const TITLE_CACHE_SIZE = 100_000;
/** Above this share of discarded entries the postings are vacuumed (see `remove`). */
const COMPACT_DIRT_RATIO = 0.2;

/**
 * English stop words: function words that carry no topic. Negations ("no", "not")
 * are included because BM25 cannot use them anyway (it has no notion of scope).
 */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set(
  (
    "a about above after again against all am an and any are aren as at be because been before being below " +
    "between both but by can cannot could couldn did didn do does doesn doing don down during each few for from " +
    "further had hadn has hasn have haven having he her here hers herself him himself his how i if in into is isn " +
    "it its itself just let me more most mustn my myself no nor not now of off on once only or other ought our " +
    "ours ourselves out over own same shan she should shouldn so some such than that the their theirs them " +
    "themselves then there these they this those through to too under until up very was wasn we were weren what " +
    "when where which while who whom why will with won would wouldn you your yours yourself yourselves " +
    "s t d ll m re ve also may might must shall us via etc eg ie " +
    // The same contractions once their apostrophe is dropped (see analyzeText): "what's" → "whats".
    "whats whos hows wheres whens whys thats theres heres im ive id youre youve youd youll hes shes theyre " +
    "theyve theyd weve wed isnt arent wasnt werent dont doesnt didnt cant couldnt wont wouldnt shouldnt " +
    "hasnt havent hadnt mustnt lets"
  ).split(" "),
);

/** Letters that NFKD does not decompose but readers treat as their ASCII spelling. */
const EXTRA_FOLDS: Record<string, string> = {
  ß: "ss",
  æ: "ae",
  œ: "oe",
  ø: "o",
  ł: "l",
  đ: "d",
  ð: "d",
  þ: "th",
  ı: "i",
};

/** MiniSearch's BM25+ inverse document frequency of a term in `df` of `documents` chunks (per field). */
export function bm25Idf(documents: number, df: number): number {
  return Math.log(1 + (documents - df + 0.5) / (df + 0.5));
}

/**
 * The selective query terms, which decide which chunks are scored (see KeywordSearchOptions.maxDocFrequency):
 * those found in at most `maxDf` of the `size` chunks, unless none is; every term below 200 chunks.
 */
export function selectiveTerms(
  terms: string[],
  documentFrequency: (term: string) => number,
  size: number,
  maxDf = DEFAULT_MAX_DOC_FREQUENCY,
): string[] {
  if (maxDf >= 1 || size < MIN_DOCS_FOR_DF_CUT) return terms;
  const selective = terms.filter((t) => documentFrequency(t) <= maxDf * size);
  return selective.length > 0 ? selective : terms;
}

/** NFKD + strip combining marks + lowercase: "Ångström ﬁle" → "angstrom file". */
export function foldText(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[ßæœøłđðþı]/g, (c) => EXTRA_FOLDS[c] ?? c);
}

// A word, a number, or a compound joined by . _ - (e.g. "gpt-4", "3.14", "node.js", "snake_case").
const TOKEN = /[\p{L}\p{N}]+(?:[._-][\p{L}\p{N}]+)*/gu;
// What may stand before an option's dashes: nothing, a space, quote, bracket, comma or "=".
const OPTION_START = /^(?:|[\s`'"([{,=|])$/u;
// Scripts written without spaces: index single characters and adjacent pairs instead of "words".
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

function wordTerms(word: string, stem: boolean, out: string[]): void {
  if (CJK.test(word)) {
    const chars = [...word];
    for (let i = 0; i < chars.length; i++) {
      if (CJK.test(chars[i])) out.push(chars[i]);
      if (i + 1 < chars.length) out.push(chars[i] + chars[i + 1]);
    }
    return;
  }
  if (ENGLISH_STOP_WORDS.has(word)) return;
  out.push(stem ? porterStem(word) : word);
}

/**
 * Turn text into index terms, the same way for documents and queries.
 * Apostrophes are dropped ("don't" → "dont", "user's" → "users" → "user") and
 * thousands separators removed ("1,000" → "1000") before tokenising.
 */
export function analyzeText(text: string, options: { stem?: boolean; compounds?: boolean } = {}): string[] {
  const stem = options.stem ?? true;
  const compounds = options.compounds ?? true;
  if (text.length > RECENT_TEXT_CHARS) return analyze(text, stem, compounds);
  // One search analyses its query several times (the chunk index, the whole-document index, the
  // retriever's title boost), and every chunk of a document repeats its title and headings.
  const key = `${stem ? 1 : 0}${compounds ? 1 : 0}${text}`;
  let terms = recentAnalyses.get(key);
  if (!terms) {
    terms = analyze(text, stem, compounds);
    if (recentAnalyses.size >= RECENT_ANALYSES) recentAnalyses.delete(recentAnalyses.keys().next().value!);
    recentAnalyses.set(key, terms);
  }
  return terms.slice();
}

/** Short texts analysed lately, and their terms (see analyzeText). */
const recentAnalyses = new Map<string, string[]>();
const RECENT_ANALYSES = 64;
const RECENT_TEXT_CHARS = 300;

function analyze(text: string, stem: boolean, compounds: boolean): string[] {
  const folded = foldText(text)
    .replace(/(\p{L})['’](\p{L})/gu, "$1$2")
    .replace(/(\d),(?=\d{3}(?!\d))/g, "$1");
  const terms: string[] = [];
  for (const match of folded.matchAll(TOKEN)) {
    const token = match[0];
    // A command-line option ("--initial", "-i") is a name: kept whole too, so "--initial" finds the
    // option and not every "initial"; its words are still indexed as words below.
    const at = match.index ?? 0;
    const dashes = folded[at - 1] === "-" ? (folded[at - 2] === "-" ? 2 : 1) : 0;
    if (
      dashes > 0 &&
      OPTION_START.test(folded.slice(Math.max(0, at - dashes - 1), at - dashes)) &&
      /^\p{L}/u.test(token)
    ) {
      terms.push(`${"-".repeat(dashes)}${token}`);
    }
    const parts = token.split(/[._-]/);
    if (parts.length > 1) {
      // The whole compound keeps "gpt-4" distinct from any "gpt" + "4"; its parts still match plain words.
      if (compounds) terms.push(token);
      for (const part of parts) wordTerms(part, stem, terms);
    } else {
      wordTerms(token, stem, terms);
    }
  }
  return terms;
}

/** The document title used for the title field and the retriever's title boost. */
export function documentTitle(doc: DocumentInterface): string {
  const meta = doc.metadata ?? {};
  if (typeof meta.title === "string" && meta.title.trim()) return meta.title;
  const headings = meta.headings;
  if (Array.isArray(headings) && typeof headings[0] === "string" && headings[0].trim()) return headings[0];
  if (typeof meta.source === "string" && meta.source) {
    const file = basename(meta.source);
    return file.slice(0, file.length - extname(file).length).replace(/[._-]+/g, " ");
  }
  return "";
}

/**
 * What a title names: the title without a leading section number and without what follows its
 * first " (", "(", ": " or " — " (a man page's "basename(1): strip directory and suffix" names
 * "basename", "align-content (CSS property)" names "align-content", "8.8. Geometric Types" names
 * "Geometric Types"); the whole title when that leaves nothing.
 */
export function titleName(title: string): string {
  const name = title
    .replace(/^\s*\d+(?:\.\d+)*\.?\s+/, "")
    .split(/\s*\(|:\s|\s[—–-]\s/)[0]
    ?.trim();
  return name || title;
}

/** The heading path of a chunk as one string (the headings field). */
export function headingText(doc: DocumentInterface): string {
  const headings = doc.metadata?.headings;
  if (Array.isArray(headings)) return headings.filter((h) => typeof h === "string").join(" > ");
  return typeof headings === "string" ? headings : "";
}

/**
 * True when `doc` passes `filter` (no filter passes everything). Same semantics as
 * HNSWVectorStore, so one filter selects the same chunks on both sides: every key must
 * equal the metadata value, arrays and objects compared structurally.
 */
export function matchesFilter(doc: DocumentInterface, filter: DocumentFilter | undefined): boolean {
  if (filter === undefined || filter === null) return true;
  if (typeof filter === "function") return Boolean(filter(doc));
  const meta = doc.metadata ?? {};
  for (const [key, expected] of Object.entries(filter)) {
    const actual = meta[key];
    if (Object.is(actual, expected)) continue;
    if (actual === null || expected === null || typeof actual !== "object" || typeof expected !== "object")
      return false;
    if (JSON.stringify(actual) !== JSON.stringify(expected)) return false;
  }
  return true;
}

interface IndexedFields extends KeywordTerms {
  id: string;
}

function copyDocument(doc: DocumentInterface, id: string): Document {
  return new Document({ pageContent: doc.pageContent, metadata: { ...doc.metadata }, id });
}

function validBoosts(boosts: Partial<KeywordFieldBoosts> | undefined): KeywordFieldBoosts {
  const merged = { ...DEFAULT_BOOSTS, ...boosts };
  for (const field of FIELDS) {
    const value = merged[field];
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      throw new GeneraError("INVALID_INPUT", `Keyword index boost for "${field}" must be a finite number ≥ 0`, {
        details: { field, value },
      });
    }
  }
  return merged;
}

export class KeywordIndex {
  private readonly stem: boolean;
  private readonly boosts: KeywordFieldBoosts;
  private scratch?: ScoreScratch;
  /** The postings as flat arrays for scoring, made on the first search and kept in step with the index. */
  private postings?: KeywordPostings;
  /** Title → its distinct terms; a retriever is made per search, so the cache lives here. */
  private readonly titleTermCache = new Map<string, string[]>();
  /** The index's own copies of its documents, unless `options.documents` provides them. */
  private readonly ownDocs?: Map<string, Document>;
  private readonly source: KeywordDocumentSource;
  private mini: MiniSearch<IndexedFields>;
  private vacuuming?: Promise<void>;
  private changes = 0;
  private readonly journal: Array<{ revision: number; ids: string[] }> = [];
  private journalIds = 0;
  /** Changes made in several calls still under way (see `hold`), and the revision before the first. */
  private holds = 0;
  private heldAt = 0;

  constructor(options: KeywordIndexOptions = {}) {
    this.stem = options.stem ?? true;
    this.boosts = validBoosts(options.boosts);
    this.mini = this.createMiniSearch();
    if (options.documents) this.source = options.documents;
    else {
      const own = new Map<string, Document>();
      this.ownDocs = own;
      this.source = own;
    }
  }

  /** Build an index from documents, e.g. when the keyword file is missing but the dense docstore is there. */
  static rebuildFrom(docs: Iterable<DocumentInterface>, options: KeywordIndexOptions = {}): KeywordIndex {
    const index = new KeywordIndex(options);
    index.add([...docs]);
    return index;
  }

  /** This index's analysis of `text` (its stemming setting); `compounds: false` keeps only the parts of "a-b". */
  analyze(text: string, options: { compounds?: boolean } = {}): string[] {
    return analyzeText(text, { stem: this.stem, compounds: options.compounds });
  }

  /**
   * The distinct terms of what a title names (see `titleName`), compounds as parts only: what the
   * retriever's title boost compares with a question. Cached by the title as given: every chunk of
   * a document repeats it, and a search reads it for each candidate.
   */
  titleTerms(title: string): string[] {
    let terms = this.titleTermCache.get(title);
    if (!terms) {
      terms = [...new Set(this.analyze(titleName(title), { compounds: false }))];
      // The oldest title goes first: a corpus with more titles than this keeps most of them.
      if (this.titleTermCache.size >= TITLE_CACHE_SIZE)
        this.titleTermCache.delete(this.titleTermCache.keys().next().value!);
      this.titleTermCache.set(title, terms);
    }
    return terms;
  }

  get size(): number {
    return this.mini.documentCount;
  }

  /** Bumped by every add, replace and remove: lets derived indexes (whole documents) know they are stale. */
  get revision(): number {
    return this.changes;
  }

  /**
   * The revision derived indexes should follow: `revision`, except while a change made in several
   * calls is under way (see `hold`), when it stays at the revision before that change began.
   */
  get settledRevision(): number {
    return this.holds > 0 ? this.heldAt : this.changes;
  }

  /**
   * Marks the start of one change made in several calls (a store adding a large file's chunks a
   * slice at a time, letting searches run between slices); call the returned function at its end.
   * Searches see every slice at once, but derived indexes that follow `settledRevision` (the
   * whole-document index) update once at the end instead of after each slice: rebuilding a
   * 13,000-chunk document after each of its 200 slices cost seconds of main thread per slice.
   */
  hold(): () => void {
    if (this.holds++ === 0) this.heldAt = this.changes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
    };
  }

  /**
   * Ids added, replaced or removed after `revision`, so a derived index can update only what
   * changed; undefined when that is no longer known (too long ago, or the index was cleared).
   */
  changedSince(revision: number): string[] | undefined {
    if (revision === this.changes) return [];
    const first = this.journal[0];
    if (first === undefined || first.revision > revision + 1) return undefined;
    return this.journal.filter((entry) => entry.revision > revision).flatMap((entry) => entry.ids);
  }

  /** One change: a new revision, journaled with the ids it touched (the journal keeps the last JOURNAL_IDS). */
  private changed(ids: string[]): void {
    this.changes++;
    this.journal.push({ revision: this.changes, ids });
    this.journalIds += ids.length;
    while (this.journalIds > JOURNAL_IDS && this.journal.length > 1) {
      this.journalIds -= (this.journal.shift() as { ids: string[] }).ids.length;
    }
  }

  has(id: string): boolean {
    return this.mini.has(id);
  }

  getDocument(id: string): Document | undefined {
    const doc = this.mini.has(id) ? this.source.get(id) : undefined;
    return doc ? copyDocument(doc, id) : undefined;
  }

  /** Ids of every indexed chunk, in no particular order. */
  ids(): string[] {
    return [...(this.mini as unknown as MiniSearchInternals)._documentIds.values()];
  }

  /** A chunk's analysed fields, as `addAnalyzed` takes them back. */
  termsOf(doc: DocumentInterface): KeywordTerms {
    return {
      title: this.analyze(documentTitle(doc)).join(" "),
      headings: this.analyze(headingText(doc)).join(" "),
      body: this.analyze(doc.pageContent).join(" "),
    };
  }

  /**
   * `termsOf` for a long text (a whole document rebuilt from thousands of chunks): its body is
   * analysed a piece at a time, the event loop let through between pieces. Pieces are cut after
   * a whitespace character, which no term spans, so the terms are exactly `termsOf`'s.
   */
  async termsOfInSlices(doc: DocumentInterface, pieceChars = 1 << 16): Promise<KeywordTerms> {
    const text = doc.pageContent;
    const body: string[] = [];
    const space = /\s/g;
    for (let start = 0; start < text.length; ) {
      let end = text.length;
      if (start + pieceChars < text.length) {
        space.lastIndex = start + pieceChars;
        const match = space.exec(text);
        if (match) end = match.index + 1;
      }
      const terms = this.analyze(text.slice(start, end));
      if (terms.length) body.push(terms.join(" "));
      start = end;
      if (start < text.length) await new Promise((resolve) => setImmediate(resolve));
    }
    return {
      title: this.analyze(documentTitle(doc)).join(" "),
      headings: this.analyze(headingText(doc)).join(" "),
      body: body.join(" "),
    };
  }

  /**
   * Adds chunks analysed earlier by `termsOf` (same stemming setting), skipping text analysis:
   * how a store reopens the index. With its own documents the index needs each `document` too.
   */
  addAnalyzed(entries: Iterable<{ id: string; terms: KeywordTerms; document?: DocumentInterface }>): void {
    const added: string[] = [];
    try {
      for (const { id, terms, document } of entries) {
        if (this.mini.has(id)) {
          throw new GeneraError("CONFLICT", `Keyword index already holds document "${id}"`, { details: { id } });
        }
        if (this.ownDocs) {
          if (!document) throw new GeneraError("INVALID_INPUT", `addAnalyzed: document "${id}" has no text`);
          this.ownDocs.set(id, copyDocument(document, id));
        }
        this.addToMini(id, terms);
        added.push(id);
      }
    } finally {
      this.changed(added);
    }
  }

  /**
   * The postings and term statistics as MiniSearch serialises them (JSON, no document text):
   * what a store keeps so that reopening skips analysing and indexing every chunk again.
   */
  snapshot(): string {
    return [...this.snapshotParts()].join("");
  }

  /**
   * `snapshot()` a term at a time, so a store can compress it as it goes instead of holding the
   * whole JSON (~30 MB for 30k chunks, plus its pieces and their UTF-8 copy: the indexing run's
   * peak memory). The index must not change until the last part is read.
   */
  *snapshotParts(): Generator<string> {
    // MiniSearch's toJSON() first copies every posting into a plain object (hundreds of MB
    // for 30k chunks); this writes the same JSON term by term.
    const mini = this.mini as unknown as MiniSearchInternals;
    yield `{"documentCount":${mini._documentCount},"nextId":${mini._nextId}`;
    yield `,"documentIds":${JSON.stringify(Object.fromEntries(mini._documentIds))}`;
    yield `,"fieldIds":${JSON.stringify(mini._fieldIds)}`;
    yield `,"fieldLength":${JSON.stringify(Object.fromEntries(mini._fieldLength))}`;
    yield `,"averageFieldLength":${JSON.stringify(mini._avgFieldLength)}`;
    yield `,"storedFields":${JSON.stringify(Object.fromEntries(mini._storedFields))}`;
    yield `,"dirtCount":${mini._dirtCount},"index":[`;
    let first = true;
    for (const [term, fields] of mini._index) {
      const data: string[] = [];
      for (const [fieldId, freqs] of fields) {
        const entries: string[] = [];
        for (const [doc, freq] of freqs) entries.push(`"${doc}":${freq}`);
        data.push(`"${fieldId}":{${entries.join(",")}}`);
      }
      yield `${first ? "" : ","}[${JSON.stringify(term)},{${data.join(",")}}]`;
      first = false;
    }
    yield `],"serializationVersion":2}`;
  }

  /**
   * Replaces everything indexed by a `snapshot()` of an index with the same options. The
   * documents come from `options.documents`, or for an index keeping its own copies, from
   * `documents`: snapshot entries not given a document there are dropped. A snapshot that
   * cannot be read throws, leaving this empty.
   */
  loadSnapshot(json: string, documents?: Iterable<DocumentInterface>): void {
    this.clear();
    const mini = MiniSearch.loadJSON<IndexedFields>(json, this.miniSearchOptions());
    if (this.ownDocs) {
      for (const doc of documents ?? []) {
        if (doc.id && mini.has(doc.id)) this.ownDocs.set(doc.id, copyDocument(doc, doc.id));
      }
      const ids = [...(mini as unknown as MiniSearchInternals)._documentIds.values()];
      for (const id of ids) if (!this.ownDocs.has(id)) mini.discard(id);
    }
    this.mini = mini;
  }

  /** Forgets everything indexed. */
  clear(): void {
    this.postings = undefined;
    this.changes++;
    // Nothing before this revision can be followed change by change.
    this.journal.length = 0;
    this.journalIds = 0;
    this.mini = this.createMiniSearch();
    this.ownDocs?.clear();
  }

  /** Add new documents; every one needs a unique `.id` not yet in the index (use `replace` to update). */
  add(docs: DocumentInterface[]): void {
    const ids = this.validate(docs, "add");
    for (const id of ids) {
      if (this.mini.has(id)) {
        throw new GeneraError("CONFLICT", `Keyword index already holds document "${id}"; use replace() to update it`, {
          details: { id },
        });
      }
    }
    this.insert(docs, ids);
  }

  /**
   * Upsert by id: documents whose id is already indexed are re-indexed, the rest added.
   * `terms`: each document's fields as `termsOf` (or `termsOfInSlices`) analysed them, if done already.
   */
  replace(docs: DocumentInterface[], terms?: KeywordTerms[]): void {
    const ids = this.validate(docs, "replace");
    for (const id of ids) {
      if (this.mini.has(id)) this.discard(id);
    }
    this.insert(docs, ids, terms);
    this.vacuumIfDirty();
  }

  /** Remove documents by id; unknown ids are ignored. Returns how many were removed. */
  remove(ids: string[]): number {
    const removed: string[] = [];
    for (const id of ids) {
      if (this.mini.has(id)) {
        this.discard(id);
        removed.push(id);
      }
    }
    if (removed.length) this.changed(removed);
    this.vacuumIfDirty();
    return removed.length;
  }

  /**
   * Drops the postings of removed documents now (MiniSearch only marks them). Scores do not
   * change: discarded entries never count (see exactScores); this returns their memory.
   */
  async compact(): Promise<void> {
    if (this.mini.dirtCount > 0) await this.mini.vacuum({ batchSize: 1000, batchWait: 0 });
    await this.vacuuming;
    this.postings?.compact();
  }

  /** Resolves once no vacuum runs in the background (it rewrites the postings `snapshotParts` reads). */
  async quiet(): Promise<void> {
    while (this.vacuuming) await this.vacuuming.catch(() => {});
  }

  private vacuumIfDirty(): void {
    if (this.vacuuming || this.mini.dirtCount <= COMPACT_DIRT_RATIO * Math.max(1, this.size)) return;
    // Runs in batches between searches; a search meanwhile skips discarded entries as always.
    this.vacuuming = this.mini.vacuum({ batchSize: 1000, batchWait: 1 }).finally(() => {
      this.vacuuming = undefined;
      this.postings?.compact();
    });
  }

  private discard(id: string): void {
    const mini = this.mini as unknown as MiniSearchInternals;
    this.postings?.removed(mini._idToShortId.get(id) as number);
    this.mini.discard(id);
    this.ownDocs?.delete(id);
  }

  private addToMini(id: string, terms: KeywordTerms): void {
    this.mini.add({ id, ...terms });
    const mini = this.mini as unknown as MiniSearchInternals;
    if (!this.postings) return;
    const byFieldId: string[] = [];
    for (const field of FIELDS) byFieldId[mini._fieldIds[field] as number] = terms[field];
    this.postings.added(mini._idToShortId.get(id) as number, byFieldId);
  }

  /**
   * BM25 scores of every matching document that passes the filter (id → score, unsorted; see
   * KeywordScores for how to read the best of them cheaply).
   */
  scores(query: string, options: Omit<KeywordSearchOptions, "k"> = {}): ReadonlyMap<string, number> {
    if (typeof query !== "string") {
      throw new GeneraError("INVALID_INPUT", "Keyword search query must be a string", { details: { query } });
    }
    const out = new Map<string, number>();
    const all = [...new Set(analyzeText(query, { stem: this.stem }))];
    const size = this.size;
    if (all.length === 0 || size === 0) return out;
    const terms = selectiveTerms(all, (t) => this.documentFrequency(t), size, options.maxDocFrequency);
    const { filter } = options;
    if (
      filter !== undefined &&
      filter !== null &&
      typeof filter !== "function" &&
      (typeof filter !== "object" || Array.isArray(filter))
    ) {
      throw new GeneraError("INVALID_INPUT", "Keyword search filter must be a metadata object or a predicate function");
    }
    const keep =
      filter === undefined
        ? undefined
        : (id: string) => {
            const doc = this.source.get(id);
            return doc !== undefined && matchesFilter(doc, filter);
          };
    if (!options.fuzzy && !options.prefix) return this.exactScores(all, keep, terms);
    const results = this.mini.search(terms.join(" "), {
      // Terms are already analysed: split on the spaces we joined them with and keep them as they are.
      tokenize: (text) => text.split(" "),
      processTerm: (term) => term,
      // MiniSearch reads a boost of 0 as "unset" (1), so zero-weight fields are left out instead.
      fields: FIELDS.filter((f) => this.boosts[f] > 0),
      boost: { ...this.boosts },
      fuzzy: options.fuzzy ?? false,
      prefix: options.prefix ?? false,
      filter: keep && ((result) => keep(result.id as string)),
    });
    for (const result of results) out.set(result.id as string, result.score);
    return out;
  }

  /**
   * MiniSearch's own BM25+ scores for exact terms, computed straight from its postings:
   * the same formula, boosts, coordination factor and order of additions, so the same
   * numbers, but into flat arrays instead of a result object with match lists per
   * document (which made scoring and its garbage most of a search's cost on 10k chunks).
   * The one difference: documents discarded but not yet vacuumed never count towards a
   * term's document frequency (MiniSearch counts them until it meets them). `selective`: the
   * terms that bring a chunk into the results; the others only add to those (see maxDocFrequency).
   */
  private exactScores(
    terms: string[],
    keep: ((id: string) => boolean) | undefined,
    selective: string[] = terms,
  ): KeywordScores {
    const mini = this.mini as unknown as MiniSearchInternals;
    this.postings ??= new KeywordPostings(mini, FIELDS.length);
    const postings = this.postings;
    const clean = postings.clean;
    const s = this.scratchFor(mini._nextId, terms.length + 1);
    const query = ++s.stamp;
    let opened = 0;
    const start = (doc: number) => {
      s.queryOf[doc] = query;
      s.total[doc] = 0;
      s.matched[doc] = 0;
      s.docs[opened++] = doc;
    };
    // With common terms in the query, the selective ones say which chunks are scored at all.
    const everyTermOpens = selective.length === terms.length;
    if (!everyTermOpens) {
      for (const term of selective) {
        const lists = postings.get(term);
        for (const field of lists ? FIELDS : []) {
          // A field weighted 0 opens nothing, as it scores nothing (MiniSearch leaves it out).
          if (this.boosts[field] <= 0) continue;
          const { data, count } = (lists as NonNullable<typeof lists>)[mini._fieldIds[field]!]!;
          for (let i = 0; i < 2 * count; i += 2) {
            const doc = data[i] as number;
            if (s.queryOf[doc] !== query && (clean || postings.isLive(doc))) start(doc);
          }
        }
      }
    }
    // Then every term adds its share in query order, as MiniSearch adds them up: a term's share in
    // a document is its BM25 summed over the fields first (the same additions in the same order,
    // so the same numbers to the last bit).
    const { k, b, d } = { ...DEFAULT_BM25, ...mini._options.searchOptions?.bm25 };
    for (const term of terms) {
      const lists = postings.get(term);
      if (!lists) continue;
      const t = ++s.stamp;
      let termDocs = 0;
      for (const field of FIELDS) {
        const boost = this.boosts[field];
        const fieldId = mini._fieldIds[field]!;
        const { data, count } = lists[fieldId]!;
        if (boost <= 0 || count === 0) continue;
        // calcBM25Score, term by term as MiniSearch writes it, times the field boost.
        const idf = bm25Idf(mini._documentCount, postings.liveCount(lists[fieldId]!));
        const avgLength = mini._avgFieldLength[fieldId]!;
        for (let i = 0; i < 2 * count; i += 2) {
          const doc = data[i] as number;
          // A document no selective term opened is never scored (opened ones are live).
          if (everyTermOpens ? !clean && !postings.isLive(doc) : s.queryOf[doc] !== query) continue;
          const tf = data[i + 1] as number;
          const length = postings.length(doc, fieldId);
          const score = boost * (idf * (d + (tf * (k + 1)) / (tf + k * (1 - b + (b * length) / avgLength))));
          if (s.termOf[doc] === t) s.partial[doc]! += score;
          else {
            s.termOf[doc] = t;
            s.partial[doc] = score;
            s.termDocs[termDocs++] = doc;
          }
        }
      }
      for (let i = 0; i < termDocs; i++) {
        const doc = s.termDocs[i] as number;
        if (s.queryOf[doc] !== query) {
          if (!everyTermOpens) continue;
          start(doc);
        }
        s.total[doc]! += s.partial[doc]!;
        s.matched[doc]!++;
      }
    }
    const live = mini._documentIds;
    const matches = new Int32Array(opened);
    const scores = new Float64Array(opened);
    const scoreOf = new Float64Array(mini._nextId);
    let n = 0;
    for (let i = 0; i < opened; i++) {
      const doc = s.docs[i] as number;
      if (keep && !keep(live.get(doc)!)) continue;
      // MiniSearch multiplies by the number of query terms the document matched.
      const score = s.total[doc]! * s.matched[doc]!;
      matches[n] = doc;
      scores[n++] = score;
      scoreOf[doc] = score;
    }
    const idToNumber = mini._idToShortId;
    return new KeywordScores(
      matches.subarray(0, n),
      scores.subarray(0, n),
      scoreOf,
      (doc) => live.get(doc),
      (id) => idToNumber.get(id),
    );
  }

  /**
   * Per-document accumulators for exactScores, kept between searches (searches are
   * synchronous, so one set serves them all): a stamp per search and per term marks
   * which entries are current, so nothing is cleared or allocated per query.
   */
  private scratchFor(docs: number, stampsNeeded: number): ScoreScratch {
    let s = this.scratch;
    if (!s || s.total.length < docs || s.stamp > 0x7fffffff - stampsNeeded) {
      const size = Math.max(docs, Math.ceil((s?.total.length ?? 0) * 1.5), 1024);
      s = {
        stamp: 0,
        queryOf: new Int32Array(size),
        termOf: new Int32Array(size),
        total: new Float64Array(size),
        partial: new Float64Array(size),
        matched: new Uint32Array(size),
        docs: new Int32Array(size),
        termDocs: new Int32Array(size),
      };
      this.scratch = s;
    }
    return s;
  }

  /**
   * Chunks containing `term` (an analysed term) in any field, approximated by the largest
   * per-field posting list. Reads MiniSearch's postings directly: its public API has no
   * document-frequency call, and the package version is pinned.
   */
  documentFrequency(term: string): number {
    const postings = (
      this.mini as unknown as { _index: { get(term: string): Map<number, Map<number, number>> | undefined } }
    )._index.get(term);
    let df = 0;
    if (postings) for (const docs of postings.values()) df = Math.max(df, docs.size);
    return df;
  }

  /**
   * How many chunks contain `word` as this index analyses it (a compound such as
   * "max_connections" counts whole; a stop word counts as in every chunk): the corpus
   * statistics the extractive answerer weighs a question's words by.
   */
  wordFrequency(word: string): number {
    const [term] = analyzeText(word, { stem: this.stem });
    return term === undefined ? this.size : this.documentFrequency(term);
  }

  search(query: string, options: KeywordSearchOptions = {}): KeywordSearchResult[] {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) {
      throw new GeneraError("INVALID_INPUT", `Keyword search k must be a positive integer, got ${String(k)}`, {
        details: { k },
      });
    }
    const scores = this.scores(query, options);
    const results: KeywordSearchResult[] = [];
    // The best k, unless some have no document (a shared docstore that lost it): then all, in order.
    for (const wanted of [k, scores.size]) {
      const ranked =
        scores instanceof KeywordScores
          ? scores.top(wanted)
          : [...scores].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
      results.length = 0;
      for (const id of ranked) {
        if (results.length === k) break;
        const document = this.getDocument(id);
        if (document) results.push({ id, score: scores.get(id)!, document });
      }
      if (results.length === k || ranked.length === scores.size) break;
    }
    return results;
  }

  private validate(docs: DocumentInterface[], op: string): string[] {
    if (!Array.isArray(docs)) {
      throw new GeneraError("INVALID_INPUT", `Keyword index ${op}() expects an array of documents`);
    }
    const seen = new Set<string>();
    return docs.map((doc, i) => {
      const id = doc?.id ?? (doc?.metadata?.id as string | undefined);
      if (typeof id !== "string" || id === "") {
        throw new GeneraError("INVALID_INPUT", `Document ${i} passed to keyword index ${op}() has no id`, {
          details: { index: i },
        });
      }
      if (typeof doc.pageContent !== "string") {
        throw new GeneraError("INVALID_INPUT", `Document "${id}" passed to keyword index ${op}() has no text`, {
          details: { id },
        });
      }
      if (seen.has(id)) {
        throw new GeneraError("INVALID_INPUT", `Document id "${id}" appears twice in one ${op}() call`, {
          details: { id },
        });
      }
      seen.add(id);
      return id;
    });
  }

  private insert(docs: DocumentInterface[], ids: string[], terms?: KeywordTerms[]): void {
    this.changed(ids);
    docs.forEach((doc, i) => {
      this.addToMini(ids[i] as string, terms?.[i] ?? this.termsOf(doc));
      this.ownDocs?.set(ids[i], copyDocument(doc, ids[i]));
    });
  }

  private miniSearchOptions() {
    return {
      fields: [...FIELDS],
      idField: "id",
      storeFields: [] as string[],
      // Fields arrive analysed (termsOf), so MiniSearch only splits them.
      tokenize: (text: string) => (text === "" ? [] : text.split(" ")),
      processTerm: (term: string) => term,
      // Vacuuming is started by remove/replace past COMPACT_DIRT_RATIO, not on MiniSearch's own timers.
      autoVacuum: false,
    };
  }

  private createMiniSearch(): MiniSearch<IndexedFields> {
    return new MiniSearch<IndexedFields>(this.miniSearchOptions());
  }
}

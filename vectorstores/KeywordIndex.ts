import { existsSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import MiniSearch, { type AsPlainObject } from "minisearch";
import { GeneraError } from "../src/errors.js";
import { atomicWriteFileSync } from "../src/util/atomicWrite.js";
import { readFileOrThrow } from "../src/util/readFileOrThrow.js";
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

export interface KeywordIndexOptions {
  /** Porter stemming of plain English words (default true). */
  stem?: boolean;
  /** Per-field BM25 weights (default title 2, headings 1.5, body 1). */
  boosts?: Partial<KeywordFieldBoosts>;
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
   * Drop query terms found in more than this share of chunks (default 0.5), unless that would
   * drop them all. Such terms barely move BM25 (their IDF is near its floor), but scoring them
   * means visiting most of the index: on 10k chunks they were most of a query's cost. Applies
   * from 200 chunks up; 1 keeps every term.
   */
  maxDocFrequency?: number;
}

/** The parts of MiniSearch 7's instance that exactScores reads (the package version is pinned). */
interface MiniSearchInternals {
  _index: { get(term: string): Map<number, Map<number, number>> | undefined };
  _documentIds: Map<number, string>;
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
}

/** MiniSearch's default BM25+ parameters (k1, b, δ). */
const DEFAULT_BM25 = { k: 1.2, b: 0.7, d: 0.5 };

export interface KeywordSearchResult {
  id: string;
  score: number;
  document: Document;
}

export const KEYWORD_INDEX_FILE = "keyword-index.json";
const FORMAT = "genera-keyword-index";
const FORMAT_VERSION = 1;
const DEFAULT_MAX_DOC_FREQUENCY = 0.5;
/** Below this many chunks document frequencies are too coarse to call a term unselective. */
const MIN_DOCS_FOR_DF_CUT = 200;
const DEFAULT_BOOSTS: KeywordFieldBoosts = { title: 2, headings: 1.5, body: 1 };
const FIELDS = ["title", "headings", "body"] as const;
/** Above this share of discarded entries a save rebuilds the postings instead of persisting the garbage. */
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
    "s t d ll m re ve also may might must shall us via etc eg ie"
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
  const folded = foldText(text)
    .replace(/(\p{L})['’](\p{L})/gu, "$1$2")
    .replace(/(\d),(?=\d{3}(?!\d))/g, "$1");
  const terms: string[] = [];
  for (const match of folded.matchAll(TOKEN)) {
    const token = match[0];
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

function headingText(doc: DocumentInterface): string {
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

interface IndexedFields {
  id: string;
  title: string;
  headings: string;
  body: string;
}

interface StoredDocument {
  id: string;
  pageContent: string;
  metadata: Record<string, unknown>;
}

interface KeywordIndexFile {
  format: typeof FORMAT;
  version: number;
  options: { stem: boolean; boosts: KeywordFieldBoosts };
  documents: StoredDocument[];
  index: AsPlainObject;
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

/** Terms whose BM25 shares a KeywordIndex keeps (a common term's arrays hold one entry per matching chunk). */
const TERM_SCORE_CACHE_SIZE = 1024;

export class KeywordIndex {
  private readonly stem: boolean;
  private readonly boosts: KeywordFieldBoosts;
  private scratch?: ScoreScratch;
  /**
   * Term → each matching document's BM25 share for it (summed over fields, boosts
   * applied), as flat arrays in MiniSearch's posting order. A term's shares depend only on
   * the index, so searches reuse them until it changes (every change clears this); adding
   * arrays is several times cheaper than walking a posting Map and redoing the formula.
   * Least recently used terms go first past TERM_SCORE_CACHE_SIZE.
   */
  private readonly termScores = new Map<string, { docs: Int32Array; scores: Float64Array }>();
  /** Title → its distinct terms; a retriever is made per search, so the cache lives here. */
  private readonly titleTermCache = new Map<string, string[]>();
  private readonly docs = new Map<string, Document>();
  private mini: MiniSearch<IndexedFields>;

  constructor(options: KeywordIndexOptions = {}) {
    this.stem = options.stem ?? true;
    this.boosts = validBoosts(options.boosts);
    this.mini = this.createMiniSearch();
  }

  /** Build an index from documents, e.g. when the keyword file is missing but the dense docstore is there. */
  static rebuildFrom(docs: Iterable<DocumentInterface>, options: KeywordIndexOptions = {}): KeywordIndex {
    const index = new KeywordIndex(options);
    index.add([...docs]);
    return index;
  }

  /** Whether `dir` holds a saved keyword index. */
  static exists(dir: string): boolean {
    return existsSync(join(dir, KEYWORD_INDEX_FILE));
  }

  static load(dir: string): KeywordIndex {
    const path = join(dir, KEYWORD_INDEX_FILE);
    return KeywordIndex.fromJSON(readFileOrThrow(path, "keyword index", "utf8"), path);
  }

  /** Restore from `toJSON()` output (object or its JSON text). `origin` names the source in error messages. */
  static fromJSON(data: string | KeywordIndexFile, origin = "keyword index data"): KeywordIndex {
    const corrupt = (reason: string, cause?: unknown) =>
      new GeneraError("INDEX_CORRUPT", `Keyword index ${origin} is damaged or of an unknown format: ${reason}`, {
        cause,
        details: { path: origin },
      });
    let file: KeywordIndexFile;
    if (typeof data === "string") {
      try {
        file = JSON.parse(data) as KeywordIndexFile;
      } catch (error) {
        throw corrupt("not valid JSON", error);
      }
    } else {
      file = data;
    }
    if (!file || typeof file !== "object" || file.format !== FORMAT) throw corrupt("missing format marker");
    if (file.version !== FORMAT_VERSION) {
      throw corrupt(`format version ${String(file.version)} (this build reads ${FORMAT_VERSION})`);
    }
    if (!Array.isArray(file.documents) || !file.index || typeof file.index !== "object") {
      throw corrupt("documents or postings missing");
    }
    let index: KeywordIndex;
    try {
      index = new KeywordIndex({ stem: file.options?.stem, boosts: file.options?.boosts });
    } catch (error) {
      throw corrupt("invalid options", error);
    }
    for (const stored of file.documents) {
      if (!stored || typeof stored.id !== "string" || typeof stored.pageContent !== "string") {
        throw corrupt("a document entry lacks id or text");
      }
      index.docs.set(
        stored.id,
        new Document({ pageContent: stored.pageContent, metadata: stored.metadata ?? {}, id: stored.id }),
      );
    }
    try {
      index.mini = MiniSearch.loadJS<IndexedFields>(file.index, index.miniSearchOptions());
    } catch (error) {
      throw corrupt("postings unreadable", error);
    }
    if (index.mini.documentCount !== index.docs.size) {
      throw corrupt(`postings cover ${index.mini.documentCount} documents but ${index.docs.size} are stored`);
    }
    for (const id of index.docs.keys()) {
      if (!index.mini.has(id)) throw corrupt(`document ${id} has no postings`);
    }
    return index;
  }

  /** This index's analysis of `text` (its stemming setting); `compounds: false` keeps only the parts of "a-b". */
  analyze(text: string, options: { compounds?: boolean } = {}): string[] {
    return analyzeText(text, { stem: this.stem, compounds: options.compounds });
  }

  /** The distinct terms of a title, compounds as parts only (cached: every chunk of a document repeats it). */
  titleTerms(title: string): string[] {
    let terms = this.titleTermCache.get(title);
    if (!terms) {
      terms = [...new Set(this.analyze(title, { compounds: false }))];
      if (this.titleTermCache.size >= 10_000) this.titleTermCache.clear();
      this.titleTermCache.set(title, terms);
    }
    return terms;
  }

  get size(): number {
    return this.docs.size;
  }

  has(id: string): boolean {
    return this.docs.has(id);
  }

  getDocument(id: string): Document | undefined {
    const doc = this.docs.get(id);
    return doc ? copyDocument(doc, id) : undefined;
  }

  listDocuments(): Document[] {
    return [...this.docs.entries()].map(([id, doc]) => copyDocument(doc, id));
  }

  /** Add new documents; every one needs a unique `.id` not yet in the index (use `replace` to update). */
  add(docs: DocumentInterface[]): void {
    const ids = this.validate(docs, "add");
    for (const id of ids) {
      if (this.docs.has(id)) {
        throw new GeneraError("CONFLICT", `Keyword index already holds document "${id}"; use replace() to update it`, {
          details: { id },
        });
      }
    }
    this.insert(docs, ids);
  }

  /** Upsert by id: documents whose id is already indexed are re-indexed, the rest added. */
  replace(docs: DocumentInterface[]): void {
    const ids = this.validate(docs, "replace");
    for (const id of ids) {
      if (this.docs.has(id)) {
        this.mini.discard(id);
        this.docs.delete(id);
        this.termScores.clear();
      }
    }
    this.insert(docs, ids);
  }

  /** Remove documents by id; unknown ids are ignored. Returns how many were removed. */
  remove(ids: string[]): number {
    let removed = 0;
    for (const id of ids) {
      if (this.docs.delete(id)) {
        this.mini.discard(id);
        this.termScores.clear();
        removed++;
      }
    }
    return removed;
  }

  /** BM25 scores of every matching document that passes the filter (id → score, unsorted). */
  scores(query: string, options: Omit<KeywordSearchOptions, "k"> = {}): Map<string, number> {
    if (typeof query !== "string") {
      throw new GeneraError("INVALID_INPUT", "Keyword search query must be a string", { details: { query } });
    }
    const out = new Map<string, number>();
    let terms = [...new Set(analyzeText(query, { stem: this.stem }))];
    if (terms.length === 0 || this.docs.size === 0) return out;
    const maxDf = options.maxDocFrequency ?? DEFAULT_MAX_DOC_FREQUENCY;
    if (maxDf < 1 && this.docs.size >= MIN_DOCS_FOR_DF_CUT) {
      const selective = terms.filter((t) => this.documentFrequency(t) <= maxDf * this.docs.size);
      if (selective.length > 0) terms = selective;
    }
    const { filter } = options;
    if (
      filter !== undefined &&
      filter !== null &&
      typeof filter !== "function" &&
      (typeof filter !== "object" || Array.isArray(filter))
    ) {
      throw new GeneraError("INVALID_INPUT", "Keyword search filter must be a metadata object or a predicate function");
    }
    const keep = filter === undefined ? undefined : (id: string) => matchesFilter(this.docs.get(id)!, filter);
    if (!options.fuzzy && !options.prefix) return this.exactScores(terms, keep);
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
   * term's document frequency (MiniSearch counts them until it meets them).
   */
  private exactScores(terms: string[], keep: ((id: string) => boolean) | undefined): Map<string, number> {
    const mini = this.mini as unknown as MiniSearchInternals;
    const live = mini._documentIds;
    const s = this.scratchFor(mini._nextId, terms.length + 1);
    const query = ++s.stamp;
    const docs: number[] = [];
    for (const term of terms) {
      const shares = this.termShares(term, s);
      if (!shares) continue;
      for (let i = 0; i < shares.docs.length; i++) {
        const doc = shares.docs[i] as number;
        if (s.queryOf[doc] !== query) {
          s.queryOf[doc] = query;
          s.total[doc] = 0;
          s.matched[doc] = 0;
          docs.push(doc);
        }
        s.total[doc]! += shares.scores[i] as number;
        s.matched[doc]!++;
      }
    }
    const out = new Map<string, number>();
    for (const doc of docs) {
      const id = live.get(doc)!;
      // MiniSearch multiplies by the number of query terms the document matched.
      if (!keep || keep(id)) out.set(id, s.total[doc]! * s.matched[doc]!);
    }
    return out;
  }

  /** A term's BM25 share per matching live document (see termScores), computed on first use. */
  private termShares(term: string, s: ScoreScratch): { docs: Int32Array; scores: Float64Array } | undefined {
    const cached = this.termScores.get(term);
    if (cached) {
      this.termScores.delete(term); // re-inserted as the most recently used
      this.termScores.set(term, cached);
      return cached;
    }
    const mini = this.mini as unknown as MiniSearchInternals;
    const fieldData = mini._index.get(term);
    if (!fieldData) return undefined;
    const { k, b, d } = { ...DEFAULT_BM25, ...mini._options.searchOptions?.bm25 };
    const live = mini._documentIds;
    const dirty = mini._dirtCount > 0;
    const t = ++s.stamp;
    const termDocs: number[] = [];
    for (const field of FIELDS) {
      const boost = this.boosts[field];
      const fieldId = mini._fieldIds[field]!;
      const freqs = boost > 0 ? fieldData.get(fieldId) : undefined;
      if (!freqs) continue;
      let df = freqs.size;
      if (dirty) {
        df = 0;
        for (const doc of freqs.keys()) if (live.has(doc)) df++;
      }
      const avgLength = mini._avgFieldLength[fieldId]!;
      for (const [doc, tf] of freqs) {
        if (dirty && !live.has(doc)) continue;
        const length = mini._fieldLength.get(doc)![fieldId]!;
        // calcBM25Score, term by term as MiniSearch writes it, times the field boost.
        const idf = Math.log(1 + (mini._documentCount - df + 0.5) / (df + 0.5));
        const score = boost * (idf * (d + (tf * (k + 1)) / (tf + k * (1 - b + (b * length) / avgLength))));
        if (s.termOf[doc] === t) s.partial[doc]! += score;
        else {
          s.termOf[doc] = t;
          s.partial[doc] = score;
          termDocs.push(doc);
        }
      }
    }
    const shares = { docs: Int32Array.from(termDocs), scores: Float64Array.from(termDocs, (doc) => s.partial[doc]!) };
    if (this.termScores.size >= TERM_SCORE_CACHE_SIZE) this.termScores.delete(this.termScores.keys().next().value!);
    this.termScores.set(term, shares);
    return shares;
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
  private documentFrequency(term: string): number {
    const postings = (
      this.mini as unknown as { _index: { get(term: string): Map<number, Map<number, number>> | undefined } }
    )._index.get(term);
    let df = 0;
    if (postings) for (const docs of postings.values()) df = Math.max(df, docs.size);
    return df;
  }

  search(query: string, options: KeywordSearchOptions = {}): KeywordSearchResult[] {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) {
      throw new GeneraError("INVALID_INPUT", `Keyword search k must be a positive integer, got ${String(k)}`, {
        details: { k },
      });
    }
    const ranked = [...this.scores(query, options)].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    return ranked.slice(0, k).map(([id, score]) => ({ id, score, document: copyDocument(this.docs.get(id)!, id) }));
  }

  toJSON(): KeywordIndexFile {
    // Discarded entries linger in MiniSearch's postings until vacuumed; rebuilding is cheaper than saving them.
    if (this.mini.dirtCount > 0 && this.mini.dirtCount > COMPACT_DIRT_RATIO * Math.max(1, this.docs.size)) {
      this.mini = this.createMiniSearch();
      this.mini.addAll([...this.docs.entries()].map(([id, doc]) => this.fields(doc, id)));
      this.termScores.clear();
    }
    return {
      format: FORMAT,
      version: FORMAT_VERSION,
      options: { stem: this.stem, boosts: { ...this.boosts } },
      documents: [...this.docs.entries()].map(([id, doc]) => ({
        id,
        pageContent: doc.pageContent,
        metadata: doc.metadata,
      })),
      index: this.mini.toJSON(),
    };
  }

  /** Write `<dir>/keyword-index.json` atomically (readers see the old or the new file, never a torn one). */
  save(dir: string): void {
    atomicWriteFileSync(join(dir, KEYWORD_INDEX_FILE), JSON.stringify(this.toJSON()));
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

  private insert(docs: DocumentInterface[], ids: string[]): void {
    this.termScores.clear();
    docs.forEach((doc, i) => {
      const copy = copyDocument(doc, ids[i]);
      this.mini.add(this.fields(copy, ids[i]));
      this.docs.set(ids[i], copy);
    });
  }

  private fields(doc: DocumentInterface, id: string): IndexedFields {
    return { id, title: documentTitle(doc), headings: headingText(doc), body: doc.pageContent };
  }

  private miniSearchOptions() {
    const stem = this.stem;
    return {
      fields: [...FIELDS],
      idField: "id",
      storeFields: [] as string[],
      tokenize: (text: string) => analyzeText(text, { stem }),
      processTerm: (term: string) => term,
      // Vacuuming runs on timers in the background; we compact on save instead (see toJSON).
      autoVacuum: false,
    };
  }

  private createMiniSearch(): MiniSearch<IndexedFields> {
    return new MiniSearch<IndexedFields>(this.miniSearchOptions());
  }
}

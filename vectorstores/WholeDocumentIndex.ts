import { Document, type DocumentInterface } from "@langchain/core/documents";
import { GeneraError } from "../src/errors.js";
import { KeywordIndex, type KeywordTerms } from "./KeywordIndex.js";

/** One source document rebuilt from its chunks. */
export interface SourceDocument {
  source: string;
  /** Chunk ids in reading order. */
  chunkIds: string[];
  /** Where each chunk starts and ends in `text` (same order as chunkIds). */
  spans: Array<[number, number]>;
  /** Each chunk's `startChar` in the source, when known. */
  offsets: Array<number | undefined>;
  /** Each chunk's heading path (metadata `headings`), when it has one: where its section lies. */
  headings: Array<readonly string[] | undefined>;
  text: string;
}

/** Gaps between chunks up to this many characters are trimmed whitespace (see the constructor). */
const MAX_GAP = 8;
/**
 * An update whose documents hold more text than this is analysed between searches instead of
 * inside one (see `of`): a 7 MB upload's document took seconds of main thread to re-analyse.
 */
const LARGE_UPDATE_CHARS = 1 << 19;

/** A source put together from its chunks, not yet in the index. */
interface Assembled {
  record: SourceDocument;
  chunkIds: string[];
  document: Document;
}

/** What an update changes: sources gone, sources rebuilt, chunks that left a source. */
interface UpdatePlan {
  gone: string[];
  rebuilt: Assembled[];
  left: Array<[chunkId: string, source: string]>;
  chars: number;
}

interface CacheEntry {
  revision: number;
  index: WholeDocumentIndex;
  /** A large update being analysed between searches; the index answers as it was meanwhile. */
  updating?: Promise<void>;
}

const cache = new WeakMap<KeywordIndex, CacheEntry>();

function sourceOf(doc: DocumentInterface, id: string): string {
  const source = doc.metadata?.source;
  return typeof source === "string" && source !== "" ? source : id;
}

function orderKey(doc: DocumentInterface): number {
  const m = doc.metadata ?? {};
  if (typeof m.startChar === "number") return m.startChar;
  return typeof m.chunkIndex === "number" ? m.chunkIndex : 0;
}

/**
 * The run of text a chunk's offsets count in: each PDF page, each picture's caption, each timed
 * window of a recording, each CSV row and each JSON element starts its own at 0, so chunks of two
 * pages (or rows) never count as overlapping: read as one run, every row after the first lost its
 * text to the "overlap" with the row before.
 */
function unitOf(doc: DocumentInterface): [number, number, number, number, number] {
  const m = doc.metadata ?? {};
  const at = (key: string) => (typeof m[key] === "number" ? (m[key] as number) : 0);
  return [at("page"), at("image"), at("timeStart"), at("row"), m.format === "json" ? at("index") : 0];
}

function readingOrder(a: { id: string; doc: DocumentInterface }, b: { id: string; doc: DocumentInterface }): number {
  const unitA = unitOf(a.doc);
  const unitB = unitOf(b.doc);
  for (let i = 0; i < unitA.length; i++) if (unitA[i] !== unitB[i]) return (unitA[i] as number) - (unitB[i] as number);
  return orderKey(a.doc) - orderKey(b.doc) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * Whole documents rebuilt from a chunk-level KeywordIndex: the chunks of each `source` in
 * reading order (by `startChar`, else `chunkIndex`), overlaps removed, indexed by BM25 as one
 * document each (title and headings fields as the chunks have them).
 *
 * Two uses: document-level evidence for the hybrid retriever (the document *about* what a
 * question names scores on all its text, not only on the one chunk that repeats the name), and
 * small-to-big answers (a chunk's neighbours, to hand an answerer the text around a hit).
 * Built on first use, then updated document by document as the chunk index changes
 * (see KeywordIndex.changedSince).
 */
export class WholeDocumentIndex {
  readonly keywordIndex: KeywordIndex;
  private readonly bySource = new Map<string, SourceDocument>();
  private readonly sourceOfChunk = new Map<string, string>();

  /** `snapshot`: postings written by `snapshot()` when `chunks` held what it holds now (see restore). */
  private constructor(chunks: KeywordIndex, snapshot?: string) {
    const groups = new Map<string, Array<{ id: string; doc: Document }>>();
    for (const id of chunks.ids()) {
      const doc = chunks.getDocument(id);
      if (!doc) continue;
      const source = sourceOf(doc, id);
      const list = groups.get(source);
      if (list) list.push({ id, doc });
      else groups.set(source, [{ id, doc }]);
    }
    const whole: Document[] = [];
    for (const [source, list] of groups) {
      const assembled = this.assemble(source, list);
      this.keep(assembled);
      whole.push(assembled.document);
    }
    if (snapshot === undefined) this.keywordIndex = KeywordIndex.rebuildFrom(whole);
    else {
      this.keywordIndex = new KeywordIndex();
      // Sources whose chunks are all gone since the snapshot are dropped with their text.
      this.keywordIndex.loadSnapshot(snapshot, whole);
      const missing = whole.filter((doc) => !this.keywordIndex.has(doc.id as string));
      if (missing.length) {
        throw new GeneraError(
          "INDEX_CORRUPT",
          `The whole-document snapshot lacks ${missing.length} of the ${whole.length} documents the chunks make (${missing[0]?.id}, …)`,
        );
      }
    }
  }

  /**
   * Restores the whole-document index of `chunks` from a `snapshot()` taken when `chunks` held
   * exactly what it holds now: the documents' texts are put together again from the chunks (no
   * text analysis) and their postings read from the snapshot, so the first search after a
   * restart does not index every text again. Later changes to `chunks` are followed as usual.
   * Throws (INDEX_CORRUPT, or the parser's error) when the snapshot does not fit.
   */
  static restore(chunks: KeywordIndex, snapshot: string): WholeDocumentIndex {
    const index = new WholeDocumentIndex(chunks, snapshot);
    cache.set(chunks, { revision: chunks.revision, index });
    return index;
  }

  /** The whole-document index of `chunks` if one was built (brought up to date), without building one. */
  static built(chunks: KeywordIndex): WholeDocumentIndex | undefined {
    const cached = cache.get(chunks);
    if (!cached) return undefined;
    if (cached.revision >= chunks.settledRevision) return cached.index;
    const changed = chunks.changedSince(cached.revision);
    return changed && changed.length <= chunks.size / 2 ? WholeDocumentIndex.of(chunks) : undefined;
  }

  /**
   * `built`, once any update still being analysed has been applied and the index follows every
   * change of `chunks`: what a snapshot must hold. Undefined when none was built.
   */
  static async settled(chunks: KeywordIndex): Promise<WholeDocumentIndex | undefined> {
    for (let cached = cache.get(chunks); cached?.updating; cached = cache.get(chunks)) await cached.updating;
    const cached = cache.get(chunks);
    if (!cached || cached.revision >= chunks.settledRevision) return cached?.index;
    const changed = chunks.changedSince(cached.revision);
    if (!changed || changed.length > chunks.size / 2) return undefined;
    cached.index.apply(cached.index.plan(chunks, changed));
    cached.revision = chunks.revision;
    return cached.index;
  }

  /** The postings of the whole documents (see KeywordIndex.snapshot), for `restore`. */
  snapshot(): string {
    return this.keywordIndex.snapshot();
  }

  /**
   * The whole-document index of a chunk index, kept up to date with its revisions. Only the
   * documents whose chunks changed are rebuilt, unless most did. An update with more than
   * LARGE_UPDATE_CHARS of text (a large upload's document) is analysed a piece at a time between
   * searches, which meanwhile get the index as it was; smaller ones are applied at once.
   */
  static of(chunks: KeywordIndex): WholeDocumentIndex {
    const cached = cache.get(chunks);
    // While a change is made in slices (KeywordIndex.hold), the documents follow it at its end.
    if (cached && (cached.updating || cached.revision >= chunks.settledRevision)) return cached.index;
    // A full rebuild re-analyses every text (seconds on 30k chunks): only when most changed.
    const changed = cached ? chunks.changedSince(cached.revision) : undefined;
    if (cached && changed && changed.length <= chunks.size / 2) {
      const revision = chunks.revision;
      const plan = cached.index.plan(chunks, changed);
      if (plan.chars <= LARGE_UPDATE_CHARS) {
        cached.index.apply(plan);
        cached.revision = revision;
      } else {
        cached.updating = cached.index
          .applyInSlices(plan)
          .then(
            () => {
              cached.revision = revision;
            },
            // Nothing half-applied is kept: the next search builds the index afresh.
            () => {
              cache.delete(chunks);
            },
          )
          .finally(() => {
            cached.updating = undefined;
          });
      }
      return cached.index;
    }
    const index = new WholeDocumentIndex(chunks);
    cache.set(chunks, { revision: chunks.revision, index });
    return index;
  }

  /** What rebuilding the documents that held or now hold one of `ids` changes, from the chunks as they are now. */
  private plan(chunks: KeywordIndex, ids: string[]): UpdatePlan {
    const sources = new Set<string>();
    const now = new Map<string, Document>();
    for (const id of ids) {
      const before = this.sourceOfChunk.get(id);
      if (before !== undefined) sources.add(before);
      const doc = chunks.getDocument(id);
      if (doc) {
        now.set(id, doc);
        sources.add(sourceOf(doc, id));
      }
    }
    const plan: UpdatePlan = { gone: [], rebuilt: [], left: [], chars: 0 };
    for (const source of sources) {
      const ids = new Set(this.bySource.get(source)?.chunkIds);
      for (const [id, doc] of now) if (sourceOf(doc, id) === source) ids.add(id);
      const list: Array<{ id: string; doc: Document }> = [];
      for (const id of ids) {
        const doc = now.get(id) ?? chunks.getDocument(id);
        if (doc && sourceOf(doc, id) === source) list.push({ id, doc });
        else if (this.sourceOfChunk.get(id) === source) plan.left.push([id, source]);
      }
      if (list.length) {
        const assembled = this.assemble(source, list);
        plan.rebuilt.push(assembled);
        plan.chars += assembled.document.pageContent.length;
      } else plan.gone.push(source);
    }
    return plan;
  }

  /** Applies an update; `terms`: the rebuilt documents' analysed fields, when analysed already. */
  private apply(plan: UpdatePlan, terms?: KeywordTerms[]): void {
    for (const [id, source] of plan.left) if (this.sourceOfChunk.get(id) === source) this.sourceOfChunk.delete(id);
    for (const source of plan.gone) this.bySource.delete(source);
    for (const assembled of plan.rebuilt) this.keep(assembled);
    this.keywordIndex.remove(plan.gone);
    if (plan.rebuilt.length) {
      this.keywordIndex.replace(
        plan.rebuilt.map((a) => a.document),
        terms,
      );
    }
  }

  /** Analyses the rebuilt documents a piece at a time (searches run between pieces), then applies the update. */
  private async applyInSlices(plan: UpdatePlan): Promise<void> {
    const terms: KeywordTerms[] = [];
    for (const { document } of plan.rebuilt) terms.push(await this.keywordIndex.termsOfInSlices(document));
    this.apply(plan, terms);
  }

  /** Records an assembled source for `chunksOf` and `neighbourhood`. */
  private keep({ record, chunkIds }: Assembled): void {
    this.bySource.set(record.source, record);
    for (const id of chunkIds) this.sourceOfChunk.set(id, record.source);
  }

  /** One source's chunks in reading order, overlaps removed, as one document (recorded by `keep`). */
  private assemble(source: string, list: Array<{ id: string; doc: Document }>): Assembled {
    const { document, ...record } = assembleSource(source, list);
    return { record, chunkIds: record.chunkIds, document };
  }

  /** BM25 scores of whole documents (source → score) for a query. */
  scores(query: string, filter?: Parameters<KeywordIndex["scores"]>[1]): ReadonlyMap<string, number> {
    return this.keywordIndex.scores(query, filter);
  }

  /** The chunk ids of a source, in reading order. */
  chunksOf(source: string): readonly string[] {
    return this.bySource.get(source)?.chunkIds ?? [];
  }

  /**
   * The chunk with `window` chunks either side, as one text. `before`: where the chunk begins
   * in it; `startChar`: where the text begins in the source document, when the chunks are
   * contiguous there (so offsets into the text map back to the source).
   */
  neighbourhood(chunkId: string, window: number, maxChars?: number): Neighbourhood | undefined {
    const source = this.sourceOfChunk.get(chunkId);
    const doc = source === undefined ? undefined : this.bySource.get(source);
    return doc && neighbourhoodIn(doc, chunkId, window, maxChars);
  }
}

/** A chunk with its neighbours as one text (see WholeDocumentIndex.neighbourhood). */
export interface Neighbourhood {
  text: string;
  before: number;
  startChar?: number;
  /** The chunks the text is made of, in reading order: where each lies in `text`, and its section. */
  parts: NeighbourPart[];
}

/** One chunk of a Neighbourhood: a quote found in the window is cited as the chunk it lies in. */
export interface NeighbourPart {
  id: string;
  start: number;
  end: number;
  headings?: readonly string[];
}

/**
 * Whole-document evidence as the hybrid retriever reads it: a WholeDocumentIndex in process, or a
 * store that keeps whole-document postings itself (Postgres). Any method may answer asynchronously.
 */
export interface WholeDocumentSide {
  /** BM25 scores of whole documents (source → score); a side may return only the best matches. */
  scores(query: string): ReadonlyMap<string, number> | Promise<ReadonlyMap<string, number>>;
  /** The chunk ids of a source that `scores` returned, in reading order. */
  chunksOf(source: string): readonly string[] | Promise<readonly string[]>;
  neighbourhood(
    chunkId: string,
    window: number,
    maxChars?: number,
  ): Neighbourhood | undefined | Promise<Neighbourhood | undefined>;
}

/**
 * One source's chunks in reading order, overlaps removed, as one document (its title and first
 * heading as the chunks have them), with where each chunk lies in its text: what the
 * whole-document index scores, and what a store keeping whole documents builds the same way.
 */
export function assembleSource(
  source: string,
  chunks: Array<{ id: string; doc: DocumentInterface }>,
): SourceDocument & { document: Document } {
  const list = [...chunks].sort(readingOrder);
  let text = "";
  let end = Number.NEGATIVE_INFINITY; // end of the text so far, in the source's offsets
  let unit = "";
  const spans: Array<[number, number]> = [];
  const offsets: Array<number | undefined> = [];
  const headings: Array<readonly string[] | undefined> = [];
  for (const { doc } of list) {
    const m = doc.metadata ?? {};
    const own = unitOf(doc).join("/");
    if (own !== unit) end = Number.NEGATIVE_INFINITY;
    unit = own;
    const start = typeof m.startChar === "number" ? m.startChar : undefined;
    let piece = doc.pageContent;
    // Chunks end where the splitter found a break, most often a paragraph's: a blank line keeps
    // a term line ("bgwriter_delay (integer)") apart from the paragraph that explains it.
    let separator = text ? "\n\n" : "";
    // Overlapping (or touching) chunks: keep only what is new, so the text stays the source's.
    if (start !== undefined && start <= end) {
      piece = piece.slice(Math.min(piece.length, end - start));
      separator = "";
    } else if (text && start !== undefined && start - end <= MAX_GAP) {
      // The whitespace the splitter trimmed between two chunks, as that many line breaks: the
      // text keeps the source's length, so its offsets still map back to the source.
      separator = "\n".repeat(start - end);
    }
    const at = text.length + separator.length;
    text += separator + piece;
    spans.push([at - (doc.pageContent.length - piece.length), text.length]);
    offsets.push(start);
    headings.push(headingPath(m.headings));
    if (start !== undefined) end = Math.max(end, start + doc.pageContent.length);
  }
  const first = list[0]!.doc;
  return {
    source,
    chunkIds: list.map((c) => c.id),
    spans,
    offsets,
    headings,
    text,
    document: new Document({
      pageContent: text,
      id: source,
      metadata: { source, title: first.metadata?.title, headings: first.metadata?.headings?.slice?.(0, 1) ?? [] },
    }),
  };
}

/** A chunk's heading path from its metadata; undefined when it has none (no section to keep to). */
function headingPath(value: unknown): readonly string[] | undefined {
  if (!Array.isArray(value) || !value.length || !value.every((h) => typeof h === "string")) return undefined;
  return value as string[];
}

/**
 * Whether a chunk with heading path `path` lies apart from the section `section`: outside it (not
 * the same path nor one under it) and, where the two paths part, one of them under a question.
 */
function apart(section: readonly string[], path: readonly string[] | undefined): boolean {
  const other = path ?? [];
  let k = 0;
  while (k < section.length && k < other.length && section[k] === other[k]) k++;
  if (k === section.length) return false;
  return section.slice(k).some(isQuestionHeading) || other.slice(k).some(isQuestionHeading);
}

/** A heading with at least this many words is a sentence (an FAQ entry), not a section's title. */
const SENTENCE_HEADING_WORDS = 8;

/**
 * Whether a heading asks (or states) one FAQ entry rather than titling a section: it has a question
 * mark ("How do I delete a file? (And other file questions…)"), ends as a sentence does once its
 * section number is gone ("4.5. Memcheck doesn't report any errors and I know my program has
 * errors."), or is as long as a sentence ("How do you remove multiple items from a list").
 * "2.7.3. Error-related Options", "Syntax" and "Numbers and strings" title sections.
 */
export function isQuestionHeading(heading: string): boolean {
  if (heading.includes("?")) return true;
  // Read without allocating: a window asks this of every neighbour's headings on each search.
  let words = 0;
  let inWord = false;
  let last = 0;
  for (let i = 0; i < heading.length; i++) {
    const code = heading.charCodeAt(i);
    const space = code === 32 || code === 9 || code === 10 || code === 13;
    if (!space) {
      if (!inWord) words++;
      last = code;
    }
    inWord = !space;
  }
  const titleWords = SECTION_NUMBER.test(heading) ? words - 1 : words;
  const sentenceEnd = last === 46 || last === 33; // "." or "!"
  return titleWords > 0 && (sentenceEnd || titleWords >= SENTENCE_HEADING_WORDS);
}

/** A leading section number ("4.5. ", "2.7.3 ", "F.1. "). */
const SECTION_NUMBER = /^\s*(?:\d+(?:\.\d+)*\.?|[A-Z](?:\.\d+)+\.?)\s+\S/;

/**
 * The chunk with up to `window` chunks either side in an assembled document (see
 * WholeDocumentIndex.neighbourhood): neighbours are taken nearest first, one before then one
 * after, while the text stays within `maxChars` (the chunk itself always comes whole). A window
 * does not cross from one question's section to another's: on each side it stops at the first
 * chunk outside the chunk's section where either heading path has an FAQ entry's heading (see
 * isQuestionHeading) below the part they share. On an FAQ (each question a section) the next answer is not this one's, and an answerer
 * quoted it; a reference page's sections (Syntax, Values, Examples) still share a window, as the
 * answer often lies next to the chunk retrieval found (stopping there too lost more answers).
 */
export function neighbourhoodIn(
  doc: SourceDocument,
  chunkId: string,
  window: number,
  maxChars = Number.POSITIVE_INFINITY,
): Neighbourhood | undefined {
  const i = doc.chunkIds.indexOf(chunkId);
  if (i < 0) return undefined;
  let first = i;
  let last = i;
  const fits = (a: number, b: number) => doc.spans[b]![1] - doc.spans[a]![0] <= maxChars;
  // A chunk under no heading (plain text, CSV, a page's preamble) grows its window as far as it may.
  const section = doc.headings[i];
  const joins = (j: number) => section === undefined || !apart(section, doc.headings[j]);
  for (let grew = true; grew; ) {
    grew = false;
    if (first > 0 && i - first < window && fits(first - 1, last) && joins(first - 1)) {
      first--;
      grew = true;
    }
    if (last < doc.spans.length - 1 && last - i < window && fits(first, last + 1) && joins(last + 1)) {
      last++;
      grew = true;
    }
  }
  const from = doc.spans[first]![0];
  const text = doc.text.slice(from, doc.spans[last]![1]);
  const firstStart = doc.offsets[first];
  const lastStart = doc.offsets[last];
  const lastLength = doc.spans[last]![1] - doc.spans[last]![0];
  const contiguous =
    firstStart !== undefined && lastStart !== undefined && lastStart + lastLength - firstStart === text.length;
  const parts: NeighbourPart[] = [];
  for (let j = first; j <= last; j++) {
    const [start, end] = doc.spans[j]!;
    const headings = doc.headings[j];
    parts.push({ id: doc.chunkIds[j]!, start: start - from, end: end - from, ...(headings ? { headings } : {}) });
  }
  return { text, before: doc.spans[i]![0] - from, ...(contiguous ? { startChar: firstStart } : {}), parts };
}

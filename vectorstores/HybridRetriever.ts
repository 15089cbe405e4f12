import type { CallbackManagerForRetrieverRun } from "@langchain/core/callbacks/manager";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { BaseRetriever, type BaseRetrieverInput } from "@langchain/core/retrievers";
import { GeneraError } from "../src/errors.js";
import type { Reranker } from "./CrossEncoderReranker.js";
import { type DocumentFilter, documentTitle, KeywordIndex } from "./KeywordIndex.js";
import { KeywordScores } from "./KeywordScores.js";
import {
  aggregateByDocument,
  convexFusion,
  cosineSimilarity,
  maximalMarginalRelevance,
  normalizeScores,
  rankIds,
  reciprocalRankFusion,
  type ScoreNormalization,
  topIds,
} from "./scoreFusion.js";
import { mayHaveTermLines, nameCoverage, termLineNames } from "./termLines.js";
import { WholeDocumentIndex, type WholeDocumentSide } from "./WholeDocumentIndex.js";

/**
 * The dense side: any LangChain vector store (HNSWVectorStore, MemoryVectorStore…).
 * `getVector` is optional; with it the retriever scores keyword-only candidates on the
 * dense side too, and MMR can compare chunks.
 */
export interface HybridDenseStore {
  embeddings: EmbeddingsInterface;
  similaritySearchVectorWithScore(
    query: number[],
    k: number,
    // biome-ignore lint/suspicious/noExplicitAny: each store has its own filter type; ours is passed through as is
    filter?: any,
  ): Promise<[DocumentInterface, number][]>;
  getVector?(id: string): number[] | undefined;
}

/**
 * The keyword side: a KeywordIndex, or any side that scores with the same analyser (a
 * database's full-text search). `scores` may answer asynchronously; a side that cannot score
 * every match cheaply may return only the best `limit` (candidates beyond them count as 0).
 * `getDocument` must know every id the last `scores` call returned.
 */
export interface HybridKeywordSide {
  scores(
    query: string,
    options: { filter?: DocumentFilter; limit?: number },
  ): ReadonlyMap<string, number> | Promise<ReadonlyMap<string, number>>;
  getDocument(id: string): DocumentInterface | undefined;
  analyze(text: string): string[];
  /** The distinct terms of what a title names (see KeywordIndex.titleTerms), for the title boost. */
  titleTerms(title: string): string[];
  /**
   * Whole-document evidence kept beside the chunks (a store's whole-document postings). A
   * KeywordIndex needs none: the retriever derives it (WholeDocumentIndex.of).
   */
  wholeDocuments?(): WholeDocumentSide | undefined;
}

export type RetrievalMode = "hybrid" | "keyword" | "dense";
export type FusionMethod = "convex" | "rrf";

/**
 * Defaults chosen by `bench/retrieval-eval.ts` with the offline USE-lite encoder: the
 * setting with the best AVERAGE over every shipped QA set of (recall@1 + recall@5 + MRR) / 3
 * among those at least as good as keyword-only BM25 on every metric of every set — tuned
 * on one corpus alone it would overfit. Sets: knowledge (99 questions, 335 chunks),
 * css-properties (360, 1,820), man-pages (318, 3,067). Measured R@1 / R@5 / MRR:
 *   keyword-only BM25   .929/.975/.957   .922/.978/.945   .797/.899/.844
 *   dense-only          .439/.687/.557   .461/.764/.584   .266/.454/.351
 *   hybrid RRF (equal)  .707/.960/.812   .836/.956/.891   .678/.865/.758
 *   these defaults      .929/1.00/.965   .922/.989/.947   .825/.937/.874   (1.017× BM25 on average)
 * Why these values: BM25 beat the encoder alone on every set, so the keyword side carries
 * 0.8 (0.6–0.8 were within a question or two of each other; 0.3 lost 3–6%); z-scores edged
 * out min-max. Document aggregation won on every set (one long page no longer fills all k
 * slots); a bonus for further chunks (0.1) tied, larger ones hurt. The BM25 title field
 * (weight 2) already rewards questions that name a title, so the extra title boost is
 * small. Scoring keyword-only candidates from stored vectors (denseCompletion) lost by a
 * question or two on the current sets, and costs a vector read per candidate: off.
 * Whole-document BM25 evidence (documentWeight) and one neighbouring chunk of context
 * (expandWindow) were added later and measured over five sets (knowledge, css-properties,
 * elements, man-pages, postgresql; bench/README.md): document weight 0.3 and 0.6 gave the same
 * average (1.018× BM25 per chunk), 1.0 lost R@1 on knowledge; the context window changes no
 * ranking and lifted the answerer's contains-gold on every profile-like set.
 * The title boost then became a boost for the title's *name* ("basename" of "basename(1): strip
 * directory and suffix from filenames", "align-content" of "align-content (CSS property)"):
 * whole titles were seldom covered by a question, so 0.1 rarely applied. Over the five sets
 * (R@1 / R@5 / MRR average): 0.1 → .903/.986/.939, 0.3 → .906/.986/.942, 0.6 → .910/.986/.943,
 * 1.0 → .913/.987/.945, 1.5 → .916/.987/.947 (postgresql MRR .902, below where it started),
 * 2.5 → .914/.987/.946; 1.0 is the best that leaves no set worse; the whole title at 1.0 gave
 * .901/.985/.937.
 * The context window (no effect on ranking) was swept for the extractive answerer over the five
 * sets (contains gold / right document cited first / decline recall / answerable declined):
 * ±1 chunk .749/.875/.825/.052; ±2 .768/.882/.816/.045; ±3 .773/.889/.812/.039; ±4 .779/.896/
 * .794/.037; capped at 3,000 characters: ±3 .771/.887/.812/.041, ±4 .776/.892/.812/.039 (chosen:
 * best sum), ±6 .774/.888/.812/.041; ±3 at 2,000 .764/.884/.816/.046; ±5 at 4,000 .780/.890/
 * .802/.039. Chunks are short (median 130–590 characters on those sets), so a name, its
 * definition and its default often sit three or four chunks apart; the cap keeps a generator's
 * prompt of k passages bounded.
 * Once CSV rows were assembled into whole documents correctly (every row after the first had lost
 * its text), whole-file BM25 found knowledge's answers in its top 5 for every question and the
 * default at document weight 0.3 missed one; 0.4 is the best average that keeps the default ≥
 * both BM25 baselines everywhere (R@1/R@5/MRR average: 0.3 .913/.985/.945, 0.4 .911/.986/.944,
 * 0.5 .910/.986/.944, 0.8 .903/.985/.940).
 * The term boost (a chunk whose term line names what the question asks: "--tool=<toolname>
 * [default: memcheck]" for "What is the default tool?") was swept over the seven sets (R@1 / R@5 /
 * MRR average; lexical answers' contains gold / cited first), from .913/.988/.947, .767/.873 without
 * it: 0.5 → .917/.989/.949, .772/.876; 1 → .923/.989/.953, .777/.878; 1.5 → .925/.989/.955,
 * .778/.879; 2 → .923/.989/.954, .777/.879. Coverage of half the name instead of all of it was no
 * better at any weight (1.5: .924/.989/.954, .778/.879). It lifted postgresql (R@1 .844 → .866) and
 * valgrind (.877 → .913) and cost one question each on css-properties and man-pages.
 */
export const HYBRID_DEFAULTS = {
  mode: "hybrid" as RetrievalMode,
  k: 5,
  fetchK: 50,
  fusion: "convex" as FusionMethod,
  keywordWeight: 0.8,
  normalization: "zscore" as ScoreNormalization,
  rrfK: 60,
  aggregate: "document" as "none" | "document",
  aggregateBonus: 0,
  chunksPerDocument: 1,
  titleBoost: 1,
  titleMinCoverage: 1,
  termBoost: 1.5,
  termMinCoverage: 1,
  denseCompletion: false,
  documentWeight: 0.4,
  expandWindow: 4,
  maxContextChars: 3_000,
};

export interface HybridRetrieverOptions extends BaseRetrieverInput {
  vectorStore: HybridDenseStore;
  keywordIndex: HybridKeywordSide;
  /** Which sides to use (default "hybrid"); "keyword" never embeds the query. */
  mode?: RetrievalMode;
  /** Documents to return (default 5). */
  k?: number;
  /** Candidates fetched from each side before fusion (default 50, at least k). */
  fetchK?: number;
  /** "convex" (default): weighted sum of normalised scores; "rrf": reciprocal rank fusion, equal weights. */
  fusion?: FusionMethod;
  /** Convex fusion weight of the keyword side in [0, 1]; dense gets the rest. */
  keywordWeight?: number;
  normalization?: ScoreNormalization;
  /** The k in RRF's 1 / (k + rank). */
  rrfK?: number;
  /**
   * "document": rank documents (grouped by `metadata.source`) by their best chunk's fused
   * score plus `aggregateBonus` × the sum of their next two best chunks' scores (negative
   * fused scores, as z-scores give, are first shifted so the weakest candidate is 0), then return each document's best
   * `chunksPerDocument` chunks, all carrying the document's score. "none": rank chunks.
   */
  aggregate?: "none" | "document";
  aggregateBonus?: number;
  chunksPerDocument?: number;
  /**
   * Added to a document's fused score when the question's content words cover at least
   * `titleMinCoverage` (default all) of the content words of what its title names (see
   * `titleName`: "basename(1): strip directory…" names "basename"); scaled by the covered share.
   * The document *about* the thing a question names then beats one that mentions it.
   */
  titleBoost?: number;
  titleMinCoverage?: number;
  /**
   * Added to a chunk's fused score when it has a term line (see termLines.ts: an option, a
   * setting, a definition-list entry) whose name the question's terms cover at least
   * `termMinCoverage` of; scaled by the covered share. The chunk that defines what a question
   * asks about ("--tool=<toolname> [default: memcheck]" for "What is the default tool?") then
   * beats chunks that mention it. Keyword side only (not in "dense" mode).
   */
  termBoost?: number;
  termMinCoverage?: number;
  /**
   * Score keyword-only candidates on the dense side from their stored vectors (default false;
   * needs `vectorStore.getVector`). Off: they take the dense side's lowest normalised score.
   */
  denseCompletion?: boolean;
  /**
   * Document-level evidence: weight of a whole-document BM25 score (the document's chunks
   * rebuilt into one text, its title as a field; z-scored over the candidates' documents)
   * added to each document's fused score, so the document *about* what the question names
   * beats one that merely mentions it. The best-matching chunk of a top document that neither
   * side fetched joins the candidates. 0 turns it off; keyword side only (not in "dense" mode).
   */
  documentWeight?: number;
  /**
   * Small-to-big: put the chunk with this many neighbouring chunks either side in
   * `metadata.context` (and its offset in `metadata.contextStartChar` when contiguous), for an
   * answerer or a prompt to read around the hit; `metadata.contextParts` lists the window's
   * chunks (id, place in the text, heading path), so a quote from a neighbour is cited as that
   * chunk. The chunk itself is unchanged. Default 4 (within maxContextChars); 0 adds nothing.
   */
  expandWindow?: number;
  /**
   * The context window stops growing before its text passes this many characters (neighbours
   * are added nearest first, one before then one after; the chunk itself always comes whole),
   * so a prompt of k passages stays bounded whatever the chunk sizes. Default 3,000.
   */
  maxContextChars?: number;
  /** Diversify the fused list: MMR over its top `fetchK` (default 20) using stored vectors. */
  mmr?: { lambda?: number; fetchK?: number };
  /**
   * Optional last stage (off by default): reorder the best `rerankTopN` (default 20) by a
   * reranker's score, e.g. a CrossEncoderReranker; each result then carries `rerankScore`.
   */
  reranker?: Reranker;
  rerankTopN?: number;
  /** Passed to both sides: a metadata object (every key must match) or a predicate. */
  filter?: DocumentFilter;
}

interface Candidate {
  id: string;
  doc: DocumentInterface;
  dense: number | null;
  keyword: number | null;
  fused: number;
}

function checkNumber(name: string, value: number, min: number, max: number, integer = false): void {
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw new GeneraError(
      "INVALID_INPUT",
      `HybridRetriever option ${name} must be ${integer ? "an integer" : "a number"} in [${min}, ${max}], got ${String(value)}`,
      { details: { option: name, value } },
    );
  }
}

function checkEnum<T extends string>(name: string, value: T, allowed: readonly T[]): void {
  if (!allowed.includes(value)) {
    throw new GeneraError(
      "INVALID_INPUT",
      `HybridRetriever option ${name} must be one of ${allowed.join(", ")}, got ${String(value)}`,
      {
        details: { option: name, value },
      },
    );
  }
}

/** The k best ids of a side's scores: a KeywordScores ranks itself without a Map of every match. */
function bestIds(scores: ReadonlyMap<string, number>, k: number): string[] {
  return scores instanceof KeywordScores ? scores.top(k) : topIds(scores, k);
}

/**
 * A question that writes a term's name whole ("--initial", "max_connections", not just "initial")
 * asks for that very entry: its term boost counts this many times. Measured over the seven sets
 * (R@1 / R@5 / MRR average; answers did not move): 1 → .925/.989/.955, 2 → .931/.989/.958
 * (postgresql R@1 .889 → .927, man-pages .920 → .923), 3 → .934/.989/.960 (man-pages .948, but
 * css-properties R@1 .925 → .922, a hair above BM25's .919), 5 → css-properties .917, below BM25.
 */
const WHOLE_NAME_FACTOR = 2;

/** True when a name's analysis starts with a whole compound or option (see analyzeText) that the question has too. */
function writesNameWhole(nameTerms: readonly string[], queryTerms: readonly string[]): boolean {
  const whole = nameTerms[0];
  return nameTerms.length > 1 && whole !== undefined && /[-_.]/.test(whole) && queryTerms.includes(whole);
}

/** Chunks whose term-line names are remembered per keyword side (see termNamesOf). */
const TERM_CACHE_SIZE = 50_000;
const termNameCache = new WeakMap<HybridKeywordSide, Map<string, { text: string; names: string[][] }>>();

function chunkId(doc: DocumentInterface): string | undefined {
  const id = doc.id ?? doc.metadata?.id;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/**
 * Hybrid retrieval over a dense vector store and a BM25 keyword index holding the
 * same chunks (same ids).
 *
 * One call: embed the query once; take the top `fetchK` from each side; score every
 * candidate on both sides where possible (keyword scores are exact — 0 when no term
 * matches; dense scores for keyword-only candidates come from their stored vectors);
 * normalise each side over the candidates; fuse; add the title boost; optionally
 * aggregate per document and diversify with MMR; return copies of the chunks with
 * `metadata.score` (what the list is ranked by), `denseScore`, `keywordScore`
 * (null when that side has no score for the chunk) and `id`.
 */
export class HybridRetriever extends BaseRetriever {
  static override lc_name(): string {
    return "HybridRetriever";
  }

  lc_namespace = ["genera", "vectorstores", "hybrid_retriever"];

  readonly vectorStore: HybridDenseStore;
  readonly keywordIndex: HybridKeywordSide;
  mode: RetrievalMode;
  k: number;
  fetchK: number;
  fusion: FusionMethod;
  keywordWeight: number;
  normalization: ScoreNormalization;
  rrfK: number;
  aggregate: "none" | "document";
  aggregateBonus: number;
  chunksPerDocument: number;
  titleBoost: number;
  titleMinCoverage: number;
  termBoost: number;
  termMinCoverage: number;
  denseCompletion: boolean;
  documentWeight: number;
  expandWindow: number;
  maxContextChars: number;
  mmr?: { lambda: number; fetchK: number };
  reranker?: Reranker;
  rerankTopN: number;
  filter?: DocumentFilter;

  constructor(options: HybridRetrieverOptions) {
    super(options);
    if (!options?.vectorStore || !options.keywordIndex) {
      throw new GeneraError("INVALID_INPUT", "HybridRetriever needs both a vectorStore and a keywordIndex");
    }
    const d = HYBRID_DEFAULTS;
    this.vectorStore = options.vectorStore;
    this.keywordIndex = options.keywordIndex;
    this.mode = options.mode ?? d.mode;
    this.k = options.k ?? d.k;
    this.fetchK = options.fetchK ?? d.fetchK;
    this.fusion = options.fusion ?? d.fusion;
    this.keywordWeight = options.keywordWeight ?? d.keywordWeight;
    this.normalization = options.normalization ?? d.normalization;
    this.rrfK = options.rrfK ?? d.rrfK;
    this.aggregate = options.aggregate ?? d.aggregate;
    this.aggregateBonus = options.aggregateBonus ?? d.aggregateBonus;
    this.chunksPerDocument = options.chunksPerDocument ?? d.chunksPerDocument;
    this.titleBoost = options.titleBoost ?? d.titleBoost;
    this.titleMinCoverage = options.titleMinCoverage ?? d.titleMinCoverage;
    this.termBoost = options.termBoost ?? d.termBoost;
    this.termMinCoverage = options.termMinCoverage ?? d.termMinCoverage;
    this.denseCompletion = options.denseCompletion ?? d.denseCompletion;
    this.documentWeight = options.documentWeight ?? d.documentWeight;
    this.expandWindow = options.expandWindow ?? d.expandWindow;
    this.maxContextChars = options.maxContextChars ?? d.maxContextChars;
    this.filter = options.filter;
    this.reranker = options.reranker;
    this.rerankTopN = options.rerankTopN ?? 20;
    if (this.reranker && typeof this.reranker.rerank !== "function") {
      throw new GeneraError(
        "INVALID_INPUT",
        "HybridRetriever option reranker must have a rerank(query, passages) method",
      );
    }
    if (options.mmr) this.mmr = { lambda: options.mmr.lambda ?? 0.7, fetchK: options.mmr.fetchK ?? 20 };

    checkEnum("mode", this.mode, ["hybrid", "keyword", "dense"]);
    checkEnum("fusion", this.fusion, ["convex", "rrf"]);
    checkEnum("normalization", this.normalization, ["minmax", "zscore"]);
    checkEnum("aggregate", this.aggregate, ["none", "document"]);
    checkNumber("k", this.k, 1, 10_000, true);
    checkNumber("fetchK", this.fetchK, 1, 100_000, true);
    checkNumber("keywordWeight", this.keywordWeight, 0, 1);
    checkNumber("rrfK", this.rrfK, 0, 1e6);
    checkNumber("aggregateBonus", this.aggregateBonus, 0, 10);
    checkNumber("chunksPerDocument", this.chunksPerDocument, 1, 10_000, true);
    checkNumber("titleBoost", this.titleBoost, 0, 10);
    checkNumber("titleMinCoverage", this.titleMinCoverage, 0, 1);
    checkNumber("termBoost", this.termBoost, 0, 10);
    checkNumber("termMinCoverage", this.termMinCoverage, 0, 1);
    checkNumber("documentWeight", this.documentWeight, 0, 10);
    checkNumber("expandWindow", this.expandWindow, 0, 100, true);
    checkNumber("maxContextChars", this.maxContextChars, 1, Number.MAX_SAFE_INTEGER, true);
    checkNumber("rerankTopN", this.rerankTopN, 1, 10_000, true);
    if (this.mmr) {
      checkNumber("mmr.lambda", this.mmr.lambda, 0, 1);
      checkNumber("mmr.fetchK", this.mmr.fetchK, 1, 100_000, true);
    }
  }

  override async _getRelevantDocuments(
    query: string,
    _runManager?: CallbackManagerForRetrieverRun,
  ): Promise<Document[]> {
    return (await this.retrieveWithScores(query)).map(([doc]) => doc);
  }

  /** Like `invoke`, with each document's ranking score alongside (also in `metadata.score`). */
  async retrieveWithScores(query: string): Promise<[Document, number][]> {
    if (typeof query !== "string") {
      throw new GeneraError("INVALID_INPUT", "HybridRetriever query must be a string", { details: { query } });
    }
    if (query.trim() === "") return [];
    // Whole documents are rebuilt from an in-process BM25 index, or kept by the store behind
    // the keyword side (the same documents and BM25: see WholeDocumentSide).
    const wanted = (this.documentWeight > 0 && this.mode !== "dense") || this.expandWindow > 0;
    const index = this.keywordIndex;
    const whole: WholeDocumentSide | undefined = !wanted
      ? undefined
      : index instanceof KeywordIndex
        ? index.size > 0
          ? WholeDocumentIndex.of(index)
          : undefined
        : index.wholeDocuments?.();
    const useDocuments = this.documentWeight > 0 && this.mode !== "dense" && whole !== undefined;
    // Asked alongside the chunk searches (a store answers over the network).
    const pendingDocumentScores = useDocuments && whole ? Promise.resolve(whole.scores(query)) : undefined;
    pendingDocumentScores?.catch(() => undefined); // awaited below; this only stops an "unhandled" report meanwhile
    const candidates = await this.collectCandidates(query, whole, pendingDocumentScores);
    const documentScores = await pendingDocumentScores;
    if (candidates.size === 0) return [];
    this.fuse(candidates);

    const queryWords = this.keywordIndex.analyze(query);
    if (this.termBoost > 0 && this.mode !== "dense") {
      // A chunk that names what is asked shares words with the question: dense-only hits are skipped.
      for (const c of candidates.values()) if (c.keyword) c.fused += this.termBonus(c, queryWords);
    }
    const queryTerms = new Set(queryWords);
    const documentBonus = this.documentBonus(candidates, documentScores);
    const titleBonus = (doc: DocumentInterface) => this.titleBonus(doc, queryTerms) + documentBonus(doc);

    // Ranked (chunk, score) pairs; with document aggregation the score is the document's.
    let ranked: Array<{ c: Candidate; score: number }>;
    if (this.aggregate === "document") {
      // "Best chunk + bonus × further chunks" needs a non-negative scale: z-scores below the
      // mean are negative, so those are shifted up until the weakest candidate scores 0.
      let floor = 0;
      for (const c of candidates.values()) floor = Math.min(floor, c.fused);
      const fused = new Map([...candidates.values()].map((c) => [c.id, c.fused - floor]));
      const keyOf = (id: string) => {
        const source = candidates.get(id)!.doc.metadata?.source;
        return typeof source === "string" && source !== "" ? source : id;
      };
      const docs = aggregateByDocument(fused, keyOf, { bonus: this.aggregateBonus }).map((agg) => ({
        ...agg,
        score: agg.score + titleBonus(candidates.get(agg.chunkIds[0])!.doc),
      }));
      docs.sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      ranked = docs.flatMap((agg) =>
        agg.chunkIds.slice(0, this.chunksPerDocument).map((id) => ({ c: candidates.get(id)!, score: agg.score })),
      );
    } else {
      const scores = new Map([...candidates.values()].map((c) => [c.id, c.fused + titleBonus(c.doc)]));
      ranked = rankIds(scores).map((id) => ({ c: candidates.get(id)!, score: scores.get(id)! }));
    }

    if (this.mmr) ranked = this.diversify(ranked);
    const rerankScores = new Map<string, number>();
    if (this.reranker && ranked.length > 1) {
      const top = ranked.slice(0, Math.max(this.rerankTopN, this.k));
      const scores = await this.reranker.rerank(
        query,
        top.map(({ c }) => c.doc.pageContent),
      );
      for (const [i, { c }] of top.entries()) rerankScores.set(c.id, scores[i] ?? Number.NEGATIVE_INFINITY);
      // Stable: equal reranker scores keep the fused order.
      const order = new Map(top.map(({ c }, i) => [c.id, i]));
      ranked = [
        ...[...top].sort(
          (a, b) => rerankScores.get(b.c.id)! - rerankScores.get(a.c.id)! || order.get(a.c.id)! - order.get(b.c.id)!,
        ),
        ...ranked.slice(top.length),
      ];
    }
    const top = ranked.slice(0, this.k);
    const contexts = await Promise.all(
      top.map(({ c }) =>
        this.expandWindow > 0 ? whole?.neighbourhood(c.id, this.expandWindow, this.maxContextChars) : undefined,
      ),
    );
    return top.map(({ c, score }, i) => {
      const metadata: Record<string, unknown> = {
        ...c.doc.metadata,
        id: c.id,
        score,
        denseScore: c.dense,
        keywordScore: c.keyword,
      };
      if (rerankScores.has(c.id)) metadata.rerankScore = rerankScores.get(c.id);
      const around = contexts[i];
      if (around && around.text.length > c.doc.pageContent.length) {
        metadata.context = around.text;
        if (around.startChar !== undefined) metadata.contextStartChar = around.startChar;
        metadata.contextParts = around.parts;
      }
      const doc = new Document({ pageContent: c.doc.pageContent, metadata, id: c.id });
      return [doc, score] as [Document, number];
    });
  }

  private async collectCandidates(
    query: string,
    whole: WholeDocumentSide | undefined,
    pendingDocumentScores: Promise<ReadonlyMap<string, number>> | undefined,
  ): Promise<Map<string, Candidate>> {
    const useDense = this.mode !== "keyword";
    const useKeyword = this.mode !== "dense";
    const fetchK = Math.max(this.fetchK, this.k, this.mmr?.fetchK ?? 0);
    const candidates = new Map<string, Candidate>();

    // Start the query embedding first: encoders run in worker threads or remote servers,
    // so the keyword search and vector look-ups below happen while it is in flight.
    const pendingVector = useDense ? this.vectorStore.embeddings.embedQuery(query) : undefined;
    pendingVector?.catch(() => undefined); // awaited below; this only stops an "unhandled" report meanwhile

    // Exact BM25 scores of every matching chunk: the keyword side's top fetchK are
    // candidates, and dense candidates absent from the map truly have score 0.
    const keywordScores: ReadonlyMap<string, number> = useKeyword
      ? await this.keywordIndex.scores(query, { filter: this.filter, limit: fetchK })
      : new Map<string, number>();
    for (const id of bestIds(keywordScores, fetchK)) {
      const doc = this.keywordIndex.getDocument(id);
      if (doc) candidates.set(id, { id, doc, dense: null, keyword: keywordScores.get(id)!, fused: 0 });
    }
    // The best chunk of each top whole-document match joins in: the profile of the entity a
    // question names may hold the answer in a chunk that never repeats the name.
    const documentScores = await pendingDocumentScores;
    if (whole && documentScores) {
      for (const source of bestIds(documentScores, Math.max(this.k, 10))) {
        let best: string | undefined;
        for (const id of await whole.chunksOf(source)) {
          const score = keywordScores.get(id);
          if (score !== undefined && (best === undefined || score > keywordScores.get(best)!)) best = id;
        }
        if (best === undefined || candidates.has(best)) continue;
        const doc = this.keywordIndex.getDocument(best);
        if (doc) candidates.set(best, { id: best, doc, dense: null, keyword: keywordScores.get(best)!, fused: 0 });
      }
    }
    // Stored vectors of the keyword candidates, fetched before the query vector arrives;
    // the stores we ship report cosine similarity, so the cosine to these puts keyword-only
    // candidates on the same scale as the dense hits.
    const vectors = new Map<string, number[]>();
    const getVector = this.vectorStore.getVector?.bind(this.vectorStore);
    if (useDense && this.denseCompletion && getVector) {
      for (const id of candidates.keys()) {
        const vector = getVector(id);
        if (vector) vectors.set(id, vector);
      }
    }
    if (!pendingVector) return candidates;

    const queryVector = await pendingVector;
    const hits = await this.vectorStore.similaritySearchVectorWithScore(queryVector, fetchK, this.filter);
    for (const [doc, score] of hits) {
      const id = chunkId(doc);
      if (!id) continue;
      const existing = candidates.get(id);
      if (existing) existing.dense = score;
      else
        candidates.set(id, {
          id,
          doc,
          dense: score,
          keyword: useKeyword ? (keywordScores.get(id) ?? null) : null,
          fused: 0,
        });
    }
    for (const c of candidates.values()) {
      const vector = c.dense === null ? vectors.get(c.id) : undefined;
      if (vector) c.dense = cosineSimilarity(queryVector, vector);
    }
    return candidates;
  }

  private fuse(candidates: Map<string, Candidate>): void {
    const dense = new Map<string, number>();
    const keyword = new Map<string, number>();
    for (const c of candidates.values()) {
      if (c.dense !== null) dense.set(c.id, c.dense);
      // No keyword match is a known BM25 score of 0, not an unknown one.
      if (this.mode !== "dense") keyword.set(c.id, c.keyword ?? 0);
    }
    const weight = this.mode === "keyword" ? 1 : this.mode === "dense" ? 0 : this.keywordWeight;
    let fused: Map<string, number>;
    if (this.fusion === "rrf") {
      const lists: string[][] = [];
      const weights: number[] = [];
      if (weight > 0) {
        lists.push(rankIds(new Map([...keyword].filter(([, s]) => s > 0))));
        weights.push(1);
      }
      if (weight < 1) {
        lists.push(rankIds(dense));
        weights.push(1);
      }
      fused = reciprocalRankFusion(lists, { k: this.rrfK, weights });
    } else {
      fused = convexFusion(weight < 1 ? dense : new Map(), weight > 0 ? keyword : new Map(), {
        keywordWeight: weight,
        normalization: this.normalization,
      });
    }
    for (const c of candidates.values()) c.fused = fused.get(c.id) ?? 0;
  }

  /** documentWeight × the z-scored whole-document BM25 score of a chunk's document, over the candidates' documents. */
  private documentBonus(
    candidates: Map<string, Candidate>,
    documentScores: ReadonlyMap<string, number> | undefined,
  ): (doc: DocumentInterface) => number {
    if (!documentScores || documentScores.size === 0) return () => 0;
    const sourceOf = (doc: DocumentInterface) => {
      const source = doc.metadata?.source;
      return typeof source === "string" ? source : "";
    };
    const raw = new Map<string, number>();
    for (const c of candidates.values()) {
      const source = sourceOf(c.doc);
      raw.set(source, documentScores.get(source) ?? 0);
    }
    const normalized = normalizeScores(raw, "zscore");
    return (doc) => this.documentWeight * (normalized.get(sourceOf(doc)) ?? 0);
  }

  private titleBonus(doc: DocumentInterface, queryTerms: ReadonlySet<string>): number {
    if (this.titleBoost === 0) return 0;
    const title = documentTitle(doc);
    if (!title) return 0;
    const terms = this.keywordIndex.titleTerms(title);
    if (terms.length === 0) return 0;
    const covered = terms.filter((t) => queryTerms.has(t)).length / terms.length;
    return covered > 0 && covered >= this.titleMinCoverage ? this.titleBoost * covered : 0;
  }

  /** termBoost × the best coverage of one of the chunk's term-line names by the question (see termBoost). */
  private termBonus(c: { id: string; doc: DocumentInterface }, queryWords: readonly string[]): number {
    let best = 0;
    for (const words of this.termNamesOf(c)) {
      const coverage = nameCoverage(words, queryWords);
      best = Math.max(best, writesNameWhole(words, queryWords) ? WHOLE_NAME_FACTOR * coverage : coverage);
    }
    return best > 0 && best >= this.termMinCoverage ? this.termBoost * best : 0;
  }

  /**
   * Each term-line name of a chunk as analysed words, cached per keyword side by chunk id while
   * its text stays the same (a server makes a retriever per request; the chunks outlive it).
   */
  private termNamesOf(c: { id: string; doc: DocumentInterface }): string[][] {
    const text = c.doc.pageContent;
    if (!mayHaveTermLines(text)) return [];
    let cache = termNameCache.get(this.keywordIndex);
    if (!cache) {
      cache = new Map();
      termNameCache.set(this.keywordIndex, cache);
    }
    const cached = cache.get(c.id);
    if (cached && cached.text === text) return cached.names;
    const names = termLineNames(text).map((name) => this.keywordIndex.analyze(name));
    if (cache.size >= TERM_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(c.id, { text, names });
    return names;
  }

  private diversify(ranked: Array<{ c: Candidate; score: number }>): Array<{ c: Candidate; score: number }> {
    const { lambda, fetchK } = this.mmr!;
    const pool = ranked.slice(0, Math.max(fetchK, this.k));
    const byId = new Map(pool.map((r) => [r.c.id, r]));
    const getVector = this.vectorStore.getVector?.bind(this.vectorStore);
    const order = maximalMarginalRelevance(
      pool.map((r) => ({ id: r.c.id, score: r.score, vector: getVector?.(r.c.id) })),
      this.k,
      lambda,
    );
    return order.map((id) => byId.get(id)!);
  }
}

import type { Document, DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { HybridDenseStore, HybridKeywordSide } from "../../vectorstores/HybridRetriever.js";
import { analyzeText, type DocumentFilter, KeywordIndex } from "../../vectorstores/KeywordIndex.js";
import {
  assembleSource,
  type Neighbourhood,
  neighbourhoodIn,
  type WholeDocumentSide,
} from "../../vectorstores/WholeDocumentIndex.js";
import type { KnowledgeStore } from "./KnowledgeStore.js";

/** The dense side of the hybrid retriever for a store that searches itself (Postgres). */
export class StoreDenseSide implements HybridDenseStore {
  constructor(
    private readonly store: KnowledgeStore,
    readonly embeddings: EmbeddingsInterface,
  ) {}

  async similaritySearchVectorWithScore(
    query: number[],
    k: number,
    filter?: DocumentFilter,
  ): Promise<[DocumentInterface, number][]> {
    const hits = await this.store.denseSearch(query, { k, filter });
    return hits.map((hit) => [hit.document, hit.score]);
  }
}

/**
 * Matches scored per search at least: the retriever makes candidates of the top `limit` only, but
 * a dense candidate beyond them should still get its own BM25 score (not 0), as in-process.
 */
const SCORED_MATCHES = 200;

/** Documents a keyword side keeps for `getDocument` between a `scores` call and the retriever's reads. */
const RECENT_DOCUMENTS = 5_000;

/**
 * Whole documents scored per search: the retriever z-scores the evidence over its candidates'
 * documents, so those beyond the best this many count as 0 (in process every match is scored).
 */
const SCORED_DOCUMENTS = 1_000;

/** Term document frequencies a keyword side remembers for `wordFrequency`. */
const RECENT_TERMS = 10_000;

/** Drops the oldest entries of a Map used as a recency window. */
function trim<K, V>(map: Map<K, V>, size: number): void {
  for (const key of map.keys()) {
    if (map.size <= size) break;
    map.delete(key);
  }
}

/**
 * The keyword side of the hybrid retriever for a store that searches itself: its best matches
 * (the store scores with the same BM25+ as the in-process index, but returns a bounded number of
 * them), with the same analyser as the embedded store for the query and titles.
 */
export class StoreKeywordSide implements HybridKeywordSide {
  /**
   * Documents returned by recent searches. A retriever reads them right after its own search,
   * but concurrent searches may resolve in between, so this keeps a window, not only the last.
   */
  private readonly recent = new Map<string, Document>();
  /** Empty: used for its analyser only (the one the embedded store and the Postgres store index with). */
  private readonly analyser = new KeywordIndex();
  private readonly documents: StoreDocumentSide;
  /** Analysed term → chunks holding it, for the terms of recent searches (see wordFrequency). */
  private readonly frequencies = new Map<string, number>();
  private chunks = 0;

  constructor(
    private readonly store: KnowledgeStore,
    private readonly defaultLimit = 50,
  ) {
    this.documents = new StoreDocumentSide(store);
  }

  /** Chunks in the store as of the last search (the corpus size an answerer weighs words against). */
  get size(): number {
    return this.chunks;
  }

  async scores(query: string, options: { filter?: DocumentFilter; limit?: number }): Promise<Map<string, number>> {
    // The statistics of the query's words come along, so that an answerer reading this side's
    // wordFrequency (synchronously, after retrieval) gets the store's figures.
    const [hits] = await Promise.all([
      this.store.keywordSearch(query, {
        k: Math.max(options.limit ?? this.defaultLimit, SCORED_MATCHES),
        filter: options.filter,
      }),
      this.learnFrequencies(query),
    ]);
    const out = new Map<string, number>();
    for (const hit of hits) {
      const id = hit.document.id as string;
      out.set(id, hit.score);
      this.recent.delete(id);
      this.recent.set(id, hit.document);
    }
    trim(this.recent, RECENT_DOCUMENTS);
    return out;
  }

  getDocument(id: string): Document | undefined {
    return this.recent.get(id);
  }

  wholeDocuments(): WholeDocumentSide {
    return this.documents;
  }

  /**
   * How many chunks hold `word` as the index analyses it (KeywordIndex.wordFrequency), for the
   * words of a recent search; a word no search asked about counts as rare (1).
   */
  wordFrequency(word: string): number {
    const [term] = analyzeText(word);
    if (term === undefined) return this.chunks;
    return this.frequencies.get(term) ?? 1;
  }

  /** Each word's own first term too: what wordFrequency asks for a word of the query. */
  private async learnFrequencies(query: string): Promise<void> {
    const terms = new Set(this.analyser.analyze(query));
    for (const word of query.split(/\s+/)) {
      const [term] = analyzeText(word);
      if (term !== undefined) terms.add(term);
    }
    const asked = [...terms];
    const { chunks, frequencies } = await this.store.keywordStatistics(asked);
    this.chunks = chunks;
    asked.forEach((term, i) => {
      this.frequencies.delete(term);
      this.frequencies.set(term, frequencies[i] ?? 0);
    });
    trim(this.frequencies, RECENT_TERMS);
  }

  analyze(text: string): string[] {
    return this.analyser.analyze(text);
  }

  titleTerms(title: string): string[] {
    return this.analyser.titleTerms(title);
  }
}

/**
 * The whole-document evidence of a store that keeps whole documents itself (documentSearch): the
 * same documents and BM25 as WholeDocumentIndex in process, and context windows read from the
 * store and put together the same way.
 */
export class StoreDocumentSide implements WholeDocumentSide {
  /** Chunk ids of the documents recent searches returned (a retriever reads them right after). */
  private readonly chunkIds = new Map<string, readonly string[]>();

  constructor(private readonly store: KnowledgeStore) {}

  async scores(query: string): Promise<Map<string, number>> {
    const hits = await this.store.documentSearch(query, { k: SCORED_DOCUMENTS });
    const out = new Map<string, number>();
    for (const hit of hits) {
      out.set(hit.source, Math.max(hit.score, out.get(hit.source) ?? Number.NEGATIVE_INFINITY));
      this.chunkIds.delete(hit.source);
      this.chunkIds.set(hit.source, hit.chunkIds);
    }
    trim(this.chunkIds, SCORED_DOCUMENTS * 4);
    return out;
  }

  chunksOf(source: string): readonly string[] {
    return this.chunkIds.get(source) ?? [];
  }

  async neighbourhood(chunkId: string, window: number, maxChars?: number): Promise<Neighbourhood | undefined> {
    // One chunk more on the left: where the window's first chunk overlaps the one before it is
    // decided as when the whole document is put together.
    const [found] = await this.store.chunkWindows([chunkId], window + 1);
    if (!found?.chunks.length) return undefined;
    const assembled = assembleSource(
      found.source,
      found.chunks.map((doc) => ({ id: doc.id as string, doc })),
    );
    return neighbourhoodIn(assembled, chunkId, window, maxChars);
  }
}

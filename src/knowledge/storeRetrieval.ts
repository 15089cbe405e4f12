import type { Document, DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { HybridDenseStore, HybridKeywordSide } from "../../vectorstores/HybridRetriever.js";
import { type DocumentFilter, KeywordIndex } from "../../vectorstores/KeywordIndex.js";
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

  constructor(
    private readonly store: KnowledgeStore,
    private readonly defaultLimit = 50,
  ) {}

  async scores(query: string, options: { filter?: DocumentFilter; limit?: number }): Promise<Map<string, number>> {
    const hits = await this.store.keywordSearch(query, {
      k: Math.max(options.limit ?? this.defaultLimit, SCORED_MATCHES),
      filter: options.filter,
    });
    const out = new Map<string, number>();
    for (const hit of hits) {
      const id = hit.document.id as string;
      out.set(id, hit.score);
      this.recent.delete(id);
      this.recent.set(id, hit.document);
    }
    for (const id of this.recent.keys()) {
      if (this.recent.size <= RECENT_DOCUMENTS) break;
      this.recent.delete(id);
    }
    return out;
  }

  getDocument(id: string): Document | undefined {
    return this.recent.get(id);
  }

  analyze(text: string): string[] {
    return this.analyser.analyze(text);
  }

  titleTerms(title: string): string[] {
    return this.analyser.titleTerms(title);
  }
}

import type { CallbackManagerForRetrieverRun } from "@langchain/core/callbacks/manager";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { BaseRetriever, type BaseRetrieverInput } from "@langchain/core/retrievers";
import { GeneraError } from "../src/errors.js";
import { contentTerms, cosineSimilarity } from "../src/llms/textUnits.js";

export interface InMemoryRetrieverOptions extends BaseRetrieverInput {
  documents: DocumentInterface[];
  /** Without embeddings the ranking is keyword-only. */
  embeddings?: EmbeddingsInterface;
  /** Documents returned per query (default 4). */
  k?: number;
  /** Weight of the dense score; the keyword weight is 1 − this (default 0.5; 0 without embeddings). */
  denseWeight?: number;
}

/**
 * A small hybrid retriever over documents held in memory — for single-document QA, tests
 * and examples, where building an index would be overkill. Scores follow the
 * HybridRetriever's metadata contract: `score` (fused), `denseScore` (cosine),
 * `keywordScore` (idf-weighted share of query terms present), `id`.
 */
export class InMemoryRetriever extends BaseRetriever {
  static override lc_name(): string {
    return "InMemoryRetriever";
  }

  lc_namespace = ["genera", "chains", "retrievers"];

  readonly documents: DocumentInterface[];
  readonly embeddings?: EmbeddingsInterface;
  readonly k: number;
  readonly denseWeight: number;
  private vectors?: Promise<number[][]>;
  private readonly terms: Array<Set<string>>;
  private readonly df = new Map<string, number>();

  constructor(options: InMemoryRetrieverOptions) {
    super(options);
    if (!Array.isArray(options?.documents)) {
      throw new GeneraError("INVALID_INPUT", "InMemoryRetriever needs `documents` (an array)");
    }
    this.documents = options.documents;
    this.embeddings = options.embeddings;
    this.k = options.k ?? 4;
    this.denseWeight = options.embeddings ? (options.denseWeight ?? 0.5) : 0;
    this.terms = this.documents.map((d) => {
      const m = (d.metadata ?? {}) as Record<string, unknown>;
      const extra = [m.title, ...(Array.isArray(m.headings) ? m.headings : [])].filter((x) => typeof x === "string");
      return new Set(contentTerms(`${extra.join(" ")}\n${d.pageContent}`));
    });
    for (const set of this.terms) for (const t of set) this.df.set(t, (this.df.get(t) ?? 0) + 1);
  }

  override async _getRelevantDocuments(
    query: string,
    _runManager?: CallbackManagerForRetrieverRun,
  ): Promise<DocumentInterface[]> {
    if (this.documents.length === 0) return [];
    const n = this.documents.length;
    const queryTerms = [...new Set(contentTerms(query))];
    const idf = (t: string) => Math.log(1 + n / (1 + (this.df.get(t) ?? 0)));
    const total = queryTerms.reduce((s, t) => s + idf(t), 0);
    const keyword = this.terms.map((set) =>
      total > 0 ? queryTerms.reduce((s, t) => s + (set.has(t) ? idf(t) : 0), 0) / total : 0,
    );
    let dense = new Array<number>(n).fill(0);
    if (this.embeddings && this.denseWeight > 0) {
      const embeddings = this.embeddings;
      this.vectors ??= embeddings.embedDocuments(this.documents.map((d) => d.pageContent));
      const [vectors, q] = await Promise.all([this.vectors, embeddings.embedQuery(query)]);
      dense = vectors.map((v) => Math.max(0, cosineSimilarity(q, v)));
    }
    return this.documents
      .map((doc, i) => ({
        doc,
        i,
        dense: dense[i] as number,
        keyword: keyword[i] as number,
        score: this.denseWeight * (dense[i] as number) + (1 - this.denseWeight) * (keyword[i] as number),
      }))
      .filter((r) => r.score > 0)
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .slice(0, this.k)
      .map(
        (r) =>
          new Document({
            pageContent: r.doc.pageContent,
            id: r.doc.id,
            metadata: {
              ...r.doc.metadata,
              id: (r.doc.metadata?.id as string | undefined) ?? r.doc.id ?? `${r.doc.metadata?.source ?? "doc"}#${r.i}`,
              score: r.score,
              denseScore: r.dense,
              keywordScore: r.keyword,
            },
          }),
      );
  }
}

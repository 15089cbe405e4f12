import { Document } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";

/**
 * Test embeddings whose geometry the test decides: each "concept" word maps to a
 * fixed axis, so texts sharing a concept are close whatever their other words —
 * a stand-in for a sentence encoder that understands paraphrases but has never
 * heard of rare names. Words outside the table contribute nothing. Counts calls so
 * tests can check the query is embedded once.
 */
export class ConceptEmbeddings extends Embeddings {
  queryCalls = 0;
  documentCalls = 0;
  readonly dimension: number;

  constructor(private readonly concepts: Record<string, number>) {
    super({});
    this.dimension = Math.max(...Object.values(concepts)) + 2;
  }

  embed(text: string): number[] {
    const v = new Array<number>(this.dimension).fill(0);
    // A small constant component keeps concept-free texts from being zero vectors.
    v[this.dimension - 1] = 0.05;
    for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
      const axis = this.concepts[word];
      if (axis !== undefined) v[axis] += 1;
    }
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  }

  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.documentCalls++;
    return texts.map((t) => this.embed(t));
  }

  async embedQuery(text: string): Promise<number[]> {
    this.queryCalls++;
    return this.embed(text);
  }
}

export function chunk(
  id: string,
  text: string,
  meta: { source?: string; title?: string; headings?: string[]; [key: string]: unknown } = {},
): Document {
  const source = meta.source ?? `docs/${id.split("#")[0]}.md`;
  return new Document({
    id,
    pageContent: text,
    metadata: { source, title: meta.title ?? "", headings: meta.headings ?? [], ...meta, id },
  });
}

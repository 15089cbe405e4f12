import type { Document } from "@langchain/core/documents";

export interface ChunkTextOptions {
  /**
   * Contextual chunk headers (default true): the chunk's title and heading path go before its
   * text, so a chunk deep inside a section still carries what the section is about. Off, the
   * encoder sees the chunk's text alone.
   */
  contextualHeaders?: boolean;
}

/**
 * The text that is embedded for a chunk: with contextual headers (the default), its title and
 * heading path first. Citations never show this text: they quote the chunk's own `pageContent`.
 */
export function embeddingText(doc: Document, options: ChunkTextOptions = {}): string {
  if (options.contextualHeaders === false) return doc.pageContent;
  const { title, headings } = doc.metadata as { title?: string; headings?: string[] };
  const context = [title, ...(Array.isArray(headings) ? headings : [])].filter(Boolean);
  const unique = context.filter((v, i) => context.indexOf(v) === i);
  return unique.length ? `${unique.join(" > ")}\n${doc.pageContent}` : doc.pageContent;
}

/**
 * The model id a store records for its vectors: chunks embedded without contextual headers
 * are other vectors than the same model's with them, so a store is built with one setting and
 * opening it with the other is a MODEL_MISMATCH (re-index into a new store to switch).
 */
export function storedModelId(modelId: string, options: ChunkTextOptions = {}): string {
  return options.contextualHeaders === false ? `${modelId}#no-headers` : modelId;
}

/** BM25 field weights without contextual headers: the title and heading fields count for nothing. */
export const BODY_ONLY_BOOSTS = { title: 0, headings: 0, body: 1 } as const;

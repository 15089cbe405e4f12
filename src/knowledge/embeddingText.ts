import type { Document } from "@langchain/core/documents";

/**
 * The text that is embedded for a chunk: its title and heading path first, so a
 * chunk deep inside a section still carries what the section is about.
 */
export function embeddingText(doc: Document): string {
  const { title, headings } = doc.metadata as { title?: string; headings?: string[] };
  const context = [title, ...(Array.isArray(headings) ? headings : [])].filter(Boolean);
  const unique = context.filter((v, i) => context.indexOf(v) === i);
  return unique.length ? `${unique.join(" > ")}\n${doc.pageContent}` : doc.pageContent;
}

import type { DocumentInterface } from "@langchain/core/documents";
import type { RunnableConfig } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { formatContext } from "../../../chains/createRagChain.js";
import { GeneraError } from "../../errors.js";
import type { KnowledgeBase } from "../../knowledge/KnowledgeBase.js";
import { type CitedSource, toCitedSource } from "../../llms/citedSource.js";
import { CitationRegistry } from "../CitationRegistry.js";

export type PassageRetriever = { invoke(query: string, config?: RunnableConfig): Promise<DocumentInterface[]> };

export interface SearchToolOptions {
  retriever: PassageRetriever;
  /** Passages returned per search (default 4). */
  k?: number;
}

/**
 * search_documents: numbered, cited passages as text for the model, and the same passages
 * as the message's artifact so runners can list sources without parsing text. Numbers come
 * from the run's CitationRegistry (in `config.configurable.citations`), so a second search
 * in the same run continues the numbering and the same passage keeps its number.
 */
export function createSearchTool(options: SearchToolOptions) {
  const k = options.k ?? 4;
  return tool(
    async ({ query }, config): Promise<[string, CitedSource[]]> => {
      if (query.trim() === "") throw new GeneraError("INVALID_INPUT", "search_documents needs a non-empty query");
      const docs = (await options.retriever.invoke(query, config)).slice(0, k);
      const registry = CitationRegistry.from(config) ?? new CitationRegistry();
      const sources = docs.map((doc, i) => registry.number(toCitedSource(doc, i + 1)));
      if (sources.length === 0) return [`No passage in the documents matches "${query}".`, []];
      return [formatContext(sources), sources];
    },
    {
      name: "search_documents",
      description:
        "Searches the indexed documents (keywords and meaning) and returns numbered passages with their source; cite them as [n].",
      schema: z.object({ query: z.string().describe("What to look for, in a few words") }),
      responseFormat: "content_and_artifact",
    },
  );
}

export interface ReadDocumentToolOptions {
  knowledgeBase: Pick<KnowledgeBase, "listSources" | "documentChunks">;
  /** The longest text returned (default 12,000 characters). */
  maxChars?: number;
}

/** The chunks of one indexed document in reading order. */
export async function documentChunks(
  kb: ReadDocumentToolOptions["knowledgeBase"],
  source: string,
): Promise<DocumentInterface[]> {
  const docs = await kb.documentChunks(source);
  const order = (d: DocumentInterface) => Number(d.metadata.chunkIndex ?? d.metadata.startChar ?? 0);
  return docs.sort((a, b) => order(a) - order(b));
}

/** The indexed source a model most likely means: exact, then by file name, then by a unique substring. */
function findSource(sources: string[], wanted: string): string | undefined {
  const w = wanted.trim().toLowerCase();
  const exact = sources.find((s) => s.toLowerCase() === w);
  if (exact) return exact;
  const byName = sources.filter(
    (s) =>
      s.toLowerCase().split("/").pop() === w ||
      s
        .toLowerCase()
        .replace(/\.[^.]+$/, "")
        .endsWith(w),
  );
  if (byName.length === 1) return byName[0];
  const partial = sources.filter((s) => s.toLowerCase().includes(w));
  return partial.length === 1 ? partial[0] : undefined;
}

export function createReadDocumentTool(options: ReadDocumentToolOptions) {
  const maxChars = options.maxChars ?? 12_000;
  return tool(
    async ({ id, section }) => {
      const sources = [...new Set((await options.knowledgeBase.listSources()).map((s) => s.source))];
      const source = findSource(sources, id);
      if (!source) {
        const known = sources.slice(0, 20).join(", ");
        throw new GeneraError("NOT_FOUND", `No indexed document "${id}". Known documents: ${known || "none"}`, {
          details: { id },
        });
      }
      let chunks = await documentChunks(options.knowledgeBase, source);
      if (section?.trim()) {
        const s = section.trim().toLowerCase();
        const inSection = chunks.filter((c) =>
          ((c.metadata.headings as string[] | undefined) ?? []).some((h) => h.toLowerCase().includes(s)),
        );
        if (inSection.length === 0) throw new GeneraError("NOT_FOUND", `${source} has no section "${section}"`);
        chunks = inSection;
      }
      const text = chunks.map((c) => c.pageContent.trim()).join("\n\n");
      const cut = text.length > maxChars ? `\n… (first ${maxChars} of ${text.length} characters)` : "";
      return `${source}${section ? ` › ${section}` : ""}:\n${text.slice(0, maxChars)}${cut}`;
    },
    {
      name: "read_document",
      description:
        "Returns the text of one indexed document (by its source path or file name), or of one section of it.",
      schema: z.object({
        id: z.string().describe("The document's source path or file name, as search_documents shows it"),
        section: z.string().optional().describe("A heading inside the document"),
      }),
    },
  );
}

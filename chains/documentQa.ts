import { Document, type DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { BasePromptTemplate } from "@langchain/core/prompts";
import { Runnable, type RunnableConfig } from "@langchain/core/runnables";
import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";
import { GeneraError } from "../src/errors.js";
import type { AnswerModel } from "./answerModel.js";
import { createRagChain, type RagOutput } from "./createRagChain.js";
import { InMemoryRetriever } from "./InMemoryRetriever.js";
import { DOCUMENT_QA_PROMPT } from "./prompts.js";

export interface DocumentQaInput {
  question: string;
  /** The document: its text, one Document, or its pages/chunks as Documents. */
  document: string | DocumentInterface | DocumentInterface[];
}

export interface DocumentQaChainOptions {
  /** The extractive answerer (default) or a generator. */
  llm?: AnswerModel;
  embeddings?: EmbeddingsInterface;
  prompt?: BasePromptTemplate;
  /** Passages the answer is drawn from (default 4). */
  k?: number;
  /** Characters per passage (default 800, overlap 100). */
  chunkSize?: number;
  chunkOverlap?: number;
}

/**
 * Questions about one document that is not (necessarily) indexed: the document is split
 * into passages, the passages are ranked in memory (InMemoryRetriever), and the RAG chain
 * answers with `[n]` citations into those passages. Output as createRagChain.
 */
export class DocumentQaChain extends Runnable<DocumentQaInput, RagOutput> {
  static override lc_name(): string {
    return "DocumentQaChain";
  }

  lc_namespace = ["genera", "chains"];

  constructor(readonly options: DocumentQaChainOptions = {}) {
    super();
  }

  private async passages(document: DocumentQaInput["document"]): Promise<DocumentInterface[]> {
    const docs: DocumentInterface[] =
      typeof document === "string"
        ? [new Document({ pageContent: document, metadata: { source: "document" } })]
        : Array.isArray(document)
          ? document
          : document && typeof (document as DocumentInterface).pageContent === "string"
            ? [document as DocumentInterface]
            : [];
    if (docs.length === 0 || docs.every((d) => d.pageContent.trim() === "")) {
      throw new GeneraError("INVALID_INPUT", "Document QA needs a non-empty `document` (text or Documents)");
    }
    const splitter = new RecursiveCharacterTextSplitter({
      chunkSize: this.options.chunkSize ?? 800,
      chunkOverlap: this.options.chunkOverlap ?? 100,
    });
    const chunks = await splitter.splitDocuments(docs as Document[]);
    return chunks.map(
      (c, i) =>
        new Document({
          pageContent: c.pageContent,
          metadata: {
            source: "document",
            headings: [],
            ...c.metadata,
            id: `${c.metadata?.source ?? "document"}#${i}`,
          },
        }),
    );
  }

  /** A RAG chain over the passages of this one document. */
  private async ragChainFor(document: DocumentQaInput["document"]) {
    const retriever = new InMemoryRetriever({
      documents: await this.passages(document),
      embeddings: this.options.embeddings,
      k: this.options.k ?? 4,
    });
    return createRagChain({
      retriever,
      llm: this.options.llm,
      embeddings: this.options.embeddings,
      prompt: this.options.prompt ?? DOCUMENT_QA_PROMPT,
    });
  }

  override async invoke(input: DocumentQaInput, options?: Partial<RunnableConfig>): Promise<RagOutput> {
    const chain = await this.ragChainFor(input?.document);
    return chain.invoke({ question: input.question }, options);
  }

  override async *_streamIterator(
    input: DocumentQaInput,
    options?: Partial<RunnableConfig>,
  ): AsyncGenerator<RagOutput> {
    const chain = await this.ragChainFor(input?.document);
    yield* await chain.stream({ question: input.question }, options);
  }
}

export function createDocumentQaChain(options: DocumentQaChainOptions = {}): DocumentQaChain {
  return new DocumentQaChain(options);
}

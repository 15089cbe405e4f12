import type { DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import { HumanMessage } from "@langchain/core/messages";
import type { BasePromptValueInterface } from "@langchain/core/prompt_values";
import type { BasePromptTemplate } from "@langchain/core/prompts";
import type { RunnableConfig, RunnableInterface } from "@langchain/core/runnables";
import { GeneraError } from "../src/errors.js";
import { type CitedSource, citedNumbers, toCitedSource } from "../src/llms/citedSource.js";
import { type CorpusStatistics, ExtractiveAnswerer, NO_ANSWER_TEXT } from "../src/llms/ExtractiveAnswerer.js";
import { formatContext } from "../src/llms/numberedPassages.js";
import type { KeywordIndex } from "../vectorstores/KeywordIndex.js";
import { type AnswerModel, outputText, type ResolvedModel, resolveAnswerModel } from "./answerModel.js";
import { RAG_PROMPT } from "./prompts.js";
import { SingleInputChain } from "./SingleInputChain.js";

/** The prompt's numbered passages (defined beside their parser in src/llms). */
export { formatContext };

/**
 * A question, or `{ question, images }`: `images` are image URLs (inline `data:image/…` URLs
 * from the server) shown to a vision-capable chat model with the question, as LangChain
 * multimodal content (`image_url` parts).
 */
export type RagInput = string | { question: string; images?: string[] };

export interface RagOutput {
  /** The answer, with `[n]` markers that refer to `sources[].index`. */
  answer: string;
  /**
   * Extractive answerer: the quoted chunks, numbered 1.. by first use. Generator: the
   * passages the answer cites (numbered as they were in the prompt), or every passage
   * when it cites none.
   */
  sources: CitedSource[];
  /** The question actually used for retrieval, when a chain rewrote it (conversational RAG). */
  standaloneQuestion?: string;
}

/**
 * What `.stream()` yields, in this order:
 * 1. `{ standaloneQuestion }` (conversational chain only, when the question was rewritten);
 * 2. `{ sources }` once — for the extractive answerer the cited chunks, for a generator
 *    every passage in the prompt (the answer's `[n]` refer to these numbers);
 * 3. `{ answer }` pieces (words for the extractive answerer, tokens for a generator).
 * LangChain's `concat` of the chunks gives an object of the RagOutput shape.
 */
export type RagChunk = Partial<RagOutput>;

/** A retriever (or any runnable) from a query string to documents, best first. */
export type DocumentRetriever = RunnableInterface<string, DocumentInterface[]>;

export interface RagChainOptions {
  retriever: DocumentRetriever;
  /** The extractive answerer (default), or any LangChain chat model / LLM (e.g. what createChatModel returns). */
  llm?: AnswerModel;
  /** Prompt for generators, with input variables `context` and `question` (default RAG_PROMPT). */
  prompt?: BasePromptTemplate;
  /** At most this many retrieved passages are used (default: all the retriever returns). */
  k?: number;
  /** Embeddings for the default extractive answerer's dense score. */
  embeddings?: EmbeddingsInterface;
}

/**
 * The prompt's passages: each retrieved chunk, or the wider text around it when the retriever
 * gave one (`metadata.context`, small-to-big), so a name and its definition stay together;
 * `sources` still show the chunk itself.
 */
function promptContext(passages: CitedSource[], documents: DocumentInterface[]): string {
  return formatContext(
    passages.map((p, i) => {
      const context = documents[i]?.metadata?.context;
      return typeof context === "string" && context.trim() !== "" ? { ...p, text: context } : p;
    }),
  );
}

export function questionOf(input: unknown, chain: string): string {
  const question =
    typeof input === "string"
      ? input
      : typeof input === "object" && input !== null && typeof (input as { question?: unknown }).question === "string"
        ? (input as { question: string }).question
        : undefined;
  if (question === undefined || question.trim() === "") {
    throw new GeneraError("INVALID_INPUT", `${chain} needs a non-empty question (a string or { question })`);
  }
  return question.trim();
}

/**
 * Retrieval-augmented QA with numbered citations. With the extractive answerer it quotes
 * the best sentences; with a generator it numbers the passages in the prompt and asks for
 * `[n]` citations, then keeps the cited passages as `sources` (all of them if none is cited).
 */
export class RagChain<I extends RagInput = RagInput> extends SingleInputChain<I, RagOutput> {
  static override lc_name(): string {
    return "RagChain";
  }

  lc_namespace = ["genera", "chains"];

  readonly retriever: DocumentRetriever;
  readonly model: ResolvedModel;
  readonly prompt: BasePromptTemplate;
  readonly k?: number;

  constructor(options: RagChainOptions) {
    super();
    if (!options?.retriever || typeof options.retriever.invoke !== "function") {
      throw new GeneraError("INVALID_INPUT", "createRagChain needs a `retriever` (a LangChain retriever or runnable)");
    }
    if (options.k !== undefined && (!Number.isInteger(options.k) || options.k < 1)) {
      throw new GeneraError("INVALID_INPUT", `createRagChain option k=${options.k} must be a positive integer`);
    }
    this.retriever = options.retriever;
    this.model = resolveAnswerModel(options.llm, () => new ExtractiveAnswerer({ embeddings: options.embeddings }));
    this.prompt = options.prompt ?? RAG_PROMPT;
    this.k = options.k;
  }

  /** The question to answer and the query to retrieve with; subclasses rewrite follow-ups here. */
  protected async prepare(
    input: I,
    _config: RunnableConfig,
  ): Promise<{ question: string; query: string; standaloneQuestion?: string }> {
    const question = questionOf(input, "The RAG chain");
    return { question, query: question };
  }

  protected async retrieve(query: string, config: RunnableConfig): Promise<DocumentInterface[]> {
    const docs = await this.retriever.invoke(query, config);
    if (!Array.isArray(docs)) {
      throw new GeneraError("INTERNAL", "The retriever returned something other than an array of documents");
    }
    return this.k === undefined ? docs : docs.slice(0, this.k);
  }

  protected async run(input: I, config: RunnableConfig): Promise<RagOutput> {
    const images = this.imagesOf(input);
    const { question, query, standaloneQuestion } = await this.prepare(input, config);
    const documents = await this.retrieve(query, config);
    const extra = standaloneQuestion !== undefined ? { standaloneQuestion } : {};
    if (this.model.kind === "extractive") {
      const result = await this.model.answerer.invoke({ question, documents, corpus: this.corpus() }, config);
      return { answer: result.answer, sources: result.sources, ...extra };
    }
    const passages = documents.map((doc, i) => toCitedSource(doc, i + 1));
    if (passages.length === 0) return { answer: NO_ANSWER_TEXT, sources: [], ...extra };
    const promptValue = await this.prompt.invoke({ context: promptContext(passages, documents), question }, config);
    let answer: string;
    try {
      answer = outputText(await this.model.model.invoke(withImages(promptValue, images), config)).trim();
    } catch (error) {
      throw imagesRefused(error, images);
    }
    return { answer, sources: citedPassages(answer, passages), ...extra };
  }

  /**
   * The images that come with the question; only a generator can be shown them. The extractive
   * answerer quotes text, so images for it are INVALID_INPUT (a caller turns them into their
   * caption and OCR text first, as the server does for text-only models).
   */
  protected imagesOf(input: I): string[] {
    const images = typeof input === "object" && input !== null ? (input as { images?: unknown }).images : undefined;
    if (images === undefined || (Array.isArray(images) && images.length === 0)) return [];
    if (!Array.isArray(images) || !images.every((url) => typeof url === "string" && url !== "")) {
      throw new GeneraError("INVALID_INPUT", "images must be an array of image URLs (data:image/…;base64,…)");
    }
    if (this.model.kind === "extractive") {
      throw new GeneraError(
        "INVALID_INPUT",
        "The extractive answerer reads text only and cannot look at images: send their text instead, or configure a vision-capable chat model (llm.vision with the openai or ollama provider)",
      );
    }
    return images;
  }

  /** The corpus statistics of the retriever's keyword index (HybridRetriever), for the extractive answerer. */
  protected corpus(): CorpusStatistics | undefined {
    const index = (this.retriever as { keywordIndex?: Partial<KeywordIndex> }).keywordIndex;
    if (typeof index?.wordFrequency !== "function" || typeof index.size !== "number") return undefined;
    return { documentCount: index.size, documentFrequency: (word) => index.wordFrequency!(word) };
  }

  override _concatOutputChunks<O>(first: O, second: O): O {
    const a = first as RagChunk;
    const b = second as RagChunk;
    const out: RagChunk = { ...a, ...b, answer: (a.answer ?? "") + (b.answer ?? "") };
    if (a.sources || b.sources) out.sources = [...(a.sources ?? []), ...(b.sources ?? [])];
    return out as O;
  }

  // Chunks are partial by contract (RagChunk); the casts only satisfy Runnable's output typing.
  protected async *streamOutput(input: I, config: RunnableConfig): AsyncGenerator<RagOutput> {
    const images = this.imagesOf(input);
    const { question, query, standaloneQuestion } = await this.prepare(input, config);
    if (standaloneQuestion !== undefined) yield { standaloneQuestion } as RagOutput;
    const documents = await this.retrieve(query, config);
    if (this.model.kind === "extractive") {
      for await (const chunk of await this.model.answerer.stream(
        { question, documents, corpus: this.corpus() },
        config,
      )) {
        if (chunk.sources) yield { sources: chunk.sources } as RagOutput;
        if (chunk.answer) yield { answer: chunk.answer } as RagOutput;
      }
      return;
    }
    const passages = documents.map((doc, i) => toCitedSource(doc, i + 1));
    yield { sources: passages } as RagOutput;
    if (passages.length === 0) {
      yield { answer: NO_ANSWER_TEXT } as RagOutput;
      return;
    }
    const promptValue = await this.prompt.invoke({ context: promptContext(passages, documents), question }, config);
    try {
      for await (const chunk of await this.model.model.stream(withImages(promptValue, images), config)) {
        const text = outputText(chunk);
        if (text !== "") yield { answer: text } as RagOutput;
      }
    } catch (error) {
      throw imagesRefused(error, images);
    }
  }
}

/**
 * The prompt with the images added to its last human message as LangChain multimodal content
 * (`image_url` parts after the text), which ChatOpenAI and ChatOllama hand to the model.
 */
export function withImages(promptValue: BasePromptValueInterface, images: string[]): BaseLanguageModelInput {
  if (images.length === 0) return promptValue;
  const messages = promptValue.toChatMessages();
  const last = messages.findLastIndex((m) => m.getType() === "human");
  const text = last >= 0 ? outputText(messages[last]) : "";
  const content = [{ type: "text", text }, ...images.map((url) => ({ type: "image_url", image_url: { url } }))];
  if (last >= 0) messages[last] = new HumanMessage({ content });
  else messages.push(new HumanMessage({ content }));
  return messages;
}

/**
 * A model server that answers a request with images with a 4xx (a text-only model behind a
 * vision setting) becomes INVALID_INPUT saying so, instead of an internal error.
 */
function imagesRefused(error: unknown, images: string[]): unknown {
  const status =
    (error as { status?: unknown; status_code?: unknown })?.status ?? (error as { status_code?: unknown })?.status_code;
  if (images.length === 0 || typeof status !== "number" || status < 400 || status >= 500) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new GeneraError(
    "INVALID_INPUT",
    `The chat model refused the ${images.length === 1 ? "image" : `${images.length} images`} (${reason}); it may not read images: set llm.vision to false to send their caption and OCR text instead`,
    { cause: error, details: { status } },
  );
}

/** The passages an answer cites (in citation-number order), or all of them when it cites none. */
export function citedPassages(answer: string, passages: CitedSource[]): CitedSource[] {
  const cited = new Set(citedNumbers(answer).filter((n) => n >= 1 && n <= passages.length));
  if (cited.size === 0) return passages;
  return passages.filter((p) => cited.has(p.index));
}

/**
 * Question answering over a retriever with numbered citations; see RagChain.
 * `invoke("question")` or `invoke({ question })` → `{ answer, sources }`; `.stream()` yields RagChunk.
 */
export function createRagChain(options: RagChainOptions): RagChain {
  return new RagChain(options);
}

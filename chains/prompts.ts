import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { SemanticSimilarityExampleSelector } from "@langchain/core/example_selectors";
import {
  ChatPromptTemplate,
  FewShotPromptTemplate,
  MessagesPlaceholder,
  PromptTemplate,
} from "@langchain/core/prompts";
import type { VectorStoreInterface } from "@langchain/core/vectorstores";
import { GeneraError } from "../src/errors.js";

/**
 * Answer from numbered passages with `[n]` citations.
 * Input variables: `context` (passages formatted as "[n] (source) text", see formatContext),
 * `question`.
 */
export const RAG_PROMPT = ChatPromptTemplate.fromMessages([
  [
    "system",
    "You answer questions using only the numbered passages below. Cite the passages you use with their " +
      "numbers in square brackets, like [1] or [2][3], right after the statement they support. If the passages " +
      "do not contain the answer, say that the documents do not answer the question. Do not invent facts.\n\n" +
      "Passages:\n{context}",
  ],
  ["human", "{question}"],
]);

/**
 * Rewrite a follow-up into a question that stands on its own.
 * Input variables: `chat_history` (transcript text, "User: …\nAssistant: …"), `question`.
 */
export const CONDENSE_QUESTION_PROMPT = PromptTemplate.fromTemplate(
  "Given the conversation below and a follow-up question, rewrite the follow-up as a standalone question " +
    "that can be understood without the conversation. Keep names, numbers and terms exactly. " +
    "Reply with the question only.\n\nConversation:\n{chat_history}\n\nFollow-up question: {question}\n\nStandalone question:",
);

/**
 * Think step by step, then give the answer on a line starting with "Answer:".
 * Input variables: `question`, `context` (may be empty).
 */
export const CHAIN_OF_THOUGHT_PROMPT = ChatPromptTemplate.fromMessages([
  [
    "system",
    "Reason step by step before answering. Write your reasoning as short numbered steps, then give the final " +
      'answer on its own line starting with "Answer:". Use the context when it is relevant.\n\nContext:\n{context}',
  ],
  ["human", "{question}"],
]);

/**
 * A role (persona) as the system message, then the conversation so far, then the user's turn.
 * Input variables: `role` (e.g. "a patient tutor of physics"), `history` (BaseMessage[], may be
 * empty), `input`.
 */
export const ROLE_PROMPT = ChatPromptTemplate.fromMessages([
  ["system", "You are {role}. Stay in this role. Be accurate and concise; say so when you do not know."],
  new MessagesPlaceholder({ variableName: "history", optional: true }),
  ["human", "{input}"],
]);

/**
 * Summarise a text that fits the model's context in one call ("stuff").
 * Input variables: `text`.
 */
export const SUMMARIZE_STUFF_PROMPT = PromptTemplate.fromTemplate(
  "Write a concise summary of the text below. Keep the key facts, names and numbers; do not add anything " +
    "that is not in the text.\n\nText:\n{text}\n\nSummary:",
);

/**
 * The map step of map-reduce summarisation: one part of a long text.
 * Input variables: `text`.
 */
export const SUMMARIZE_MAP_PROMPT = PromptTemplate.fromTemplate(
  "Summarise this part of a longer document in a few sentences. Keep key facts, names and numbers.\n\n" +
    "Part:\n{text}\n\nSummary of this part:",
);

/**
 * The reduce step: merge partial summaries into one.
 * Input variables: `summaries` (the partial summaries, separated by blank lines).
 */
export const SUMMARIZE_REDUCE_PROMPT = PromptTemplate.fromTemplate(
  "Below are summaries of consecutive parts of one document. Combine them into a single coherent, concise " +
    "summary without repeating yourself and without adding facts.\n\nPart summaries:\n{summaries}\n\nSummary:",
);

/**
 * Translate, preserving formatting (Markdown, line breaks, code).
 * Input variables: `text`, `source_language` (a name, or "the source language" when unknown),
 * `target_language`.
 */
export const TRANSLATE_PROMPT = ChatPromptTemplate.fromMessages([
  [
    "system",
    "You are a professional translator. Translate the user's text from {source_language} into " +
      "{target_language}. Preserve meaning, tone, formatting, Markdown, line breaks, numbers, names and code. " +
      "Reply with the translation only.",
  ],
  ["human", "{text}"],
]);

/**
 * Answer about one document (single-document QA; the passages come from that document).
 * Input variables: `context`, `question`.
 */
export const DOCUMENT_QA_PROMPT = ChatPromptTemplate.fromMessages([
  [
    "system",
    "You answer questions about one document, using only the numbered excerpts from it below. Cite the " +
      "excerpts you use as [n]. If the excerpts do not contain the answer, say so.\n\nExcerpts:\n{context}",
  ],
  ["human", "{question}"],
]);

/** One worked example for a few-shot prompt: the values of its input and output keys. */
export type FewShotExample = Record<string, string>;

export interface FewShotPromptOptions {
  examples: FewShotExample[];
  /** The embeddings the store was built with (used to embed the examples). */
  embeddings: EmbeddingsInterface;
  /**
   * An empty vector store to hold the examples — e.g. `new MemoryVectorStore(embeddings)` or
   * genera's HNSW store; passed in so prompts never load an index implementation themselves.
   */
  vectorStore: VectorStoreInterface;
  /** Examples selected per call (default 2). */
  k?: number;
  /** Keys of an example that are matched against the input (default: `[inputVariable]`). */
  inputKeys?: string[];
  /** Name of the variable the user's input arrives in (default "input"). */
  inputVariable?: string;
  /** How one example is shown (default "Input: {input}\nOutput: {output}"). */
  examplePrompt?: PromptTemplate;
  prefix?: string;
  suffix?: string;
}

/**
 * A few-shot prompt whose examples are chosen per call by semantic similarity to the
 * input (`SemanticSimilarityExampleSelector` over the given store).
 * Input variables: `input` (or `inputVariable`).
 */
export async function createFewShotPrompt(options: FewShotPromptOptions): Promise<FewShotPromptTemplate> {
  const inputVariable = options.inputVariable ?? "input";
  if (!Array.isArray(options.examples) || options.examples.length === 0) {
    throw new GeneraError("INVALID_INPUT", "createFewShotPrompt needs at least one example");
  }
  const inputKeys = options.inputKeys ?? [inputVariable];
  for (const [i, example] of options.examples.entries()) {
    for (const key of inputKeys) {
      if (typeof example[key] !== "string") {
        throw new GeneraError("INVALID_INPUT", `Few-shot example ${i} has no string "${key}"`);
      }
    }
  }
  const selector = new SemanticSimilarityExampleSelector({
    vectorStore: options.vectorStore,
    k: options.k ?? 2,
    inputKeys,
  });
  for (const example of options.examples) await selector.addExample(example);
  return new FewShotPromptTemplate({
    exampleSelector: selector,
    examplePrompt: options.examplePrompt ?? PromptTemplate.fromTemplate("Input: {input}\nOutput: {output}"),
    prefix: options.prefix ?? "Follow the pattern of these examples.",
    suffix: options.suffix ?? `Input: {${inputVariable}}\nOutput:`,
    inputVariables: [inputVariable],
    exampleSeparator: "\n\n",
  });
}

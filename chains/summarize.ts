import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { DocumentInterface } from "@langchain/core/documents";
import type { BasePromptTemplate } from "@langchain/core/prompts";
import type { RunnableConfig } from "@langchain/core/runnables";
import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";
import { GeneraError } from "../src/errors.js";
import { type AnswerModel, type GeneratorModel, outputText, requireGenerator } from "./answerModel.js";
import type { DocumentRetriever } from "./createRagChain.js";
import { SUMMARIZE_MAP_PROMPT, SUMMARIZE_REDUCE_PROMPT, SUMMARIZE_STUFF_PROMPT } from "./prompts.js";
import { SingleInputChain } from "./SingleInputChain.js";

/** A text, `{ text }`, or documents (their texts are joined in order). */
export type SummarizeInput = string | { text: string } | DocumentInterface[];

export interface SummarizeChainOptions {
  /** A generator; the extractive answerer cannot summarise (NO_GENERATOR). */
  llm: AnswerModel | undefined;
  /** Texts up to this many characters are summarised in one call ("stuff"); longer ones map-reduce (default 6000). */
  chunkSize?: number;
  chunkOverlap?: number;
  /** Parallel map calls (default 2). */
  maxConcurrency?: number;
  stuffPrompt?: BasePromptTemplate;
  mapPrompt?: BasePromptTemplate;
  reducePrompt?: BasePromptTemplate;
}

function inputText(input: SummarizeInput): string {
  if (typeof input === "string") return input;
  if (Array.isArray(input)) return input.map((d) => d?.pageContent ?? "").join("\n\n");
  if (input && typeof (input as { text?: unknown }).text === "string") return (input as { text: string }).text;
  throw new GeneraError("INVALID_INPUT", "Summarisation needs a string, { text } or an array of documents");
}

/**
 * Summarisation as a Runnable (invoke / batch / stream → summary text).
 * - "stuff": a text that fits `chunkSize` goes to the model in one call.
 * - "map-reduce": a longer text is split (RecursiveCharacterTextSplitter), each part is
 *   summarised (map, `maxConcurrency` at a time), part summaries are merged group by group
 *   until they fit `chunkSize`, and a last reduce call writes the summary. Only that last
 *   call is streamed.
 */
export class SummarizeChain extends SingleInputChain<SummarizeInput, string> {
  static override lc_name(): string {
    return "SummarizeChain";
  }

  lc_namespace = ["genera", "chains"];

  readonly model: GeneratorModel;
  readonly chunkSize: number;
  readonly chunkOverlap: number;
  readonly maxConcurrency: number;
  readonly stuffPrompt: BasePromptTemplate;
  readonly mapPrompt: BasePromptTemplate;
  readonly reducePrompt: BasePromptTemplate;

  constructor(options: SummarizeChainOptions) {
    super();
    this.model = requireGenerator(options?.llm, "Summarisation");
    this.chunkSize = options.chunkSize ?? 6000;
    this.chunkOverlap = options.chunkOverlap ?? 200;
    this.maxConcurrency = options.maxConcurrency ?? 2;
    if (!Number.isInteger(this.chunkSize) || this.chunkSize < 200) {
      throw new GeneraError("INVALID_INPUT", `Summarisation chunkSize=${this.chunkSize} must be an integer ≥ 200`);
    }
    if (this.chunkOverlap < 0 || this.chunkOverlap >= this.chunkSize / 2) {
      throw new GeneraError(
        "INVALID_INPUT",
        `Summarisation chunkOverlap=${this.chunkOverlap} must be in [0, chunkSize/2)`,
      );
    }
    this.stuffPrompt = options.stuffPrompt ?? SUMMARIZE_STUFF_PROMPT;
    this.mapPrompt = options.mapPrompt ?? SUMMARIZE_MAP_PROMPT;
    this.reducePrompt = options.reducePrompt ?? SUMMARIZE_REDUCE_PROMPT;
  }

  protected async run(input: SummarizeInput, config: RunnableConfig): Promise<string> {
    const { prompt, values } = await this.plan(inputText(input), config);
    return this.call(prompt, values, config);
  }

  protected async *streamOutput(input: SummarizeInput, config: RunnableConfig): AsyncGenerator<string> {
    const { prompt, values } = await this.plan(inputText(input), config);
    const promptValue = await prompt.invoke(values, config);
    for await (const chunk of await this.model.stream(promptValue, config)) {
      const text = outputText(chunk);
      if (text !== "") yield text;
    }
  }

  /** Runs everything but the final call and returns that call's prompt and values. */
  private async plan(
    text: string,
    config: RunnableConfig,
  ): Promise<{ prompt: BasePromptTemplate; values: Record<string, string> }> {
    const clean = text.trim();
    if (clean === "") throw new GeneraError("INVALID_INPUT", "There is no text to summarise (the input is empty)");
    if (clean.length <= this.chunkSize) return { prompt: this.stuffPrompt, values: { text: clean } };

    const splitter = new RecursiveCharacterTextSplitter({ chunkSize: this.chunkSize, chunkOverlap: this.chunkOverlap });
    const parts = await splitter.splitText(clean);
    let summaries = await this.mapAll(parts, this.mapPrompt, "text", config);
    // Collapse until the part summaries fit one reduce call.
    while (summaries.join("\n\n").length > this.chunkSize) {
      const groups = groupByLength(summaries, this.chunkSize);
      if (groups.length >= summaries.length) break; // every summary alone is too long: stop shrinking
      summaries = await this.mapAll(
        groups.map((g) => g.join("\n\n")),
        this.reducePrompt,
        "summaries",
        config,
      );
    }
    return { prompt: this.reducePrompt, values: { summaries: summaries.join("\n\n") } };
  }

  private async mapAll(
    texts: string[],
    prompt: BasePromptTemplate,
    variable: string,
    config: RunnableConfig,
  ): Promise<string[]> {
    const out: string[] = new Array(texts.length);
    let next = 0;
    const worker = async () => {
      while (next < texts.length) {
        const i = next++;
        out[i] = (await this.call(prompt, { [variable]: texts[i] as string }, config)).trim();
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxConcurrency, texts.length) }, worker));
    return out;
  }

  private async call(prompt: BasePromptTemplate, values: Record<string, string>, config: RunnableConfig) {
    const promptValue = await prompt.invoke(values, config);
    return outputText(await this.model.invoke(promptValue, config)).trim();
  }
}

function groupByLength(texts: string[], limit: number): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const t of texts) {
    if (current.length > 0 && length + t.length + 2 > limit) {
      groups.push(current);
      current = [];
      length = 0;
    }
    current.push(t);
    length += t.length + 2;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

export function createSummarizeChain(options: SummarizeChainOptions): SummarizeChain {
  return new SummarizeChain(options);
}

export type SummarizeOptions = SummarizeChainOptions;

/** Summary of documents (joined in order). */
export async function summarizeDocuments(docs: DocumentInterface[], options: SummarizeOptions): Promise<string> {
  return createSummarizeChain(options).invoke(docs);
}

/** Summary of one file, loaded with genera's loaders (any supported format). */
export async function summarizeFile(path: string, options: SummarizeOptions): Promise<string> {
  const chain = createSummarizeChain(options);
  const docs = await loadPath(path);
  return chain.invoke(docs);
}

/** Documents of a file or of every supported file under a folder (loaders imported lazily). */
export async function loadPath(path: string): Promise<DocumentInterface[]> {
  const abs = resolve(path);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(abs).isDirectory();
  } catch (error) {
    throw new GeneraError("NOT_FOUND", `${abs} does not exist`, { cause: error, details: { path: abs } });
  }
  if (!isDirectory) {
    const { loadFile } = await import("../loaders/loadFile.js");
    return loadFile(abs);
  }
  const { DirectoryLoader } = await import("../loaders/DirectoryLoader.js");
  const loader = new DirectoryLoader(abs);
  const docs = await loader.load();
  if (docs.length === 0) {
    const failed = loader.failures.map((f) => `${f.path}: ${f.reason}`).join("; ");
    throw new GeneraError("INVALID_INPUT", `No readable text under ${abs}${failed ? ` (${failed})` : ""}`, {
      details: { path: abs },
    });
  }
  return docs;
}

/** Summary of a folder: every supported file, in walk order. */
export async function summarizeFolder(path: string, options: SummarizeOptions): Promise<string> {
  return summarizeFile(path, options);
}

/** Summary of what a retriever finds for a query (e.g. "everything about the funding"). */
export async function summarizeQueryResults(
  retriever: DocumentRetriever,
  query: string,
  options: SummarizeOptions,
): Promise<string> {
  const chain = createSummarizeChain(options);
  const docs = await retriever.invoke(query);
  if (docs.length === 0) throw new GeneraError("NOT_FOUND", `Nothing in the index matches "${query}"`);
  return chain.invoke(docs);
}

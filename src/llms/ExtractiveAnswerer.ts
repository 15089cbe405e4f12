import type { DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { Runnable, type RunnableConfig } from "@langchain/core/runnables";
import { GeneraError } from "../errors.js";
import { type CitedSource, toCitedSource } from "./citedSource.js";
import { contentTerms, cosineSimilarity, sentencesUnderHeadings, wordTokens } from "./textUnits.js";

/** The fixed sentence returned when no retrieved sentence is relevant enough. */
export const NO_ANSWER_TEXT = "The indexed documents do not answer this question.";

export interface ExtractiveAnswererInput {
  question: string;
  /** Retrieved chunks, best first (their order is the retrieval rank). */
  documents: DocumentInterface[];
}

/** One quoted sentence of the answer and the source it came from. */
export interface Citation {
  /** The number in the `[n]` marker, i.e. the `index` of a `sources` entry. */
  index: number;
  sentence: string;
  /** The combined score (see ExtractiveAnswerer) the sentence was chosen with. */
  score: number;
}

export interface ExtractiveAnswer {
  /** Quoted sentences, each followed by ` [n]`, or NO_ANSWER_TEXT. */
  answer: string;
  /** Cited chunks numbered 1.. in order of first use; empty when there is no answer. */
  sources: CitedSource[];
  citations: Citation[];
}

/**
 * What `.stream()` yields: the first chunk carries `sources` and `citations`, the
 * following chunks carry `answer` text one word at a time. LangChain's `concat` of all
 * chunks equals the `invoke` result.
 */
export type ExtractiveAnswerChunk = Partial<ExtractiveAnswer>;

export interface ExtractiveAnswererOptions {
  /** Sentence embeddings for the dense part of the score; without them the score is lexical only. */
  embeddings?: EmbeddingsInterface;
  /** A sentence must score at least this to be quoted (default 0.25). */
  minScore?: number;
  /** At most this many sentences in an answer (default 3). */
  maxSentences?: number;
  /** Sentences this similar (cosine, or token Jaccard without embeddings) to a chosen one are skipped (default 0.9). */
  redundancyThreshold?: number;
  /** Sentences after the first must reach this fraction of the best score (default 0.7). */
  relativeCutoff?: number;
  /** Weight of embedding similarity; the lexical weight is 1 − dense (default 0.6). */
  denseWeight?: number;
  /** How much a chunk that matches the question lifts its sentences (default 0.5). */
  contextWeight?: number;
  /** How fast the retrieval rank discounts a sentence (default 0.1). */
  rankDecay?: number;
  /** Sentences with fewer words are not answers (headings, fragments; default 4). */
  minWords?: number;
  /** Only this many sentences (best lexical pre-score) are embedded per question (default 48). */
  maxCandidates?: number;
}

interface Candidate {
  sentence: string;
  docIndex: number;
  terms: Set<string>;
  lexical: number;
  context: number;
  dense: number;
  score: number;
  vector?: number[];
}

/**
 * The default "model" when no generator is configured: it answers by quoting the
 * retrieved chunks, so it can be wrong but never invents text.
 *
 * Scoring, for each sentence s of the chunk at retrieval rank r (0 = best) and question q:
 *
 *     relevance(s) = w · max(0, cos(E(q), E(s))) + (1 − w) · lexical(q, s)
 *     lexical(q, s) = Σ_{t ∈ T(q) ∩ T(s)} idf(t) / Σ_{t ∈ T(q)} idf(t)
 *     context(s)   = lexical(q, chunk of s, with its title and headings)
 *     score(s)     = relevance(s) · [(1 + c · context(s)) / (1 + c)] / (1 + rankDecay · r),   c = contextWeight
 *
 * where T(·) are stemmed content terms (stopwords removed), idf(t) = ln(1 + N / (1 + df(t)))
 * over the N candidate sentences, and w = denseWeight (0.6; 0 without embeddings). The context
 * factor prefers a sentence whose chunk is about the question ("It has 3.7 million
 * inhabitants" in the Berlin chunk, not in the Paris one); the rank factor breaks near-ties in
 * favour of the retriever's better chunks. Both factors are at most 1, so scores stay in
 * [0, 1] and neither can lift an irrelevant sentence over `minScore`. The best sentence must reach `minScore`; up to
 * `maxSentences` more are added while they reach `relativeCutoff` × best and are not
 * redundant with a chosen one.
 */
export class ExtractiveAnswerer extends Runnable<ExtractiveAnswererInput, ExtractiveAnswer> {
  static override lc_name(): string {
    return "ExtractiveAnswerer";
  }

  lc_namespace = ["genera", "llms", "extractive"];

  /** Lets chains and the provider factory tell the answerer from a generative model. */
  readonly kind = "extractive" as const;

  readonly embeddings?: EmbeddingsInterface;
  readonly minScore: number;
  readonly maxSentences: number;
  readonly redundancyThreshold: number;
  readonly relativeCutoff: number;
  readonly denseWeight: number;
  readonly rankDecay: number;
  readonly contextWeight: number;
  readonly minWords: number;
  readonly maxCandidates: number;

  constructor(options: ExtractiveAnswererOptions = {}) {
    super();
    this.embeddings = options.embeddings;
    this.minScore = options.minScore ?? 0.25;
    this.maxSentences = options.maxSentences ?? 3;
    this.redundancyThreshold = options.redundancyThreshold ?? 0.9;
    this.relativeCutoff = options.relativeCutoff ?? 0.7;
    this.denseWeight = options.embeddings ? (options.denseWeight ?? 0.6) : 0;
    this.rankDecay = options.rankDecay ?? 0.1;
    this.contextWeight = options.contextWeight ?? 0.5;
    this.minWords = options.minWords ?? 4;
    this.maxCandidates = options.maxCandidates ?? 48;
    for (const [name, value] of Object.entries({
      minScore: this.minScore,
      redundancyThreshold: this.redundancyThreshold,
      relativeCutoff: this.relativeCutoff,
      denseWeight: this.denseWeight,
    })) {
      if (!Number.isFinite(value) || value < 0 || value > 1) {
        throw new GeneraError("INVALID_INPUT", `ExtractiveAnswerer option ${name}=${value} must be between 0 and 1`);
      }
    }
    if (!Number.isInteger(this.maxSentences) || this.maxSentences < 1) {
      throw new GeneraError("INVALID_INPUT", `ExtractiveAnswerer option maxSentences=${this.maxSentences} must be ≥ 1`);
    }
  }

  override async invoke(input: ExtractiveAnswererInput, options?: Partial<RunnableConfig>): Promise<ExtractiveAnswer> {
    return this._callWithConfig((i: ExtractiveAnswererInput) => this.answer(i), input, options);
  }

  override async *_streamIterator(
    input: ExtractiveAnswererInput,
    options?: Partial<RunnableConfig>,
  ): AsyncGenerator<ExtractiveAnswer> {
    async function* once() {
      yield input;
    }
    yield* this._transformStreamWithConfig(once(), (inputs) => this.streamAnswer(inputs), options);
  }

  override _concatOutputChunks<O>(first: O, second: O): O {
    const a = first as ExtractiveAnswerChunk;
    const b = second as ExtractiveAnswerChunk;
    return {
      answer: (a.answer ?? "") + (b.answer ?? ""),
      sources: [...(a.sources ?? []), ...(b.sources ?? [])],
      citations: [...(a.citations ?? []), ...(b.citations ?? [])],
    } as O;
  }

  private async *streamAnswer(inputs: AsyncGenerator<ExtractiveAnswererInput>): AsyncGenerator<ExtractiveAnswer> {
    let input: ExtractiveAnswererInput | undefined;
    for await (const value of inputs) input = value;
    if (input === undefined) return;
    const result = await this.answer(input);
    // Chunks are partial by contract (see ExtractiveAnswerChunk); the cast only satisfies Runnable's typing.
    yield { sources: result.sources, citations: result.citations } as ExtractiveAnswer;
    for (const piece of result.answer.match(/\S+\s*/g) ?? []) yield { answer: piece } as ExtractiveAnswer;
  }

  /** Scores and quotes; the public entry points add LangChain callbacks around this. */
  async answer(input: ExtractiveAnswererInput): Promise<ExtractiveAnswer> {
    const question = typeof input?.question === "string" ? input.question.trim() : "";
    if (question === "") {
      throw new GeneraError("INVALID_INPUT", "ExtractiveAnswerer needs a non-empty `question` string");
    }
    const documents = Array.isArray(input.documents) ? input.documents : [];
    const candidates = this.collectCandidates(question, documents);
    if (candidates.length === 0) return noAnswer();

    if (this.embeddings && this.denseWeight > 0) {
      const [questionVector, ...vectors] = await this.embedAll([question, ...candidates.map((c) => c.sentence)]);
      candidates.forEach((c, i) => {
        c.vector = vectors[i];
        c.dense = Math.max(0, cosineSimilarity(questionVector as number[], c.vector as number[]));
      });
    }
    for (const c of candidates) {
      const relevance = this.denseWeight * c.dense + (1 - this.denseWeight) * c.lexical;
      c.score =
        (relevance * (1 + this.contextWeight * c.context)) /
        (1 + this.contextWeight) /
        (1 + this.rankDecay * c.docIndex);
    }
    candidates.sort((a, b) => b.score - a.score || a.docIndex - b.docIndex);

    const best = candidates[0] as Candidate;
    if (best.score < this.minScore) return noAnswer();
    const chosen: Candidate[] = [];
    for (const c of candidates) {
      if (chosen.length >= this.maxSentences) break;
      if (c.score < this.minScore || c.score < this.relativeCutoff * best.score) break;
      if (chosen.some((d) => this.similarity(c, d) > this.redundancyThreshold)) continue;
      chosen.push(c);
    }

    const numberOf = new Map<number, number>();
    const sources: CitedSource[] = [];
    const citations: Citation[] = [];
    for (const c of chosen) {
      let n = numberOf.get(c.docIndex);
      if (n === undefined) {
        n = sources.length + 1;
        numberOf.set(c.docIndex, n);
        sources.push(toCitedSource(documents[c.docIndex] as DocumentInterface, n));
      }
      citations.push({ index: n, sentence: c.sentence, score: round(c.score) });
    }
    const answer = citations.map((c) => `${c.sentence} [${c.index}]`).join(" ");
    return { answer, sources, citations };
  }

  private collectCandidates(question: string, documents: DocumentInterface[]): Candidate[] {
    const seen = new Set<string>();
    const all: Candidate[] = [];
    documents.forEach((doc, docIndex) => {
      const text = typeof doc?.pageContent === "string" ? doc.pageContent : "";
      for (const { sentence, heading } of sentencesUnderHeadings(text)) {
        if (wordTokens(sentence).length < this.minWords) continue;
        // Overlapping chunks repeat sentences; the first (best-ranked) copy wins.
        const key = wordTokens(sentence).join(" ");
        if (seen.has(key)) continue;
        seen.add(key);
        all.push({
          sentence,
          docIndex,
          // A section's opening sentence also matches its heading's words (see sentencesUnderHeadings).
          terms: new Set([...contentTerms(sentence), ...(heading ? contentTerms(heading) : [])]),
          lexical: 0,
          context: 0,
          dense: 0,
          score: 0,
        });
      }
    });
    if (all.length === 0) return all;

    const frame = HOW_DOES_IT_WORK.test(question) ? new Set(contentTerms("work")) : undefined;
    const questionTerms = [...new Set(contentTerms(question))].filter((t) => !frame?.has(t));
    const df = new Map<string, number>();
    for (const c of all) for (const t of c.terms) df.set(t, (df.get(t) ?? 0) + 1);
    const idf = (t: string) => Math.log(1 + all.length / (1 + (df.get(t) ?? 0)));
    const total = questionTerms.reduce((sum, t) => sum + idf(t), 0);
    const coverage = (terms: Set<string>) =>
      total > 0 ? questionTerms.reduce((sum, t) => sum + (terms.has(t) ? idf(t) : 0), 0) / total : 0;
    const contextOf = documents.map((doc) => {
      const m = (doc?.metadata ?? {}) as Record<string, unknown>;
      const extra = [m.title, ...(Array.isArray(m.headings) ? m.headings : [])].filter((x) => typeof x === "string");
      return coverage(new Set(contentTerms(`${extra.join(" ")}\n${doc?.pageContent ?? ""}`)));
    });
    for (const c of all) {
      c.lexical = coverage(c.terms);
      c.context = contextOf[c.docIndex] ?? 0;
    }
    if (all.length <= this.maxCandidates) return all;
    // Embedding every sentence of long chunks is the slow part; keep the lexically promising ones.
    const prescore = (c: Candidate) =>
      (c.lexical * (1 + this.contextWeight * c.context)) / (1 + this.rankDecay * c.docIndex);
    return [...all].sort((a, b) => prescore(b) - prescore(a)).slice(0, this.maxCandidates);
  }

  private async embedAll(texts: string[]): Promise<number[][]> {
    const embeddings = this.embeddings as EmbeddingsInterface;
    const [questionVector, vectors] = await Promise.all([
      embeddings.embedQuery(texts[0] as string),
      embeddings.embedDocuments(texts.slice(1)),
    ]);
    if (!Array.isArray(vectors) || vectors.length !== texts.length - 1) {
      throw new GeneraError(
        "INTERNAL",
        `Embeddings returned ${Array.isArray(vectors) ? vectors.length : "no"} vectors for ${texts.length - 1} sentences`,
      );
    }
    return [questionVector, ...vectors];
  }

  private similarity(a: Candidate, b: Candidate): number {
    if (a.vector && b.vector) return cosineSimilarity(a.vector, b.vector);
    let inter = 0;
    for (const t of a.terms) if (b.terms.has(t)) inter++;
    const union = a.terms.size + b.terms.size - inter;
    return union === 0 ? 1 : inter / union;
  }
}

/**
 * "How does X work?" asks about X: its "work" is the question's frame, not a term to
 * match (it otherwise favoured any sentence that "works", or a section on "a worked example").
 */
const HOW_DOES_IT_WORK = /^\s*how\s+(?:does|do|did|can|could|would|will|should)\b.*\bwork\s*\??\s*$/i;

function noAnswer(): ExtractiveAnswer {
  return { answer: NO_ANSWER_TEXT, sources: [], citations: [] };
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** True for the extractive answerer (also across module copies, by its `kind` tag). */
export function isExtractiveAnswerer(value: unknown): value is ExtractiveAnswerer {
  return (
    value instanceof ExtractiveAnswerer ||
    (typeof value === "object" &&
      value !== null &&
      (value as { kind?: unknown }).kind === "extractive" &&
      typeof (value as { answer?: unknown }).answer === "function")
  );
}

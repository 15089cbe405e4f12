import type { DocumentInterface } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { Runnable, type RunnableConfig } from "@langchain/core/runnables";
import { porterStem } from "../../vectorstores/porterStem.js";
import { GeneraError } from "../errors.js";
import { type CitedSource, toCitedSource } from "./citedSource.js";
import {
  passageText,
  quotedChunk,
  scopeText,
  spanOf,
  spellsOut,
  startSection,
  titleOf,
  writesPhrase,
  writesVersion,
} from "./passageScope.js";
import {
  ASKS_DEFAULT,
  asksForOption,
  asksWhy,
  attributeModifiers,
  countedUnit,
  DEFAULT_TERM,
  definitionSubject,
  GENERIC_VERBS,
  givesReason,
  HOW_DOES_IT_WORK,
  INITIAL_TERMS,
  namePhrases,
  namesPerson,
  nameTerms,
  operatorsOf,
  optionsOf,
  questionFrame,
  questionParts,
  questionShape,
  questionSubject,
  statesCount,
  statesExpected,
  versionedNames,
  whoRelation,
  wordOf,
} from "./questionAnalysis.js";
import {
  type AnswerUnit,
  answerUnits,
  contentTerms,
  cosineSimilarity,
  greekSpelling,
  isOptionTerm,
  wordTokens,
} from "./textUnits.js";

// The question analysis is part of the answerer's public surface (tests and users read a question's shape).
export {
  attributeModifiers,
  definitionSubject,
  expectedAnswer,
  namePhrases,
  nameTerms,
  type QuestionShape,
  questionShape,
  questionSubject,
  statesExpected,
  versionedNames,
} from "./questionAnalysis.js";

/** The fixed sentence returned when no retrieved sentence is relevant enough. */
export const NO_ANSWER_TEXT = "The indexed documents do not answer this question.";

export interface ExtractiveAnswererInput {
  question: string;
  /**
   * Retrieved chunks, best first (their order is the retrieval rank). A chunk whose
   * `metadata.context` is a string (the enclosing section or neighbouring chunks, see
   * HybridRetriever's `expand`) is answered from that wider text; it is still cited as the chunk.
   */
  documents: DocumentInterface[];
  /**
   * How common each word is in the whole indexed corpus (e.g. the keyword index). With it a
   * question word the corpus never uses ("max_worker_connections", "France") weighs what a
   * rare word weighs, so a passage that lacks it does not answer; without it rarity is
   * judged among the retrieved passages only.
   */
  corpus?: CorpusStatistics;
}

/** Word statistics of the indexed corpus: how many passages there are, and how many contain a word. */
export interface CorpusStatistics {
  documentCount: number;
  documentFrequency(word: string): number;
}

/** One quoted sentence of the answer and the source it came from. */
export interface Citation {
  /** The number in the `[n]` marker, i.e. the `index` of a `sources` entry. */
  index: number;
  sentence: string;
  /**
   * Where the sentence is in its source document (`pageContent` offsets), when the passage
   * carries `startChar` (or `contextStartChar` for a wider context) and the sentence is
   * found there verbatim.
   */
  startChar?: number;
  endChar?: number;
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
  /** A sentence must score at least this to be quoted (default 0.15; see bench/README.md for how 0.15 and minCoverage 0.45 were chosen). */
  minScore?: number;
  /** At most this many sentences in an answer (default 3). */
  maxSentences?: number;
  /** Sentences this similar (cosine, or token Jaccard without embeddings) to a chosen one are skipped (default 0.9). */
  redundancyThreshold?: number;
  /** Sentences after the first must reach this fraction of the best score (default 0.7). */
  relativeCutoff?: number;
  /**
   * Weight of embedding similarity; the lexical weight is 1 − dense (default 0.15: with USE-lite,
   * over the five shipped sets, 0.15 and 0.3 matched the lexical score and 0.6 lost 0.045
   * contains-gold; bench/README.md).
   */
  denseWeight?: number;
  /** How much a chunk that matches the question lifts its sentences (default 0.5). */
  contextWeight?: number;
  /** How fast the retrieval rank discounts a sentence (default 0.1). */
  rankDecay?: number;
  /** Sentences with fewer words are not answers (headings, fragments; default 4). */
  minWords?: number;
  /** Only this many sentences (best lexical pre-score) are embedded per question (default 48). */
  maxCandidates?: number;
  /**
   * Decline unless the best sentence's passage (with its title and headings) covers at least
   * this idf-weighted share of the question's words (default 0.45). See ExtractiveAnswerer.
   */
  minCoverage?: number;
}

interface Candidate {
  sentence: string;
  kind: AnswerUnit["kind"];
  topic?: string;
  docIndex: number;
  position: number;
  terms: Set<string>;
  lexical: number;
  context: number;
  /** 1 when the unit's title, section heading or term line names the question's rarest word. */
  about: number;
  /** A field's name ("Inherited" of "Inherited: no") as content terms, and as written. */
  key?: string[];
  keyText?: string;
  /** 1 when the unit is a field whose name the question uses (see FIELD_KEY_WEIGHT). */
  keyed: number;
  /** True when the unit's term line or opening names a long option the question asks about ("--process-group"). */
  namesOption?: boolean;
  /** Terms of what the unit sits under: its document's title, section heading and term line. */
  labels: Set<string>;
  /** The code line the unit's sentence introduces (see AnswerUnit.code): an example, which states no value asked for. */
  code?: string;
  /** The heading of the section the unit is in, and how many units of that section come before it in the passage. */
  section?: string;
  inSection: number;
  /** 1 when the unit has the thing a "What is X?" question asks about as its subject (see definitionSubject). */
  defines: number;
  /** 1 when a definition question also asks why and the unit gives a reason ("…, so the network cannot rely on …"; see givesReason). */
  reason: number;
  /**
   * Whether the unit (its words, table header, term line or section heading; not its document's
   * title) says something the question asks besides the name of what it is about: "Symbol: Ba"
   * in barium's profile does not answer "What is the electronegativity of barium?", however
   * well the profile matches "barium".
   */
  addresses: boolean;
  /** The unit's own terms: `terms` without its document's title. */
  own: Set<string>;
  /** For a field of a record ("parameters: 175B" under "model: GPT-3"), the terms of the field alone. */
  said?: Set<string>;
  dense: number;
  score: number;
  vector?: number[];
}

/**
 * The default "model" when no generator is configured: it answers by quoting the
 * retrieved chunks, so it can be wrong but never invents text.
 *
 * Answer units are the passage's sentences plus its "Field: value" lines and table rows (see
 * answerUnits); a passage with `metadata.context` is read with that wider text (small-to-big).
 * Scoring, for each unit s of the passage at retrieval rank r (0 = best) and question q:
 *
 *     relevance(s) = w · max(0, cos(E(q), E(s))) + (1 − w) · lexical(q, s)
 *     lexical(q, s) = Σ_{t ∈ T(q) ∩ T(s)} idf(t) / Σ_{t ∈ T(q)} idf(t)
 *     context(s)   = the same coverage of q's focus terms by the whole passage, title and headings
 *     score(s)     = relevance(s) · [(1 + c · context(s)) / (1 + c)] · [(1 + a · about(s)) / (1 + a)] / (1 + rankDecay · r)
 *
 * where T(s) are stemmed content terms of the unit, its section heading, its term line (the
 * short line a paragraph explains, like "max_connections (integer)"), its table header and its
 * document's title; idf(t) = ln(1 + N / (1 + df(t))) over the corpus when the chain passes its
 * statistics (else over the candidates), a word the corpus never uses counting as its rarest;
 * w = denseWeight (0.15; 0 without embeddings); c = contextWeight; about(s) = 1 when the unit's
 * title, heading or term line names the question's rarest word (a = 0.5). Focus terms leave
 * out the words that only say what kind of answer is wanted ("how long", "which version",
 * "take", "need"). All factors are at most 1, so scores stay in [0, 1].
 *
 * The answerer declines (NO_ANSWER_TEXT) when the best unit's passage covers less than
 * `minCoverage` of the focus, when it does not name the question's subject ("… of plutonium"),
 * or when the best score is under `minScore` and the passage does not cover the question
 * plainly (PLAIN_ANSWER_COVERAGE). Otherwise the best unit comes first, then up to
 * `maxSentences` − 1 more (1 more for short-answer questions) that reach `relativeCutoff` ×
 * best, are not redundant and come from the same passage or one that covers the question too,
 * in reading order. "Which <thing> …?" answers start with the title of the best unit's
 * document; a unit under a term line starts with that line.
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
  readonly minCoverage: number;

  constructor(options: ExtractiveAnswererOptions = {}) {
    super();
    this.embeddings = options.embeddings;
    this.minScore = options.minScore ?? 0.15;
    this.maxSentences = options.maxSentences ?? 3;
    this.redundancyThreshold = options.redundancyThreshold ?? 0.9;
    this.relativeCutoff = options.relativeCutoff ?? 0.7;
    this.denseWeight = options.embeddings ? (options.denseWeight ?? 0.15) : 0;
    this.rankDecay = options.rankDecay ?? 0.1;
    this.contextWeight = options.contextWeight ?? 0.5;
    this.minWords = options.minWords ?? 4;
    this.maxCandidates = options.maxCandidates ?? 48;
    this.minCoverage = options.minCoverage ?? 0.45;
    for (const [name, value] of Object.entries({
      minScore: this.minScore,
      minCoverage: this.minCoverage,
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
    const shape = questionShape(question);
    const { candidates, subject, unknownProperty, namedContext } = this.collectCandidates(
      question,
      documents,
      input.corpus,
    );
    if (candidates.length === 0 || unknownProperty) return noAnswer();

    if (this.embeddings && this.denseWeight > 0) {
      const [questionVector, ...vectors] = await this.embedAll([question, ...candidates.map((c) => c.sentence)]);
      candidates.forEach((c, i) => {
        c.vector = vectors[i];
        c.dense = Math.max(0, cosineSimilarity(questionVector as number[], c.vector as number[]));
      });
    }
    // A definition question prefers units that define its subject, when there are any.
    const definesWeight = candidates.some((c) => c.defines) ? DEFINES_WEIGHT : 0;
    // "What is X and why …?" prefers units that give a reason, when there are any.
    const reasonWeight = candidates.some((c) => c.reason) ? REASON_WEIGHT : 0;
    // Likewise a field whose name the question uses.
    const keyedWeight = candidates.some((c) => c.keyed) ? FIELD_KEY_WEIGHT : 0;
    for (const c of candidates) {
      const relevance = this.denseWeight * c.dense + (1 - this.denseWeight) * c.lexical;
      c.score =
        (((relevance * (1 + this.contextWeight * c.context)) / (1 + this.contextWeight)) *
          ((1 + ABOUT_WEIGHT * c.about) / (1 + ABOUT_WEIGHT)) *
          ((1 + keyedWeight * c.keyed) / (1 + keyedWeight)) *
          ((1 + definesWeight * c.defines) / (1 + definesWeight)) *
          ((1 + reasonWeight * c.reason) / (1 + reasonWeight))) /
        (1 + this.rankDecay * c.docIndex);
    }
    candidates.sort((a, b) => b.score - a.score || a.docIndex - b.docIndex || a.position - b.position);

    // The answer's passage must cover the question (its rare words above all), not just share a
    // name with it; and "What is the thermal conductivity of plutonium?" is answered from
    // plutonium's passage or not at all. The best unit of such a passage leads, even when a
    // passage that does not answer ranked higher. A unit that is the line of the long option the
    // question names needs no more coverage: the option names one thing.
    const onTopic = (c: Candidate) =>
      c.addresses &&
      (c.context >= this.minCoverage || c.namesOption === true) &&
      (namedContext?.[c.docIndex] ?? 1) >= NAMELESS_COVERAGE &&
      this.coversSubject(c, documents, subject);
    // A question that asks for a number, a year or a person is answered by a unit that states one (its term
    // line counts: "--freelist-vol=<number> [default: 20000000]" above "This option specifies …").
    const about = questionSubject(question);
    const named = nameTerms(question);
    const says = (c: Candidate) =>
      `${c.topic ?? ""}\n${c.sentence.slice(0, c.sentence.length - (c.code?.length ?? 0))}`;
    const answers = (c: Candidate) => onTopic(c) && statesExpected(says(c), shape.expects, about, named);
    // A unit whose term line or opening is the long option the question names ("-w, --equal-width: …")
    // is about it, however many of the question's other words a passage that mentions flags shares.
    // "How many bytes …?" is answered by a unit that counts in bytes ("Storage Size: 1 byte") rather than
    // by one that merely has a digit ("written as 1, 0"), when it is nearly as relevant (as a further
    // sentence would have to be) and its passage covers the question as well ("about 64 bytes" in
    // another setting's page does not answer for a real value).
    const first = candidates.find(answers);
    const unit = shape.expects === "number" ? countedUnit(question) : undefined;
    const close = (c: Candidate) =>
      first !== undefined && c.score >= this.relativeCutoff * first.score && c.context >= first.context && answers(c);
    const counts = (c: Candidate) => unit !== undefined && close(c) && statesCount(says(c), unit);
    // Likewise "Who proposed AdamW?" by a unit that names AdamW itself rather than through its page's
    // title ("RMSProp, proposed by Geoffrey Hinton …" on a page titled "… Adam and AdamW").
    const ownSubject = (c: Candidate) =>
      shape.expects === "person" && subject !== undefined && close(c) && c.own.has(subject);
    const best =
      candidates.find((c) => c.namesOption === true && answers(c)) ??
      candidates.find(counts) ??
      candidates.find(ownSubject) ??
      first;
    if (best === undefined) return noAnswer();
    // It is as relevant as the best unit next to it, which may repeat the question's words without the value.
    const lead =
      candidates.find(
        (c) => c.docIndex === best.docIndex && Math.abs(c.position - best.position) <= NEIGHBOUR_UNITS && onTopic(c),
      ) ?? best;
    // A low score with a passage that covers the question fully still answers: the top passage
    // plainly holds the answer even when no single sentence repeats the question's words.
    // So does the line of the very option the question names ("-f, --filters: Display …").
    if (lead.score < this.minScore && !best.namesOption && !(best.context >= PLAIN_ANSWER_COVERAGE && best.lexical > 0))
      return noAnswer();

    const limit = shape.factoid ? Math.min(2, this.maxSentences) : this.maxSentences;
    const chosen: Candidate[] = [best];
    for (const c of candidates) {
      if (chosen.length >= limit) break;
      if (c === best) continue;
      if (c.score < this.minScore || c.score < this.relativeCutoff * best.score) break;
      // Nothing off-topic: a further sentence comes from the best one's passage or one that covers the question too.
      if (c.docIndex !== best.docIndex && c.context < this.minCoverage) continue;
      if (chosen.some((d) => this.similarity(c, d) > this.redundancyThreshold)) continue;
      // "Who proposed AdamW?": a further sentence names its subject itself, not another thing's maker
      // ("RMSProp, proposed by Geoffrey Hinton …" on the same page).
      if (shape.expects === "person" && subject !== undefined && !c.own.has(subject)) continue;
      chosen.push(c);
    }
    // Best first; the rest in reading order (passage by passage), so sentences of one place read as written.
    const ordered = [best, ...chosen.slice(1).sort((a, b) => a.docIndex - b.docIndex || a.position - b.position)];

    // One source per chunk quoted: a sentence from a neighbour in the passage's window cites that chunk.
    const numberOf = new Map<string, number>();
    const sources: CitedSource[] = [];
    const citations: Citation[] = [];
    for (const c of ordered) {
      const doc = documents[c.docIndex] as DocumentInterface;
      const neighbour = quotedChunk(c.sentence, doc);
      const key = `${c.docIndex} ${neighbour?.id ?? ""}`;
      let n = numberOf.get(key);
      if (n === undefined) {
        n = sources.length + 1;
        numberOf.set(key, n);
        sources.push({ ...toCitedSource(doc, n), ...neighbour });
      }
      citations.push({ index: n, sentence: c.sentence, ...spanOf(c.sentence, doc), score: round(c.score) });
    }
    // "The default is on." says little alone: lead with the term it explains ("enable_async_append (boolean)").
    // So does every later sentence under another term ("--log-fd=…: Specifies …" then "--log-file=…: Specifies …").
    let answer = ordered
      .map((c, i) => {
        const quote = `${c.sentence} [${citations[i]?.index}]`;
        const term = c.topic;
        const sameTerm = i > 0 && ordered[i - 1]?.topic === term && ordered[i - 1]?.docIndex === c.docIndex;
        const says = term !== undefined && wordTokens(c.sentence).join(" ").includes(wordTokens(term).join(" "));
        return term === undefined || says || sameTerm ? quote : `${term}: ${quote}`;
      })
      .join(" ");
    // "Which element has the symbol Fe?": the thing is the document the fact is in, so say its name first.
    // "What <noun> …?" may also ask for something of a thing it names ("What BLEU score did the
    // Transformer reach?" over "Transformer architecture"): then the title is not the answer.
    // "Which option …?" asks for a term line ("--log-file=<filename>" over "Specifies that …"), which
    // the answer already leads with; the chapter's title would only stand in front of it. (A record's
    // name is no such term, and "Which SQL command …?" still wants its page's title.)
    const asksForTerm = best.topic !== undefined && best.said === undefined && asksForOption(question);
    if (shape.type === "which" && !asksForTerm) {
      const title = titleOf(documents[best.docIndex] as DocumentInterface);
      // A manual's chapter is named by its first word after the section number ("9. Massif: …").
      const name = wordTokens(title.replace(/^\s*\d+(?:\.\d+)*\.?\s+/, ""))[0];
      const asked = wordTokens(question).map((w) => w.replace(/['’]s$/, ""));
      const named = asked[0] === "what" && name !== undefined && asked.includes(name);
      if (title && !named && !wordTokens(best.sentence).join(" ").includes(wordTokens(title).join(" "))) {
        answer = `${title}: ${answer}`;
      }
    }
    return { answer, sources, citations };
  }

  private collectCandidates(
    question: string,
    documents: DocumentInterface[],
    corpus: CorpusStatistics | undefined,
  ): {
    candidates: Candidate[];
    subject?: string;
    unknownProperty?: boolean;
    namedContext?: Array<number | undefined>;
  } {
    const seen = new Set<string>();
    const all: Candidate[] = [];
    // Every unit is about its document's title; its section heading comes from the text itself
    // (or, for a chunk read alone, from the chunk's heading path).
    const scopeTerms = documents.map((doc) => new Set(contentTerms(titleOf(doc))));
    // A page's title often is its one-line definition ("timeout(1): run a command with a time
    // limit"), while the chunk retrieved is further down the page: a definition question may quote it.
    const defined = definitionSubject(question);
    documents.forEach((doc, docIndex) => {
      const title = typeof doc.metadata?.title === "string" ? doc.metadata.title.trim() : "";
      const titleUnit: AnswerUnit[] =
        defined !== undefined && title ? [{ text: title, kind: "sentence", position: -1 }] : [];
      let section: string | undefined;
      let inSection = 0;
      for (const unit of [...titleUnit, ...answerUnits(passageText(doc), startSection(doc))]) {
        const tokens = wordTokens(unit.text);
        // Fields and table rows state a fact in a few words ("Symbol: Fe"), and so does a chunk
        // that is one short text of its own (a picture's caption); other prose needs minWords.
        const whole = unit.text === doc.pageContent.trim();
        if (tokens.length < (unit.kind === "sentence" && !whole ? this.minWords : 2)) continue;
        inSection = unit.section === section ? inSection + 1 : 0;
        section = unit.section;
        // Overlapping chunks repeat sentences; the first (best-ranked) copy wins. A sentence is
        // one fact only where it stands: "The default is on." under one parameter's term line, or
        // "Inherited: no" in one property's page, says nothing about the next one.
        const key = [titleOf(doc), unit.section ?? "", unit.topic ?? "", tokens.join(" ")].join("\0");
        if (seen.has(key)) continue;
        seen.add(key);
        all.push({
          sentence: unit.text,
          kind: unit.kind,
          ...(unit.topic !== undefined ? { topic: unit.topic } : {}),
          // What the field says beyond its record's name ("organisation: Mistral AI" under "model: Mistral 7B").
          ...(unit.record
            ? { said: new Set(contentTerms(unit.text).filter((t) => !contentTerms(unit.topic ?? "").includes(t))) }
            : {}),
          docIndex,
          position: unit.position,
          // A section's opening sentence also matches its heading's words; a row, its column names;
          // every unit, its passage's title and heading path (a profile's "Symbol: Fe" is about its title).
          terms: new Set([
            ...contentTerms(unit.text),
            ...(unit.heading ? contentTerms(unit.heading) : []),
            ...(unit.label ? contentTerms(unit.label) : []),
            ...(unit.topic ? contentTerms(unit.topic) : []),
            ...(unit.section ? contentTerms(unit.section) : []),
            ...(scopeTerms[docIndex] ?? []),
          ]),
          own: new Set([
            ...contentTerms(unit.text),
            ...(unit.heading ? contentTerms(unit.heading) : []),
            ...(unit.label ? contentTerms(unit.label) : []),
            ...(unit.topic ? contentTerms(unit.topic) : []),
            ...(unit.section ? contentTerms(unit.section) : []),
          ]),
          labels: new Set([
            ...(scopeTerms[docIndex] ?? []),
            ...(unit.section ? contentTerms(unit.section) : []),
            ...(unit.topic ? contentTerms(unit.topic) : []),
          ]),
          ...(unit.section !== undefined ? { section: unit.section } : {}),
          ...(unit.code !== undefined ? { code: unit.code } : {}),
          inSection,
          lexical: 0,
          context: 0,
          about: 0,
          ...(unit.kind === "field"
            ? { key: contentTerms(unit.text.split(":")[0] ?? ""), keyText: unit.text.split(":")[0] ?? "" }
            : {}),
          keyed: 0,
          defines: 0,
          reason: 0,
          addresses: false,
          dense: 0,
          score: 0,
        });
      }
    });
    if (all.length === 0) return { candidates: all };

    const workFrame = HOW_DOES_IT_WORK.test(question) ? new Set(contentTerms("work")) : undefined;
    // The words of a default asked for in other terms ("never change") are not matched at all.
    const questionTerms = [...new Set(contentTerms(question.replace(ASKS_DEFAULT, " ")))].filter(
      (t) => !workFrame?.has(t),
    );
    // Whether a passage answers is judged on what the question is about, without the words
    // that name the kind of answer wanted (a passage need not say "version" to give one).
    const frame = new Set(contentTerms(questionFrame(question)));
    // "If I never change X, what value does it have?" asks for X's default without saying so;
    // the word is then what the answer says, not what the passage must be about.
    const asksDefault = questionTerms.includes(DEFAULT_TERM) || ASKS_DEFAULT.test(question);
    if (asksDefault && !questionTerms.includes(DEFAULT_TERM)) {
      questionTerms.push(DEFAULT_TERM);
      frame.add(DEFAULT_TERM);
    }
    // "Initial value: 0s" states a default in other words.
    if (asksDefault) {
      for (const c of all) {
        if ([...INITIAL_TERMS].some((t) => c.own.has(t))) {
          c.own.add(DEFAULT_TERM);
          c.terms.add(DEFAULT_TERM);
        }
      }
    }
    // "What's the purpose of the base64 utility?" is about base64: "purpose" names the answer's kind.
    const definedTerms = new Set(defined !== undefined ? contentTerms(defined) : []);
    const unframed = questionTerms.filter((t) => !frame.has(t));
    const focusTerms = unframed.some((t) => definedTerms.has(t))
      ? unframed.filter((t) => definedTerms.has(t))
      : unframed;
    const idf = this.idfFor(question, questionTerms, all, corpus);
    const coverageOf = (terms: string[]) => {
      const total = terms.reduce((sum, t) => sum + idf(t), 0);
      return (have: Set<string>) =>
        total > 0 ? terms.reduce((sum, t) => sum + (have.has(t) ? idf(t) : 0), 0) / total : 0;
    };
    // The words that name the kind of answer ("default", "version") count only where the unit
    // says them itself, so "The default is 4MB." beats "Sets the size …" on a page whose title
    // says "Defaults"; but for "default" they weigh GENERIC_SHARE, as do verbs any question uses
    // ("set", "take"): "If this value is …" is no answer to "what value does it have?".
    // A name in the frame ("Safari" of "Since which Safari version …") is matched in full.
    const questionNames = new Set(nameTerms(question));
    const lexicalWeight = (t: string) =>
      idf(t) *
      (GENERIC_VERBS.has(wordOf(question, t)) || (frame.has(t) && t !== DEFAULT_TERM && !questionNames.has(t))
        ? GENERIC_SHARE
        : 1);
    const lexicalTotal = questionTerms.reduce((sum, t) => sum + lexicalWeight(t), 0);
    const lexical = (c: Candidate) =>
      lexicalTotal > 0
        ? questionTerms.reduce(
            (sum, t) =>
              sum +
              ((frame.has(t) || (asksDefault && t === DEFAULT_TERM) ? c.own : c.terms).has(t) ? lexicalWeight(t) : 0),
            0,
          ) / lexicalTotal
        : 0;
    const focus = coverageOf(focusTerms.length > 0 ? focusTerms : questionTerms);
    const passageTerms = documents.map((doc) => new Set(contentTerms(`${scopeText(doc)}\n${passageText(doc)}`)));
    // A passage that writes a question word in another form ("concatenating" for "concatenate",
    // "replaced" for "replacement") covers it: the keyword index's Porter stems meet where the light
    // stems do not. Only the passage's coverage widens; a unit still scores on its own words.
    const stemmed = questionTerms.map((t) => [t, porterStem(wordOf(question, t))] as const);
    documents.forEach((doc, i) => {
      const terms = passageTerms[i] as Set<string>;
      const absent = stemmed.filter(([t]) => !terms.has(t));
      if (absent.length > 0) {
        const stems = porterStems(`${scopeText(doc)}\n${passageText(doc)}`);
        for (const [t, stem] of absent) if (stems.has(stem)) terms.add(t);
      }
    });
    const contextOf = passageTerms.map((terms) => focus(terms));
    // A unit under a label that names what the question is about ("autovacuum_max_workers
    // (integer)" above "The default is three.") beats one that mentions it in passing.
    const key = focusTerms.length > 0 ? focusTerms.reduce((a, b) => (idf(b) > idf(a) ? b : a)) : undefined;
    const askedOptions = new Set(optionsOf(question));
    // What the answer is about as its subject: the X of "What is X?" or of "Who proposed X?".
    const answerSubject = new Set(contentTerms(defined ?? whoRelation(question)?.subject ?? ""));
    // "What is X and why does it help?": among the units about X, those that give a reason answer both
    // parts. (In a plain why-question every sentence of the entry that answers it is its reason.)
    const why = defined !== undefined && asksWhy(question);
    for (const c of all) {
      c.lexical = lexical(c);
      c.context = contextOf[c.docIndex] ?? 0;
      c.about = key !== undefined && c.labels.has(key) ? 1 : 0;
      // "Inherited: no" answers "Is X inherited?": a field whose name the question uses states what it asks.
      // Not when the name is what the page is about ("Base32: encode or decode …" in base32's page);
      // always when it is an option the question names ("-r, --real: print the real ID …").
      const keyed =
        c.key !== undefined &&
        c.key.length > 0 &&
        c.key.every((t) => questionTerms.includes(t) || (asksDefault && INITIAL_TERMS.has(t))) &&
        !c.key.some((t) => scopeTerms[c.docIndex]?.has(t));
      // So does a unit whose term line, or whose own opening ("--check-supported: Check if …"), names an
      // option the question asks about: that unit is about the option, others merely mention it.
      const lead = c.keyText ?? /^(.{1,60}?):\s/.exec(c.sentence)?.[1] ?? "";
      const namesOption = [lead, c.topic ?? ""].some((text) => optionsOf(text).some((o) => askedOptions.has(o)));
      c.keyed = keyed || namesOption ? 1 : 0;
      if (namesOption && [...askedOptions].some((o) => o.startsWith("--"))) c.namesOption = true;
      c.reason = why && givesReason(c.sentence) ? 1 : 0;
      // "base64 - encode/decode data…", "Dropout is a regularization technique…": the thing asked
      // about opens the unit, as its subject.
      // So is every unit of the section headed by exactly that thing ("## Dropout"), which describes it
      // without repeating its name ("During training, every unit is set to zero …"); its opening
      // units say what the thing is, as a name line does.
      // "Who proposed Adam?" likewise, when the unit names a person: "Adam (Kingma and Ba, 2014; …)" is
      // about Adam, "… proposed AdamW" is not.
      const opens =
        answerSubject.size > 0 &&
        key !== undefined &&
        contentTerms(c.sentence).slice(0, DEFINER_WINDOW).includes(key) &&
        (defined !== undefined || namesPerson(c.sentence, [...answerSubject], [...questionNames]));
      const headed = defined !== undefined && c.section !== undefined && sameTerms(c.section, answerSubject);
      c.defines =
        (opens && namesThenDefines(c.sentence, answerSubject, key as string)) ||
        (headed && c.inSection < SECTION_OPENING)
          ? 2
          : opens || headed
            ? 1
            : 0;
    }
    // A property the corpus never mentions ("the density of …" where no passage says "density")
    // cannot be answered from it, whatever else matches.
    const { property } = questionParts(question);
    const unknownProperty =
      corpus !== undefined &&
      property.some((t) => !frame.has(t) && !isOptionTerm(t) && corpus.documentFrequency(wordOf(question, t)) === 0);
    // The subject's rarest word is the one a passage about it cannot lack.
    const subjectTerms = questionSubject(question);
    const subject = subjectTerms.length > 0 ? subjectTerms.reduce((a, b) => (idf(b) > idf(a) ? b : a)) : undefined;
    // What the question asks besides the name of its subject, where its wording names one
    // ("… of Y", "Y's …"); a definition question asks about its subject only, and "Who discovered
    // Y?" asks for a person, whatever verb the source uses ("isolated by …").
    const generic = new Set(contentTerms([...GENERIC_VERBS].join(" ")));
    const relation = new Set(contentTerms(whoRelation(question)?.verb ?? ""));
    const asked = new Set(questionTerms.filter((t) => t !== subject && !generic.has(t) && !relation.has(t)));
    const explicit = subject !== undefined && defined === undefined && asked.size > 0;
    // A field whose name the question uses (the option it asks about) addresses it.
    // A record's field ("year: 2022" under "model: Whisper large") answers only what it says itself,
    // not every question about its record ("How many layers does Whisper large have?").
    for (const c of all) {
      c.addresses =
        (!explicit || c.keyed === 1 || [...asked].some((t) => c.own.has(t))) &&
        (c.said === undefined || questionTerms.some((t) => c.said?.has(t)));
    }
    // The names a question uses ("Lion optimizer", "SQL Server", "Windows") that the corpus uses
    // rarely or never: a passage without them is about something else, however close.
    const names = nameTerms(question).filter(
      (t) =>
        corpus === undefined ||
        corpus.documentFrequency(wordOf(question, t)) < NAME_SHARE * Math.max(1, corpus.documentCount),
    );
    // "LLM" is named by a passage that says "large language model", "KV-cache" by one that says "KV cache".
    const missing = documents.map((doc, i) => {
      const terms = passageTerms[i] as Set<string>;
      return names.filter(
        (t) =>
          !terms.has(t) &&
          !(t.includes("-") && contentTerms(t.replace(/-/g, " ")).every((part) => terms.has(part))) &&
          !spellsOut(t, `${scopeText(doc)}\n${passageText(doc)}`),
      );
    });
    // A name the corpus never uses ("Pinecone", "German-to-Czech") is something it says nothing
    // about: no passage answers for it, however much else it shares with the question.
    // An acronym may stand for words the corpus spells out its own way ("CDF"), and a compound is
    // known when its parts are ("65B-parameter").
    const unknownName = (t: string) =>
      corpus !== undefined &&
      !/^[\p{Lu}\d]{2,6}$/u.test(wordOf(question, t, true)) &&
      wordOf(question, t)
        .split("-")
        .some((part) => !/^[a-z]$/.test(part) && !STOP_PARTS.has(part) && !usedBy(corpus, part));
    // Such a passage is judged on the question's focus and its names together; one that lacks a
    // name of the kind of answer asked for ("Which Windows command …", "Which W3C editor …")
    // cannot give that answer at all.
    const named = coverageOf([...new Set([...(focusTerms.length > 0 ? focusTerms : questionTerms), ...names])]);
    // "Stable Diffusion 3", "Llama 4", "WMT 2019": a name with its version is another thing than the
    // name alone or with another version, so a passage must write the two together.
    const versions = versionedNames(question);
    // "What vocabulary size does the tokenizer use?": the words that say which value of the subject
    // is asked ("vocabulary") must be the passage's, when the corpus uses them rarely (a size of
    // something else does not answer). A passage may write them longer ("drop" in "dropout").
    const modifiers =
      corpus === undefined
        ? []
        : attributeModifiers(question).filter((t) => {
            const df = corpus.documentFrequency(wordOf(question, t));
            return df > 0 && df < NAME_SHARE * corpus.documentCount && !names.includes(t);
          });
    const saysModifiers = (terms: Set<string>) =>
      modifiers.every((t) => terms.has(t) || [...terms].some((u) => u.length > t.length && u.startsWith(t)));
    const phrases = namePhrases(question);
    // An operator the question names is what it asks about: a passage that never writes it answers
    // about other operators, whatever words it shares ("Comma is not an operator" for "++").
    const operators = operatorsOf(question);
    const namedContext = missing.map((m, i) => {
      const text = `${scopeText(documents[i] as DocumentInterface)}\n${passageText(documents[i] as DocumentInterface)}`;
      return !saysModifiers(passageTerms[i] as Set<string>) ||
        phrases.some((p) => !writesPhrase(text, p)) ||
        operators.some((o) => !text.includes(o)) ||
        versions.some((v) => !writesVersion(text, v))
        ? 0
        : m.length === 0
          ? undefined
          : m.some((t) => frame.has(t) || unknownName(t))
            ? 0
            : named(passageTerms[i] as Set<string>);
    });
    if (all.length <= this.maxCandidates) return { candidates: all, subject, unknownProperty, namedContext };
    // Embedding every sentence of long chunks is the slow part; keep the lexically promising ones.
    const prescore = (c: Candidate) =>
      (c.lexical *
        (1 + this.contextWeight * c.context) *
        (1 + DEFINES_WEIGHT * c.defines) *
        (1 + FIELD_KEY_WEIGHT * c.keyed)) /
      (1 + this.rankDecay * c.docIndex);
    const candidates = [...all].sort((a, b) => prescore(b) - prescore(a)).slice(0, this.maxCandidates);
    return { candidates, subject, unknownProperty, namedContext };
  }

  /**
   * Inverse document frequency of the question's terms: over the whole corpus when its
   * statistics are given (a word it never uses gets the highest weight), else over the
   * candidate sentences.
   */
  private idfFor(
    question: string,
    questionTerms: string[],
    candidates: Candidate[],
    corpus: CorpusStatistics | undefined,
  ): (term: string) => number {
    const weights = new Map<string, number>();
    if (corpus && corpus.documentCount > 0) {
      const n = corpus.documentCount;
      // The corpus is analysed its own way; ask it about the question's words as written.
      for (const t of questionTerms) {
        // A word the corpus never uses weighs what its rarest words weigh (as if in one passage):
        // it may be a name the documents lack, or just the asker's own wording. A short option
        // ("-n") is not a word the index keeps; the same letters recur across commands, so it
        // counts as a word of one passage in twenty.
        const df = isOptionTerm(t)
          ? n / OPTION_SHARE
          : Math.max(1, Math.min(n, corpus.documentFrequency(wordOf(question, t))));
        weights.set(t, Math.log(1 + n / (1 + df)));
      }
      return (t) => weights.get(t) ?? Math.log(1 + n / 2);
    }
    const df = new Map<string, number>();
    for (const c of candidates) for (const t of c.terms) df.set(t, (df.get(t) ?? 0) + 1);
    return (t) => Math.log(1 + candidates.length / (1 + (df.get(t) ?? 0)));
  }

  /** Whether the best candidate's passage names the question's subject (its rarest word; see questionSubject). */
  private coversSubject(best: Candidate, documents: DocumentInterface[], subject: string | undefined): boolean {
    if (subject === undefined) return true;
    const doc = documents[best.docIndex] as DocumentInterface;
    return new Set(contentTerms(`${scopeText(doc)}\n${passageText(doc)}`)).has(subject);
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
 * A passage without one of the question's names answers only when it covers this share of the
 * question's focus otherwise ("Which activation multiplies its input by the standard normal
 * CDF?" is answered by a passage that spells out "cumulative distribution function").
 */
const NAMELESS_COVERAGE = 0.6;

/** A name more common than this share of the corpus's passages is not required of the answer's passage (see nameTerms). */
const NAME_SHARE = 0.05;

/** Whether the corpus uses a word, spelt with Latin letters or Greek ("beta2" or "β2"). */
function usedBy(corpus: CorpusStatistics, word: string): boolean {
  return corpus.documentFrequency(word) > 0 || corpus.documentFrequency(greekSpelling(word)) > 0;
}

/** Parts of a compound name that are no names ("German-to-Czech"). */
const STOP_PARTS = new Set(["to", "of", "and", "or", "in", "on", "for", "the", "a", "an", "vs", "per", "by"]);

/** Short options ("-n") are taken to occur in one passage in this many (see idfFor). */
const OPTION_SHARE = 20;

/** How much a unit that defines a definition question's subject is preferred (see Candidate.defines). */
const DEFINES_WEIGHT = 1;

/** The first this many units of a section headed by the thing a definition question asks about say what it is. */
const SECTION_OPENING = 2;

/** How much a unit that gives a reason is preferred when a definition question also asks why (see Candidate.reason). */
const REASON_WEIGHT = 0.25;

/** A unit defines X when X's key term is among its first this many content terms. */
const DEFINER_WINDOW = 4;

/** How much a unit labelled with the question's rarest word is preferred (see Candidate.about). */
const ABOUT_WEIGHT = 0.5;

/** How much a field whose name the question uses is preferred (see Candidate.keyed). */
const FIELD_KEY_WEIGHT = 0.5;

/** What a verb any question may use ("set", "take"; GENERIC_VERBS) or a word naming the answer's kind ("value") weighs in the lexical score, against its idf. */
const GENERIC_SHARE = 0.25;

/** Units this close in a passage are one place: a value and the sentence that says what it is the value of. */
const NEIGHBOUR_UNITS = 2;

/** A passage covering this share of the question answers it even when no sentence scores minScore. */
const PLAIN_ANSWER_COVERAGE = 0.85;

/**
 * A name line: the subject, a dash or colon, its one-line definition ("CREATE CAST — define a new
 * cast", "gzexe(1): compress executable files in place"), where the name is the subject asked about.
 */
function namesThenDefines(text: string, subject: Set<string>, key: string): boolean {
  const head = /^(.{1,60}?)\s*(?:\(\d\w*\))?\s*(?:—|–|-|:)\s+\S/u.exec(text)?.[1];
  const terms = head === undefined ? [] : contentTerms(head);
  return terms.includes(key) && terms.every((t) => subject.has(t));
}

/** Whether a heading names exactly the given terms ("Dropout" for "dropout", not "Monte Carlo dropout"). */
function sameTerms(heading: string, terms: Set<string>): boolean {
  const own = new Set(contentTerms(heading));
  return own.size === terms.size && [...own].every((t) => terms.has(t));
}

/** The Porter stems of a text's words, and of the parts of its compounds ("malloc-related"). */
function porterStems(text: string): Set<string> {
  return new Set(wordTokens(text).flatMap((w) => (w.includes("-") ? [w, ...w.split("-")] : [w]).map(porterStem)));
}

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

import { Document } from "@langchain/core/documents";
import {
  RecursiveCharacterTextSplitter,
  type SupportedTextSplitterLanguage,
  SupportedTextSplitterLanguages,
} from "@langchain/textsplitters";
import { GeneraError } from "../src/errors.js";
import {
  headingPaths,
  type MarkdownFence,
  type MarkdownHeading,
  markdownStructure,
  underlinedHeadings,
} from "./markdownStructure.js";

export interface SplitOptions {
  /** Largest chunk, in `unit`s. Default 800. */
  chunkSize?: number;
  /** Text repeated from the end of one chunk at the start of the next, in `unit`s. Default min(100, chunkSize / 4). */
  chunkOverlap?: number;
  /** "chars" (default) or "tokens" (counted by `tokenCounter`, default {@link estimateTokens}). */
  unit?: "chars" | "tokens";
  tokenCounter?: (text: string) => number;
  /**
   * Split along Markdown structure (heading sections, fenced code). Default: on for
   * documents whose `format` is markdown/html/docx, and for format-less text with `#` headings.
   */
  markdown?: boolean;
}

export interface TextSplitOptions extends SplitOptions {
  /** A code language (LangChain's names: "js", "python", "go"…); selects code-aware separators. */
  language?: string;
}

/** A chunk as a span of the original text: `text === source.slice(start, end)`. */
export interface TextChunk {
  text: string;
  start: number;
  end: number;
  /** Heading path in force where the chunk's content begins (Markdown mode only). */
  headings?: string[];
}

/**
 * Token estimate without a tokenizer, close to BPE counts (GPT-2/cl100k) for English:
 * each run of letters/digits is one token per started 6 characters (most common words
 * are a single BPE token, long words split into a few), each CJK character and each
 * punctuation/symbol character is one token, whitespace is free. Typically within ±20%
 * of a real tokenizer on prose; pass `tokenCounter` when the exact count matters.
 */
export function estimateTokens(text: string): number {
  let tokens = 0;
  for (const match of text.matchAll(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu)) {
    const piece = match[0];
    if (!/[\p{L}\p{N}]/u.test(piece[0] as string)) {
      tokens += 1;
      continue;
    }
    const cjk = piece.match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/gu)?.length ?? 0;
    tokens += cjk + Math.ceil((piece.length - cjk) / 6);
  }
  return tokens;
}

/** Formats whose text lines are the file's lines, so a chunk's line number can be derived. */
const LINE_MAPPED_FORMATS = new Set(["text", "markdown", "code"]);
const MARKDOWN_FORMATS = new Set(["markdown", "html", "docx"]);

/**
 * Splits documents into chunks for indexing. Every chunk keeps its document's metadata
 * and adds its position: `chunkIndex` (0-based, counted per `source` across this call),
 * `startChar`/`endChar` (offsets into the document's `pageContent`, so
 * `doc.pageContent.slice(startChar, endChar) === chunk.pageContent` exactly — chunks are
 * trimmed spans, never rewritten), `headings` (Markdown-like documents), and `line`
 * (the file line where the chunk starts, for text, Markdown and code; CSV/JSON rows keep
 * the row's line; PDF chunks keep their `page`).
 *
 * Markdown, and plain text whose headings are underlined (reStructuredText, text renderings of
 * manuals and FAQs), is split by heading sections first (a chunk never spans two sections; a
 * heading with no text of its own stays with the next section), then paragraphs, with
 * fenced code blocks kept whole unless one alone exceeds `chunkSize`, then sentences,
 * lines, words. Code uses LangChain's language separators (declarations first).
 */
export async function splitDocuments(docs: Document[], options: SplitOptions = {}): Promise<Document[]> {
  const out: Document[] = [];
  const counters = new Map<string, number>();
  for (const doc of docs) {
    const metadata = doc.metadata ?? {};
    const text = doc.pageContent ?? "";
    const format = typeof metadata.format === "string" ? metadata.format : undefined;
    const language = typeof metadata.language === "string" ? metadata.language : undefined;
    const markdown =
      options.markdown ??
      ((format !== undefined && MARKDOWN_FORMATS.has(format)) ||
        (format === undefined && language === undefined && /^ {0,3}#{1,6}[ \t]+\S/m.test(text)));
    const chunks = splitText(text, {
      ...options,
      markdown,
      language: format === "code" || !format ? language : undefined,
    });
    const source = String(metadata.source ?? "");
    const parentLine = typeof metadata.line === "number" ? metadata.line : undefined;
    const lineMapped = parentLine !== undefined && format !== undefined && LINE_MAPPED_FORMATS.has(format);
    const lineAt = lineMapped ? lineLocator(text) : undefined;
    const parentHeadings = Array.isArray(metadata.headings) ? (metadata.headings as string[]) : undefined;
    for (const chunk of chunks) {
      const chunkIndex = counters.get(source) ?? 0;
      counters.set(source, chunkIndex + 1);
      const chunkMetadata: Record<string, unknown> = {
        ...metadata,
        chunkIndex,
        startChar: chunk.start,
        endChar: chunk.end,
      };
      if (markdown || chunk.headings) {
        chunkMetadata.headings = chunk.headings?.length ? chunk.headings : (parentHeadings ?? []);
      }
      if (lineAt && parentLine !== undefined) chunkMetadata.line = parentLine + lineAt(chunk.start);
      out.push(new Document({ pageContent: chunk.text, metadata: chunkMetadata }));
    }
  }
  return out;
}

/** Splits one text into trimmed spans; see {@link splitDocuments} for the strategy. */
export function splitText(text: string, options: TextSplitOptions = {}): TextChunk[] {
  const chunkSize = options.chunkSize ?? 800;
  // Without an explicit overlap, a small chunk size still gets a valid one.
  const chunkOverlap = options.chunkOverlap ?? Math.min(100, Math.floor(chunkSize / 4));
  if (options.unit !== undefined && options.unit !== "chars" && options.unit !== "tokens") {
    throw new GeneraError("INVALID_INPUT", `unit must be "chars" or "tokens", got ${JSON.stringify(options.unit)}`, {
      details: { unit: options.unit },
    });
  }
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new GeneraError("INVALID_INPUT", `chunkSize must be a positive integer, got ${chunkSize}`, {
      details: { chunkSize },
    });
  }
  if (!Number.isInteger(chunkOverlap) || chunkOverlap < 0 || chunkOverlap >= chunkSize) {
    throw new GeneraError(
      "INVALID_INPUT",
      `chunkOverlap must be an integer from 0 to chunkSize - 1 (${chunkSize - 1}), got ${chunkOverlap}`,
      { details: { chunkSize, chunkOverlap } },
    );
  }
  if (!text.trim()) return [];
  const counter = options.unit === "tokens" ? (options.tokenCounter ?? estimateTokens) : undefined;
  const measure = counter ? (s: number, e: number) => counter(text.slice(s, e)) : charLength;

  // Prose that is not Markdown may still have headings: underlined ones (reStructuredText, text manuals).
  const structure = options.markdown
    ? markdownStructure(text)
    : { headings: options.language ? [] : underlinedHeadings(text), fences: [] };
  const sectioned = options.markdown || structure.headings.length > 0;
  const levels = sectioned
    ? markdownLevels(structure.fences, structure.headings)
    : options.language
      ? codeLevels(options.language)
      : proseLevels();
  const splitter = new SpanSplitter(text, chunkSize, chunkOverlap, measure, levels, structure.fences);

  const spans: Array<[number, number]> = [];
  for (const [start, end] of sectioned ? sections(text, structure.headings) : [[0, text.length]]) {
    spans.push(...splitter.split(start as number, end as number, 0));
  }

  const paths = headingPaths(structure.headings);
  const chunks: TextChunk[] = [];
  for (const [rawStart, rawEnd] of spans) {
    let start = rawStart;
    let end = rawEnd;
    while (start < end && isSpace(text.charCodeAt(start))) start++;
    while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
    if (start === end) continue;
    const chunk: TextChunk = { text: text.slice(start, end), start, end };
    if (sectioned) chunk.headings = headingsAt(text, structure.headings, paths, start, end);
    chunks.push(chunk);
  }
  return chunks;
}

/** Cut points strictly inside (start, end): a part begins at each. */
type Level = (text: string, start: number, end: number) => number[];

/**
 * LangChain's recursive splitting over spans instead of strings, so every chunk knows
 * its offsets: cut at the coarsest level that has cut points, recurse into parts still
 * too big, and greedily merge neighbouring parts up to the chunk size with overlap.
 */
class SpanSplitter {
  constructor(
    private readonly text: string,
    private readonly size: number,
    private readonly overlap: number,
    private readonly measure: (start: number, end: number) => number,
    private readonly levels: Level[],
    private readonly fences: MarkdownFence[],
  ) {}

  split(start: number, end: number, level: number): Array<[number, number]> {
    if (this.measure(start, end) <= this.size) return [[start, end]];
    for (let l = level; l < this.levels.length; l++) {
      const cuts = (this.levels[l] as Level)(this.text, start, end);
      if (!cuts.length) continue;
      const bounds = [start, ...cuts, end];
      const result: Array<[number, number]> = [];
      let good: Part[] = [];
      for (let i = 0; i + 1 < bounds.length; i++) {
        const s = bounds[i] as number;
        const e = bounds[i + 1] as number;
        if (s === e) continue;
        const len = this.measure(s, e);
        if (len <= this.size) {
          good.push({ start: s, end: e, len });
          continue;
        }
        if (good.length) result.push(...this.merge(good));
        good = [];
        result.push(...this.split(s, e, l + 1));
      }
      if (good.length) result.push(...this.merge(good));
      return result;
    }
    return this.hardCut(start, end);
  }

  /** Greedy packing; the next chunk starts with the last parts that fit in the overlap. */
  private merge(parts: Part[]): Array<[number, number]> {
    const chunks: Array<[number, number]> = [];
    let current: Part[] = [];
    let total = 0;
    for (const part of parts) {
      if (current.length && total + part.len > this.size) {
        const last = current[current.length - 1] as Part;
        chunks.push([(current[0] as Part).start, last.end]);
        while (current.length && (total > this.overlap || total + part.len > this.size)) {
          total -= (current.shift() as Part).len;
        }
        if (!current.length && this.overlap > 0) {
          const tail = this.tailOf(last);
          if (tail && tail.len + part.len <= this.size) {
            current = [tail];
            total = tail.len;
          }
        }
      }
      current.push(part);
      total += part.len;
    }
    if (current.length) chunks.push([(current[0] as Part).start, (current[current.length - 1] as Part).end]);
    return chunks;
  }

  /**
   * When whole parts are too big to serve as overlap (long paragraphs), the overlap is
   * the longest run of whole sentences (else words) at the end of the last part that
   * fits. Never taken from code blocks: a fragment of code would be a cut code block.
   */
  private tailOf(part: Part): Part | undefined {
    if (this.insideFence(part.start, part.end)) return undefined;
    const windowChars = this.measure === charLength ? this.overlap : this.overlap * 8;
    const from = Math.max(part.start + 1, part.end - windowChars);
    const candidates = [
      ...boundaries(this.text, from, part.end, SENTENCE_END),
      ...boundaries(this.text, from, part.end, /\s+/gu),
    ];
    for (const start of candidates) {
      if (isSpace(this.text.charCodeAt(start))) continue;
      const len = this.measure(start, part.end);
      if (len > 0 && len <= this.overlap) return { start, end: part.end, len };
    }
    return undefined;
  }

  private insideFence(start: number, end: number): boolean {
    return fenceOverlapping(this.fences, start, end);
  }

  /** Last resort for a run with no separator at all (a long URL, base64): fixed windows with overlap. */
  private hardCut(start: number, end: number): Array<[number, number]> {
    const chunks: Array<[number, number]> = [];
    let s = start;
    while (s < end) {
      let e = this.fitEnd(s, end);
      if (e < end && isLowSurrogate(this.text.charCodeAt(e)) && e - 1 > s) e--;
      chunks.push([s, e]);
      if (e >= end) break;
      let next = this.measure === charLength ? Math.max(s + 1, e - this.overlap) : e;
      while (next > s + 1 && this.measure(next - 1, e) <= this.overlap) next--;
      if (isLowSurrogate(this.text.charCodeAt(next))) next++;
      s = next > s ? next : e;
    }
    return chunks;
  }

  /** The furthest end such that [start, end) fits in the chunk size (binary search for token counts). */
  private fitEnd(start: number, limit: number): number {
    if (this.measure === charLength) return Math.min(limit, start + this.size);
    let lo = start + 1;
    let hi = limit;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.measure(start, mid) <= this.size) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

interface Part {
  start: number;
  end: number;
  len: number;
}

function charLength(start: number, end: number): number {
  return end - start;
}

/**
 * Heading sections: [start, end) from one heading line to the next. A section with no
 * text besides its heading lines is joined to the next, so "# Title" directly followed
 * by "## Intro" does not become a chunk of its own.
 */
function sections(text: string, headings: MarkdownHeading[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let open = 0;
  let bodySeen = false;
  let pos = 0;
  for (const h of headings) {
    if (text.slice(pos, h.start).trim()) bodySeen = true;
    if (h.start > open && bodySeen) {
      ranges.push([open, h.start]);
      open = h.start;
      bodySeen = false;
    }
    pos = h.end;
  }
  ranges.push([open, text.length]);
  return ranges;
}

/** Fences are sorted and disjoint: index of the first one ending after `pos`, by binary search. */
function firstFenceEndingAfter(fences: MarkdownFence[], pos: number): number {
  let lo = 0;
  let hi = fences.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((fences[mid] as MarkdownFence).end <= pos) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether [start, end) shares any character with a fenced block. */
function fenceOverlapping(fences: MarkdownFence[], start: number, end: number): boolean {
  const f = fences[firstFenceEndingAfter(fences, start)];
  return f !== undefined && f.start < end;
}

/** Whether a cut at `pos` would fall strictly inside a fenced block (its edges are fine). */
function insideFence(fences: MarkdownFence[], pos: number): boolean {
  const f = fences[firstFenceEndingAfter(fences, pos)];
  return f !== undefined && f.start < pos;
}

/**
 * The heading path where the chunk's content begins: leading heading lines are
 * skipped, so a chunk opening with "# A" then "## B" then text is under ["A", "B"].
 */
function headingsAt(
  text: string,
  headings: MarkdownHeading[],
  paths: string[][],
  start: number,
  end: number,
): string[] {
  if (!headings.length) return [];
  let pos = start;
  let lastLeading = -1;
  for (;;) {
    // Heading lines may be indented by up to three spaces, so a line start is found by scanning back.
    let lineStart = pos;
    while (lineStart > 0 && text.charCodeAt(lineStart - 1) !== 10) lineStart--;
    const i = indexOfHeadingAt(headings, lineStart);
    if (i === -1 || text.slice(lineStart, pos).trim()) break;
    lastLeading = i;
    pos = (headings[i] as MarkdownHeading).end;
    while (pos < end && isSpace(text.charCodeAt(pos))) pos++;
  }
  const at = pos < end ? pos : lastLeading >= 0 ? (headings[lastLeading] as MarkdownHeading).start : start;
  // Binary search: the last heading starting at or before `at`.
  let lo = 0;
  let hi = headings.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((headings[mid] as MarkdownHeading).start <= at) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found === -1 ? [] : [...(paths[found] as string[])];
}

function indexOfHeadingAt(headings: MarkdownHeading[], pos: number): number {
  let lo = 0;
  let hi = headings.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = (headings[mid] as MarkdownHeading).start;
    if (s === pos) return mid;
    if (s < pos) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 12 || code === 11 || code === 0xa0;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Line number (0-based) of an offset, by binary search over newline positions. */
function lineLocator(text: string): (offset: number) => number {
  const newlines: number[] = [];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) newlines.push(i);
  return (offset) => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((newlines[mid] as number) < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const SENTENCE_END = /[.!?\u3002\uff01\uff1f\u2026]+["'\u2019\u201d)\]]*\s+/gu;

/** Positions right after each match of `pattern` inside (start, end). */
function boundaries(text: string, start: number, end: number, pattern: RegExp): number[] {
  const re = new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : `${pattern.flags}g`);
  re.lastIndex = start;
  const cuts: number[] = [];
  for (let m = re.exec(text); m && m.index < end; m = re.exec(text)) {
    const cut = m.index + m[0].length;
    if (cut > start && cut < end) cuts.push(cut);
    if (m[0].length === 0) re.lastIndex++;
  }
  return cuts;
}

/** Cut before each occurrence of `separator` (which starts with "\n"), keeping the newline with the previous part. */
function beforeEach(separators: string[]): Level {
  return (text, start, end) => {
    const cuts = new Set<number>();
    for (const sep of separators) {
      for (let i = text.indexOf(sep, start); i !== -1 && i < end; i = text.indexOf(sep, i + 1)) {
        const cut = i + 1;
        if (cut > start && cut < end) cuts.add(cut);
      }
    }
    return [...cuts].sort((a, b) => a - b);
  };
}

const paragraphs: Level = (text, start, end) => boundaries(text, start, end, /\n[ \t\r]*\n\s*/g);
const lines: Level = (text, start, end) => boundaries(text, start, end, /\n/g);
const sentences: Level = (text, start, end) => boundaries(text, start, end, SENTENCE_END);
const words: Level = (text, start, end) => boundaries(text, start, end, /\s+/gu);

function proseLevels(): Level[] {
  return [paragraphs, sentences, lines, words];
}

/**
 * Paragraphs that never cut a fenced block and never leave a heading line on its own
 * (a heading is glued to the block after it), then sentences (not inside code), lines, words.
 */
function markdownLevels(fences: MarkdownFence[], headings: MarkdownHeading[]): Level[] {
  const headingEnds = new Map(headings.map((h) => [h.start, h.end]));
  const onlyHeadings = (text: string, start: number, end: number) => {
    let pos = start;
    while (pos < end) {
      while (pos < end && isSpace(text.charCodeAt(pos))) pos++;
      if (pos >= end) return true;
      let lineStart = pos;
      while (lineStart > start && text.charCodeAt(lineStart - 1) !== 10) lineStart--;
      const headingEnd = headingEnds.get(lineStart);
      if (headingEnd === undefined) return false;
      pos = headingEnd;
    }
    return true;
  };
  const blocks: Level = (text, start, end) => {
    const raw = paragraphs(text, start, end).filter((c) => !insideFence(fences, c));
    for (let i = firstFenceEndingAfter(fences, start); i < fences.length; i++) {
      const f = fences[i] as MarkdownFence;
      if (f.start >= end) break;
      if (f.start > start) raw.push(f.start);
      if (f.end > start && f.end < end) raw.push(f.end);
    }
    const cuts: number[] = [];
    let previous = start;
    for (const cut of [...new Set(raw)].sort((a, b) => a - b)) {
      if (onlyHeadings(text, previous, cut)) continue;
      cuts.push(cut);
      previous = cut;
    }
    return cuts;
  };
  const proseSentences: Level = (text, start, end) =>
    fenceOverlapping(fences, start, end) ? [] : sentences(text, start, end);
  return [blocks, proseSentences, lines, words];
}

/** Extra declaration starts LangChain's "js" list lacks but TypeScript/modern JS files are full of. */
const EXTRA_SEPARATORS: Record<string, string[]> = {
  js: ["\nexport ", "\nasync function ", "\ninterface ", "\ntype ", "\nenum ", "\nabstract class "],
  python: ["\nasync def "],
};

/**
 * Code: all of LangChain's declaration separators for the language as one level (so a
 * chunk holds whole top-level declarations), then blank lines, lines, words.
 */
function codeLevels(language: string): Level[] {
  const known = (SupportedTextSplitterLanguages as readonly string[]).includes(language);
  const separators = known
    ? RecursiveCharacterTextSplitter.getSeparatorsForLanguage(language as SupportedTextSplitterLanguage)
    : [];
  const declarations = [...separators, ...(EXTRA_SEPARATORS[language] ?? [])].filter(
    (s) => s.startsWith("\n") && s.trim().length > 0,
  );
  const levels: Level[] = [];
  if (declarations.length) levels.push(beforeEach(declarations));
  levels.push(paragraphs, lines, words);
  return levels;
}

import { looksLikeTerm } from "../../vectorstores/termLines.js";

/**
 * Plain-text helpers shared by the extractive answerer and the chains: Markdown
 * stripping, sentence splitting and the light tokenisation used for lexical overlap.
 * Everything here only removes or re-spaces characters, never adds words, which is
 * what lets the extractive answerer promise that it quotes its sources.
 */

const STOPWORDS = new Set(
  (
    "a about above after again against all am an and any are as at be because been before being below between both but by " +
    "can could did do does doing down during each few for from further had has have having he her here hers herself him " +
    "himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other " +
    "our ours ourselves out over own same she should so some such than that the their theirs them themselves then there " +
    "these they this those through to too under until up very was we were what when where which while who whom why will " +
    "with would you your yours yourself yourselves also may might must shall us let lets tell please give explain describe " +
    "according many much does doesn't don't isn't aren't wasn't weren't"
  ).split(" "),
);

/** Words that point back to an earlier turn ("what about its population?"). */
const ANAPHORA = new Set([
  "it",
  "its",
  "they",
  "them",
  "their",
  "this",
  "that",
  "these",
  "those",
  "he",
  "she",
  "his",
  "her",
  "him",
  "there",
  "one",
  "ones",
  "former",
  "latter",
]);

/**
 * Lower-cased word tokens (letters, digits, inner apostrophes/hyphens kept; underscores are
 * word characters, so "max_connections" is one name and does not match "max" or "connections").
 */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}_]+(?:['’-][\p{L}\p{N}_]+)*/gu) ?? [];
}

/**
 * A deliberately light stemmer: it folds the commonest English inflections so that
 * "installs", "installed" and "installing" meet "install", without the over-stemming
 * of Porter that would merge unrelated technical terms.
 */
export function lightStem(token: string): string {
  let t = token.replace(/['’]s$/, "");
  if (t.length > 5 && t.endsWith("ing")) t = t.slice(0, -3);
  else if (t.length > 4 && t.endsWith("ed")) t = t.slice(0, -2);
  else if (t.length > 4 && t.endsWith("ies")) t = `${t.slice(0, -3)}y`;
  else if (t.length > 4 && t.endsWith("es") && /(ss|x|ch|sh)es$/.test(t)) t = t.slice(0, -2);
  else if (t.length > 3 && t.endsWith("s") && !t.endsWith("ss")) t = t.slice(0, -1);
  return t;
}

/**
 * Irregular English verb forms folded to their base, so "Who wrote X?" meets "Written by …"
 * and "Who found X?" meets "X was found by …" (lightStem only strips regular endings).
 */
const IRREGULAR: Record<string, string> = Object.fromEntries(
  (
    "write:wrote,written,writes,writing begin:began,begun give:gave,given take:took,taken make:made " +
    "find:found know:knew,known choose:chose,chosen speak:spoke,spoken see:saw,seen build:built send:sent " +
    "hold:held lead:led keep:kept mean:meant become:became grow:grew,grown show:shown draw:drew,drawn " +
    "run:ran buy:bought bring:brought think:thought teach:taught fall:fell,fallen get:got,gotten " +
    "leave:left lose:lost pay:paid sell:sold tell:told win:won"
  )
    .split(" ")
    .flatMap((entry) => {
      const [base, forms] = entry.split(":") as [string, string];
      return forms.split(",").map((form) => [form, base]);
    }),
);

/**
 * A command-line option written with one dash and one character ("-r", "-1"): a name of its
 * own, which the word tokens would reduce to a lone letter and drop.
 */
const SHORT_OPTION = /(?:^|[\s([,'"`])-([\p{L}\p{N}])(?=$|[\s)\],.:;'"`=])/gu;

/**
 * A capital letter standing alone ("the symbol O", "Symbol: U"): a name, which the word tokens
 * would drop as too short. "A" and "I" are words; initials ("C.G. Mosander") are not matched.
 */
const LETTER_NAME = /(?<![\p{L}\p{N}_'’.-])([B-HJ-Z])(?![\p{L}\p{N}_'’-]|\.\p{L})/gu;

/** Greek letters by name: "β-VAE" and "beta-VAE", "β2" and "beta2" are the same term. */
const GREEK: Record<string, string> = {
  α: "alpha",
  β: "beta",
  γ: "gamma",
  δ: "delta",
  ε: "epsilon",
  ζ: "zeta",
  η: "eta",
  θ: "theta",
  ι: "iota",
  κ: "kappa",
  λ: "lambda",
  μ: "mu",
  ν: "nu",
  ξ: "xi",
  π: "pi",
  ρ: "rho",
  σ: "sigma",
  τ: "tau",
  υ: "upsilon",
  φ: "phi",
  χ: "chi",
  ψ: "psi",
  ω: "omega",
};
const GREEK_NAME = new RegExp(`(?<![a-z])(${Object.values(GREEK).join("|")})(?=\\d|-|$)`, "g");

/** A word with its Greek letters spelt as names ("β2" → "beta2"). */
function latinGreek(token: string): string {
  return /[α-ω]/.test(token) ? token.replace(/[α-ω]/g, (c) => GREEK[c] ?? c) : token;
}

/** A word with its Greek letter names written as letters ("beta2" → "β2"), as a corpus may spell it. */
export function greekSpelling(word: string): string {
  return word.toLowerCase().replace(GREEK_NAME, (name) => Object.keys(GREEK).find((c) => GREEK[c] === name) ?? name);
}

/**
 * Content terms: stemmed tokens without stopwords (numbers are kept: they name things), plus
 * short command-line options as "-x" (see SHORT_OPTION).
 */
export function contentTerms(text: string): string[] {
  // "10,000" is "10000".
  const numbers = text.replace(/(\d),(?=\d{3}\b)/g, "$1");
  const terms = wordTokens(numbers)
    .map((t) => latinGreek(t.replace(/['’]s$/, ""))) // "what's" is "what", "BERT's" is "bert"
    .filter((t) => !STOPWORDS.has(t) && (t.length > 1 || /\d/.test(t)))
    .map((t) => IRREGULAR[t] ?? lightStem(t));
  for (const match of text.matchAll(SHORT_OPTION)) terms.push(`-${match[1]}`);
  for (const match of text.matchAll(LETTER_NAME)) terms.push((match[1] as string).toLowerCase());
  return terms;
}

/** True for a term contentTerms made of a short option ("-r"): no word index knows it. */
export function isOptionTerm(term: string): boolean {
  return term.startsWith("-");
}

/** True when the question leans on an earlier turn (pronoun or almost no content of its own). */
export function looksLikeFollowUp(question: string): boolean {
  const tokens = wordTokens(question);
  if (tokens.some((t) => ANAPHORA.has(t))) return true;
  return contentTerms(question).length < 2;
}

const FENCE = /^(```|~~~)/;

/**
 * Whether a passage begins inside a code block: a chunk or a window of chunks may be cut out of
 * the middle of one (an ASCII graph, a listing), and then its first fence closes the block rather
 * than opening one; read as an opening, it hides the prose after it and quotes the code before it.
 * The first fence is taken to close a block when the fences are odd in number and the text before
 * the first reads less like prose than the text after the last (one end of the passage is inside a
 * block, and it is that one), or when the lines before it are mostly symbols (a graph or a table
 * drawn in characters) and the lines after it read more like prose.
 */
export function startsInFence(lines: string[]): boolean {
  const fences = lines.flatMap((line, i) => (FENCE.test(line.trim()) ? [i] : []));
  const [first, second] = fences;
  if (first === undefined) return false;
  const before = lines.slice(0, first);
  if (fences.length % 2 === 1) return proseShare(before) < proseShare(lines.slice((fences.at(-1) as number) + 1));
  return symbolShare(before) >= 0.5 && proseShare(lines.slice(first + 1, second)) > proseShare(before);
}

/** The share of a text's non-blank lines that are mostly symbols rather than letters ("|    :#", "0 +----->ki"). */
function symbolShare(lines: string[]): number {
  const filled = lines.map((l) => l.replace(/\s/g, "")).filter((l) => l !== "");
  if (filled.length === 0) return 0;
  return filled.filter((l) => (l.match(/\p{L}/gu)?.length ?? 0) < l.length / 2).length / filled.length;
}

/** The share of a text's non-blank lines that read as prose (a few words ending a sentence). */
function proseShare(lines: string[]): number {
  const filled = lines.map((l) => l.trim()).filter((l) => l !== "");
  if (filled.length === 0) return 1;
  const prose = filled.filter((l) => wordTokens(l).length >= 4 && /[.!?:;,]$|[.!?]\s/.test(l));
  return prose.length / filled.length;
}

/**
 * Markdown (and Markdown-ish PDF/HTML text) → prose blocks. Headings, table rows,
 * code blocks and images are dropped as answer material; list items become their own
 * blocks; emphasis, inline code ticks, link targets and HTML tags are removed.
 */
export function markdownToBlocks(text: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  let inFence = startsInFence(lines);
  const flush = () => {
    if (current.length > 0) blocks.push(current.join(" "));
    current = [];
  };
  for (const rawLine of lines) {
    const line = rawLine.trim();
    if (/^(```|~~~)/.test(line)) {
      inFence = !inFence;
      flush();
      continue;
    }
    if (inFence) continue;
    if (line === "") {
      flush();
      continue;
    }
    if (
      /^#{1,6}(\s|$)/.test(line) ||
      /^\|.*\|$/.test(line) ||
      /^[-=*_]{3,}$/.test(line) ||
      /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$/.test(line)
    ) {
      flush();
      continue;
    }
    let body = line.replace(/^>\s?/, "");
    const bullet = /^([-*+•]|\d{1,3}[.)])\s+/.exec(body);
    if (bullet) {
      flush();
      body = body.slice(bullet[0].length);
    }
    body = stripInlineMarkdown(body);
    if (body.trim() !== "") current.push(body.trim());
    // A list item is a unit of its own, even when the next line continues the list.
    if (bullet) flush();
  }
  flush();
  return blocks.map((b) => b.replace(/\s+/g, " ").trim()).filter((b) => b.length > 0);
}

/**
 * An HTML tag left in Markdown ("<br>", "<kbd>", "</span>", "<a href=…>"): only the names HTML
 * has, so a placeholder written in angle brackets ("--alignment=<number>", "<file>") stays text.
 */
const HTML_TAG = new RegExp(
  `</?(?:${"a abbr b big blockquote br cite code del details dfn div em font hr i img ins kbd mark p pre q s samp small span strike strong sub summary sup table tbody td th thead tr tt u var wbr".split(" ").join("|")})(?:\\s[^<>]*)?/?>`,
  "gi",
);

function stripInlineMarkdown(line: string): string {
  return line
    .replace(/!\[[^\]]*\]\([^)]*\)/g, " ")
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
    .replace(HTML_TAG, " ")
    .replace(/(\*\*|__)(.+?)\1/g, "$2")
    .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,;:!?]|$)/g, "$1$2")
    .replace(/`([^`]*)`/g, "$1")
    .replace(/\s-\s*$/, "");
}

const ABBREVIATION = /\b(e\.g|i\.e|etc|vs|cf|fig|no|dr|mr|mrs|ms|prof|inc|ltd|approx|st|jr|sr|al)\.$/i;

// Built at first use: creating it loads ICU's sentence rules (tens of ms), which importing genera should not pay.
let segmenter: Intl.Segmenter | undefined;

/** Sentences of one prose block; abbreviations such as "e.g." do not end a sentence. */
export function splitSentences(block: string): string[] {
  const out: string[] = [];
  segmenter ??= new Intl.Segmenter("en", { granularity: "sentence" });
  for (const { segment } of segmenter.segment(block)) {
    const s = segment.trim();
    if (s === "") continue;
    const previous = out[out.length - 1];
    // "Martin H. Klaproth", "A.F. Cronstedt": an initial does not end a sentence.
    if (
      previous !== undefined &&
      (ABBREVIATION.test(previous) || /(?:^|[\s.])\p{Lu}\.$/u.test(previous) || /^[a-z]/.test(s))
    ) {
      out[out.length - 1] = `${previous} ${s}`;
    } else {
      out.push(s);
    }
  }
  return out;
}

/** All sentences of a (possibly Markdown) text, in reading order. */
export function textToSentences(text: string): string[] {
  return markdownToBlocks(text).flatMap(splitSentences);
}

/**
 * textToSentences, with the first sentence under each Markdown heading carrying that
 * heading's text: a section's opening sentence usually says what its heading names
 * ("## HNSW" / "Hierarchical Navigable Small World graphs … are the most widely used
 * ANN index."), though it rarely repeats the heading's words.
 */
export function sentencesUnderHeadings(text: string): Array<{ sentence: string; heading?: string }> {
  const sections: Array<{ heading?: string; lines: string[] }> = [{ lines: [] }];
  let inFence = false;
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    const trimmed = line.trim();
    if (/^(```|~~~)/.test(trimmed)) inFence = !inFence;
    const heading = inFence ? null : /^#{1,6}\s+(.+?)\s*#*$/.exec(trimmed);
    if (heading) sections.push({ heading: stripInlineMarkdown(heading[1] as string), lines: [] });
    else (sections[sections.length - 1] as { lines: string[] }).lines.push(line);
  }
  return sections.flatMap(({ heading, lines }) =>
    textToSentences(lines.join("\n")).map((sentence, i) => ({ sentence, heading: i === 0 ? heading : undefined })),
  );
}

/** One quotable piece of a passage: a prose sentence, a "Field: value" line or a table row. */
export interface AnswerUnit {
  text: string;
  /** "item": a short list item ("- Edge 12") that states one fact without being a sentence. */
  kind: "sentence" | "field" | "row" | "item";
  /** The heading of the section this unit opens (first unit under a heading only). */
  heading?: string;
  /** The heading of the section this unit is in (every unit under it). */
  section?: string;
  /** A table row's column names (its table's header row), when the table has one. */
  label?: string;
  /**
   * The short line this unit's paragraph sits under, like a definition-list term
   * ("max_connections (integer)" above "The default is typically 100 connections."): what the
   * unit is about when it does not say so itself.
   */
  topic?: string;
  /** True when `topic` is the first field of this field's record ("model: GPT-3" above "parameters: 175B"). */
  record?: boolean;
  /** The code line a sentence ending in a colon introduces, quoted after it (see introduceCode); part of `text`. */
  code?: string;
  /** Position in the passage, in reading order. */
  position: number;
}

/** "Default: 100", "- Initial value: `normal`": a short key, a colon, a value, on one line. */
const FIELD_LINE = /^(?:[-*+•]\s+)?([^\s:|`][^:|]{0,40}?):\s+(\S.*)$/;
const MAX_FIELD_LINE = 160;
/** A block of fields is a record when its first field's value is a name of at most this many words. */
const RECORD_NAME_WORDS = 5;

function tableCells(line: string): string[] | undefined {
  // "--gen-suppressions=<yes|no|all>", "--free-is-write=no | yes": an option's alternatives, not cells.
  if (OPTION_ASSIGNMENT.test(line.trim())) return undefined;
  const trimmed = line.trim().replace(/^\|/, "").replace(/\|$/, "");
  // Pipes inside brackets ("[a|b]", "<x|y>") separate alternatives within one cell.
  const cells = splitOutsideBrackets(trimmed).map((c) => c.trim());
  return cells.length >= 2 && /\S\s*\|\s*\S/.test(line) ? cells : undefined;
}

/** A command-line option given a value ("--log-file=<filename>", "-Dname=value"): a term line, never a table row. */
const OPTION_ASSIGNMENT = /^--?[\p{L}\p{N}][\w-]*=/u;

/**
 * `text` split at its pipes, except those inside a bracketed group ("[a|b]", "(x|y)", "<yes|no>";
 * an angle group has no spaces, so "a < b | c > d" still splits).
 */
function splitOutsideBrackets(text: string): string[] {
  const masked = text.replace(/\[[^[\]]*\]|\([^()]*\)|\{[^{}]*\}|<[^<>\s]*>/g, (group) =>
    group.replace(/\|/g, "\u0000"),
  );
  return masked.split("|").map((cell) => cell.replaceAll("\u0000", "|"));
}

const isTableSeparator = (line: string) => /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$/.test(line.trim());

/**
 * The answer units of a (possibly Markdown) passage, in reading order: prose sentences as
 * {@link sentencesUnderHeadings} gives them, plus lines that state one fact on their own —
 * "Key: value" fields and table rows (pipe-separated, as Markdown and the HTML loader write
 * them), each carrying its table's header as `label` so "storage size" finds "8 bytes" in the
 * "Storage Size" column. `section` starts as the given heading (where the passage begins) and
 * follows the passage's own headings. Code blocks are never units. Units are quoted verbatim apart from
 * inline Markdown markup.
 */
export function answerUnits(text: string, section?: string): AnswerUnit[] {
  const units: AnswerUnit[] = [];
  let prose: string[] = [];
  let heading: string | undefined;
  let inFence = false;
  let header: string[] | undefined;
  let previousRow: string[] | undefined;
  let topic: string | undefined;
  // The first field of a block of fields names the record the others describe ("model: GPT-3"
  // above "parameters: 175B"): a record's fields are about it, as a paragraph is about its term line.
  let record: string | undefined;
  let inRecord = false;
  const push = (unit: Omit<AnswerUnit, "position">) => {
    const about = unit.kind === "field" && inRecord && record !== undefined && unit.text !== record ? record : topic;
    units.push({
      ...unit,
      ...(heading !== undefined ? { heading } : {}),
      ...(about !== undefined && unit.text !== about ? { topic: about } : {}),
      ...(about !== undefined && about === record && about !== topic ? { record: true } : {}),
      ...(section !== undefined ? { section } : {}),
      position: units.length,
    });
    heading = undefined;
  };
  // The line of a one-line code block just read: "This will print out the current backtrace." right
  // below "callgrind_control -b" is about that line, as a paragraph is about its term line.
  let shown: string | undefined;
  const flushProse = () => {
    if (prose.length === 0) return;
    const text = prose.join("\n");
    // A paragraph that is one short line without a full stop is a term the next paragraphs explain.
    const term = prose.length === 1 && looksLikeTerm(text.trim()) ? stripInlineMarkdown(text.trim()) : undefined;
    for (const [k, sentence] of textToSentences(text).entries()) {
      if (k === 0 && shown !== undefined && REFERS_BACK.test(sentence)) {
        const own = topic;
        topic = shown;
        push({ text: sentence, kind: "sentence" });
        topic = own;
      } else push({ text: sentence, kind: "sentence" });
    }
    if (term !== undefined) topic = term;
    shown = undefined;
    prose = [];
  };
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  inFence = startsInFence(lines);
  for (const [i, rawLine] of lines.entries()) {
    const line = rawLine.trim();
    const wasRecord = inRecord;
    inRecord = false;
    if (/^(```|~~~)/.test(line)) {
      flushProse();
      inFence = !inFence;
      // A one-line block that defines something ("animation = <single-animation>#") states a fact;
      // other code is never quoted.
      const body = lines[i + 1]?.trim() ?? "";
      if (inFence && /^(```|~~~)/.test(lines[i + 2]?.trim() ?? "") && /^[\w-]+\s*(?:=|::=)\s*\S/.test(body)) {
        push({ text: body, kind: "field" });
      } else if (inFence) introduceCode(units, lines, i);
      const oneLine = inFence && /^(```|~~~)/.test(lines[i + 2]?.trim() ?? "") && body.length <= MAX_INTRODUCED_CODE;
      if (inFence) shown = oneLine && body !== "" ? body : undefined;
      continue;
    }
    if (inFence) continue;
    const headingMatch = /^#{1,6}\s+(.+?)\s*#*$/.exec(line);
    if (headingMatch) {
      flushProse();
      topic = undefined;
      shown = undefined;
      heading = stripInlineMarkdown(headingMatch[1] as string);
      section = heading;
      header = undefined;
      previousRow = undefined;
      continue;
    }
    if (line === "") {
      flushProse();
      continue;
    }
    if (isTableSeparator(line)) {
      // The row just above was the header; it is a label, not an answer.
      if (previousRow && units.length > 0 && units[units.length - 1]?.kind === "row") {
        const removed = units.pop() as AnswerUnit;
        if (removed.heading !== undefined) heading = removed.heading;
      }
      header = previousRow;
      continue;
    }
    const cells = tableCells(line);
    if (cells) {
      flushProse();
      // A lone row followed (after blank lines) by rows of as many cells heads them (HTML tables).
      const next = lines.slice(i + 1).find((l) => l.trim() !== "");
      const nextCells = next ? tableCells(next) : undefined;
      if (!previousRow && !header && nextCells && nextCells.length === cells.length && lines[i + 1]?.trim() === "") {
        header = cells;
        previousRow = cells;
        continue;
      }
      const text = stripInlineMarkdown(cells.filter((c) => c !== "").join(" | "));
      const label = header && header.length === cells.length ? stripInlineMarkdown(header.join(" ")) : undefined;
      push({ text, kind: "row", ...(label ? { label } : {}) });
      previousRow = cells;
      continue;
    }
    previousRow = undefined;
    const field = line.length <= MAX_FIELD_LINE ? FIELD_LINE.exec(line) : null;
    // "--alignment=<number> [default: 8]" is a term line: its colon is inside a bracket, not after a key.
    const key = field?.[1] as string;
    if (field && wordTokens(key).length <= 5 && !/[.!?]\s/.test(key) && !/[[(<{][^\])>}]*$/.test(key)) {
      flushProse();
      const text = stripInlineMarkdown(line.replace(/^[-*+•]\s+/, "")).trim();
      // Only a name heads a record: "alphabetic: supported since Chrome 1, …" heads a list of its peers.
      if (!wasRecord) record = wordTokens(field[2] as string).length <= RECORD_NAME_WORDS ? text : undefined;
      inRecord = true;
      push({ text, kind: "field" });
      continue;
    }
    // A short list item on a line of its own ("- Edge 12" under "Browser compatibility") is a fact.
    const item = /^[-*+•]\s+(.+)$/.exec(line);
    const after = lines[i + 1]?.trim() ?? "";
    if (item && looksLikeTerm(item[1] as string) && (after === "" || /^[-*+•]\s/.test(after))) {
      flushProse();
      push({ text: stripInlineMarkdown(item[1] as string).trim(), kind: "item" });
      continue;
    }
    header = undefined;
    prose.push(rawLine);
  }
  flushProse();
  return units;
}

/** A sentence that opens by referring to what was just shown ("This will print …", "It prints …"). */
const REFERS_BACK = /^(?:This|It|That|These|Here)\b/;

/** The longest code line a sentence that introduces it may carry (see introduceCode). */
const MAX_INTRODUCED_CODE = 80;

/**
 * A sentence that ends with a colon right above a code block introduces its first line ("The syntax
 * is as follows:" above "[on_true] if [expression] else [on_false]", "you can observe execution
 * with:" above "callgrind_control -b"): the line is what the sentence says, so the unit carries it.
 * Other code is never quoted.
 */
function introduceCode(units: AnswerUnit[], lines: string[], fence: number): void {
  const last = units[units.length - 1];
  const before =
    lines
      .slice(0, fence)
      .findLast((l) => l.trim() !== "")
      ?.trim() ?? "";
  const code = lines[fence + 1]?.trim() ?? "";
  if (last?.kind !== "sentence" || !last.text.endsWith(":") || !before.endsWith(":")) return;
  if (code === "" || /^(```|~~~)/.test(code) || code.length > MAX_INTRODUCED_CODE) return;
  last.text = `${last.text} ${code}`;
  last.code = code;
}

export { cosineSimilarity } from "../util/cosineSimilarity.js";

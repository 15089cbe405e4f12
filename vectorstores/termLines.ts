/**
 * Term lines: the short lines of reference text that name what the paragraph under them
 * explains — an option ("--num-callers=<number> [default: 12]"), a setting
 * ("max_connections (integer)"), a definition-list entry ("- `-l, --lines number`: Buffer …").
 * A chunk with such a line *owns* that name: a question that asks about the name is answered
 * there, while other chunks merely mention it. The hybrid retriever reads these names for its
 * term boost (see HybridRetriever's `termBoost`).
 */

/**
 * A term is a few words with no sentence end ("max_connections (integer)", "-r, --regex"); options
 * list their choices on it ("--keep-stacktraces=alloc|free|alloc-and-free|… [default: …]").
 */
const MAX_TERM_CHARS = 120;
const MAX_TERM_WORDS = 8;
/** "- `-l, --lines number`: Buffer …": a list item whose quoted term comes before a colon (man pages, Markdown). */
const LIST_TERM = /^[ \t]*[-*+•][ \t]+`([^`\n]{1,120})`[ \t]*:[ \t]+\S/gm;
/** A fenced code block (to its closing fence, or to the end): it holds no terms. */
const FENCED = /(?<=^|\n)[ \t]*(```|~~~)[^\n]*(?:\n[\s\S]*?\n[ \t]*\1[^\n]*|[\s\S]*)/g;
const BLANK_LINE = /\n[ \t]*\n/;
/** A name at the start of a term: an option, an identifier, a word ("--tool", "max_connections", "CASCADE"). */
const NAME = /^-{0,2}[\p{L}\p{N}][\p{L}\p{N}_.-]*/u;

/**
 * Whether a line reads as a term: a few words (a bracketed annotation such as "[default: 8 or 16,
 * depending on the platform]" or "<filename>" counts as part of the term) with no sentence end, not a
 * heading, not a table row ("| bigint | 8 bytes |"; an option's choices "--branch-sim=no|yes" are no row).
 * The answerer reads the same lines as the units that head their paragraph (see textUnits).
 */
export function looksLikeTerm(line: string): boolean {
  return (
    line.length <= MAX_TERM_CHARS &&
    line
      .replace(/\[[^[\]]*\]|<[^<>\s]*>/g, " ")
      .trim()
      .split(/\s+/).length <= MAX_TERM_WORDS &&
    !/[.!?:;]$/.test(line) &&
    !/[.!?]\s/.test(line) &&
    !line.startsWith("#") &&
    !/^\||\s\|\s/.test(line)
  );
}

/**
 * The names a text's term lines define, in reading order: a line standing alone as a paragraph
 * (blank or nothing before it, a blank line and then more text after it) that reads as a term,
 * or a list item whose quoted term comes before a colon. Each alternative of "-a, --all" is a
 * name; the name is the term's first token ("--tool" of "--tool=<toolname> [default: memcheck]",
 * "max_connections" of "max_connections (integer)"). Code blocks hold no terms. A term line at
 * the very end of a text explains nothing there (the next chunk has its paragraph).
 */
export function termLineNames(text: string): string[] {
  if (!mayHaveTermLines(text)) return [];
  let body = text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
  const quoted = body.includes("`");
  // A code block becomes one line that names nothing, so the lines around it keep their neighbours.
  if (body.includes("```") || body.includes("~~~")) body = body.replace(FENCED, "\u0000");
  const names: string[] = [];
  const add = (term: string) => {
    for (const alternative of term.split(/,\s+/)) {
      const name = NAME.exec(alternative.trim())?.[0];
      if (name) names.push(name);
    }
  };
  const paragraphs = body.split(BLANK_LINE);
  // The last paragraph has nothing after it to explain it.
  let last = paragraphs.length - 1;
  while (last > 0 && paragraphs[last]!.trim() === "") last--;
  for (const [i, paragraph] of paragraphs.entries()) {
    if (quoted && paragraph.includes("`")) {
      let listed = false;
      for (const match of paragraph.matchAll(LIST_TERM)) {
        listed = true;
        add(match[1]!);
      }
      if (listed) continue;
    }
    const line = paragraph.trim();
    if (i < last && line !== "" && !line.includes("\n") && looksLikeTerm(line)) add(line);
  }
  return names;
}

/**
 * False for text that can have no term line: neither a blank line (so no paragraph of one line)
 * nor a backquote (so no quoted list term), as most prose chunks; cheap, for callers on a hot path.
 */
export function mayHaveTermLines(text: string): boolean {
  // indexOf is a plain scan; a regex over every prose chunk of every search cost more.
  return text.indexOf("`") >= 0 || ((text.indexOf("\n") >= 0 || text.indexOf("\r") >= 0) && TERM_HINT.test(text));
}

const TERM_HINT = /\n[ \t]*\r?\n|\r[ \t]*\r/;

/**
 * How much of a name a question's terms cover (0–1), both analysed by the same analyser: the
 * share of the name's words that the question has, where a word of at least `minPrefix`
 * characters is also covered by a question term (or two adjacent ones run together) that starts
 * with it — option names abbreviate ("--undef-value-errors" for "undefined value errors",
 * "--branch-sim" for "branch simulation") and run words together ("--keep-stacktraces").
 * Compounds and options the analyser keeps whole ("num-callers", "--tool") are not words here.
 */
export function nameCoverage(nameWords: readonly string[], questionWords: readonly string[], minPrefix = 3): number {
  const words = nameWords.filter(isPlainWord);
  if (words.length === 0) return 0;
  const asked = questionWords.filter(isPlainWord);
  const exact = new Set(asked);
  const joined = asked.slice(1).map((w, i) => asked[i] + w);
  const covered = words.filter(
    (w) =>
      exact.has(w) ||
      (w.length >= minPrefix && (asked.some((q) => q.startsWith(w)) || joined.some((q) => q.startsWith(w)))),
  ).length;
  return covered / words.length;
}

function isPlainWord(term: string): boolean {
  return !/[-_.]/.test(term);
}

/**
 * Term lines: the short lines of reference text that name what the paragraph under them
 * explains — an option ("--num-callers=<number> [default: 12]"), a setting
 * ("max_connections (integer)"), a definition-list entry ("- `-l, --lines number`: Buffer …").
 * A chunk with such a line *owns* that name: a question that asks about the name is answered
 * there, while other chunks merely mention it. The hybrid retriever reads these names for its
 * term boost (see HybridRetriever's `termBoost`).
 */

/** A term is a few words with no sentence end ("max_connections (integer)", "-r, --regex"). */
/** Options list their choices on the term line ("--keep-stacktraces=alloc|free|alloc-and-free|… [default: …]"). */
const MAX_TERM_CHARS = 120;
const MAX_TERM_WORDS = 8;
/** "- `--lines number`: Buffer at least number lines" (man pages, Markdown definition lists). */
const LIST_TERM = /^[-*+•]\s+`([^`]{1,80})`\s*:\s+\S/;
/** A name at the start of a term: an option, an identifier, a word ("--tool", "max_connections", "CASCADE"). */
const NAME = /^-{0,2}[\p{L}\p{N}][\p{L}\p{N}_.-]*/u;

function looksLikeTerm(line: string): boolean {
  return (
    line.length <= MAX_TERM_CHARS &&
    line.split(/\s+/).length <= MAX_TERM_WORDS &&
    !/[.!?:;]$/.test(line) &&
    !/[.!?]\s/.test(line) &&
    !line.startsWith("#") &&
    // A table row ("| bigint | 8 bytes |"), not an option's choices ("--branch-sim=no|yes").
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
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const names: string[] = [];
  let inFence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (/^(```|~~~)/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence || line === "") continue;
    let term: string | undefined;
    const listed = LIST_TERM.exec(line);
    if (listed) term = listed[1];
    else if (
      (i === 0 || lines[i - 1]!.trim() === "") &&
      lines[i + 1]?.trim() === "" &&
      lines.slice(i + 2).some((l) => l.trim() !== "") &&
      looksLikeTerm(line)
    ) {
      term = line;
    }
    if (term === undefined) continue;
    for (const alternative of term.split(/,\s+/)) {
      const name = NAME.exec(alternative.trim())?.[0];
      if (name) names.push(name);
    }
  }
  return names;
}

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

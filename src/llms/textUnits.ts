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

/** Lower-cased word tokens (letters, digits, inner apostrophes/hyphens kept). */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) ?? [];
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

/** Content terms: stemmed tokens without stopwords (numbers are kept: they name things). */
export function contentTerms(text: string): string[] {
  return wordTokens(text)
    .filter((t) => !STOPWORDS.has(t) && (t.length > 1 || /\d/.test(t)))
    .map(lightStem);
}

/** True when the question leans on an earlier turn (pronoun or almost no content of its own). */
export function looksLikeFollowUp(question: string): boolean {
  const tokens = wordTokens(question);
  if (tokens.some((t) => ANAPHORA.has(t))) return true;
  return contentTerms(question).length < 2;
}

/**
 * Markdown (and Markdown-ish PDF/HTML text) → prose blocks. Headings, table rows,
 * code blocks and images are dropped as answer material; list items become their own
 * blocks; emphasis, inline code ticks, link targets and HTML tags are removed.
 */
export function markdownToBlocks(text: string): string[] {
  const blocks: string[] = [];
  let current: string[] = [];
  let inFence = false;
  const flush = () => {
    if (current.length > 0) blocks.push(current.join(" "));
    current = [];
  };
  for (const rawLine of text.replace(/\r\n?/g, "\n").split("\n")) {
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

function stripInlineMarkdown(line: string): string {
  return line
    .replace(/!\[[^\]]*\]\([^)]*\)/g, " ")
    .replace(/\[([^\]]+)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, " ")
    .replace(/(\*\*|__)(.+?)\1/g, "$2")
    .replace(/(^|[\s(])[*_]([^*_\s][^*_]*?)[*_](?=[\s).,;:!?]|$)/g, "$1$2")
    .replace(/`([^`]*)`/g, "$1")
    .replace(/\s-\s*$/, "");
}

const ABBREVIATION = /\b(e\.g|i\.e|etc|vs|cf|fig|no|dr|mr|mrs|ms|prof|inc|ltd|approx|st|jr|sr|al)\.$/i;

const segmenter = new Intl.Segmenter("en", { granularity: "sentence" });

/** Sentences of one prose block; abbreviations such as "e.g." do not end a sentence. */
export function splitSentences(block: string): string[] {
  const out: string[] = [];
  for (const { segment } of segmenter.segment(block)) {
    const s = segment.trim();
    if (s === "") continue;
    const previous = out[out.length - 1];
    if (previous !== undefined && (ABBREVIATION.test(previous) || /^[a-z]/.test(s))) {
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

export { cosineSimilarity } from "../util/cosineSimilarity.js";

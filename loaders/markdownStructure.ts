/** An ATX (`## Title`) or setext (`Title` over `===`) heading, located by char offsets into the text. */
export interface MarkdownHeading {
  /** Offset of the line's first character. */
  start: number;
  /** Offset just past the line (after its newline, or the text's end). */
  end: number;
  level: number;
  text: string;
}

/** A fenced code block (``` or ~~~), from its opening line to just past its closing line. */
export interface MarkdownFence {
  start: number;
  end: number;
}

export interface MarkdownStructure {
  headings: MarkdownHeading[];
  fences: MarkdownFence[];
}

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;

/**
 * One pass over the lines: headings inside fenced code (a `# comment` in a shell
 * snippet) are not headings. An unclosed fence runs to the end, as CommonMark says.
 */
export function markdownStructure(text: string): MarkdownStructure {
  const headings: MarkdownHeading[] = [];
  const fences: MarkdownFence[] = [];
  let fence: { start: number; char: string; length: number } | undefined;
  // The previous line, if it could be the text of a setext heading (a one-line paragraph).
  let candidate: { start: number; text: string } | undefined;
  let previousBlank = true;
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    const lineEnd = nl === -1 ? text.length : nl + 1;
    const line = text.slice(pos, nl === -1 ? text.length : nl).replace(/\r$/, "");
    let nextCandidate: typeof candidate;
    if (fence) {
      const close = line.match(/^ {0,3}(`{3,}|~{3,})[ \t]*$/);
      if (close?.[1] && close[1][0] === fence.char && close[1].length >= fence.length) {
        fences.push({ start: fence.start, end: lineEnd });
        fence = undefined;
      }
    } else {
      const open = line.match(FENCE_OPEN);
      const heading = open ? null : line.match(HEADING);
      const underline = candidate ? SETEXT_UNDERLINE.exec(line) : null;
      if (open?.[1]) {
        fence = { start: pos, char: open[1][0] as string, length: open[1].length };
      } else if (heading?.[1]) {
        const title = cleanHeadingText(heading[2] ?? "");
        if (title) headings.push({ start: pos, end: lineEnd, level: heading[1].length, text: title });
      } else if (candidate && underline?.[1]) {
        const title = cleanHeadingText(candidate.text);
        if (title) {
          headings.push({ start: candidate.start, end: lineEnd, level: underline[1][0] === "=" ? 1 : 2, text: title });
        }
      } else if (previousBlank && line.trim() && !NOT_PARAGRAPH.test(line)) {
        nextCandidate = { start: pos, text: line };
      }
    }
    previousBlank = !line.trim();
    candidate = nextCandidate;
    pos = lineEnd;
  }
  if (fence) fences.push({ start: fence.start, end: text.length });
  return { headings, fences };
}

/** `Title` over `=====` (level 1) or `-----` (level 2). */
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
/**
 * Lines that start something other than a paragraph, so a `---` under them is a rule
 * or list item, not a heading underline. Only one-line paragraphs after a blank line
 * are taken as setext headings: multi-line ones are rare and easy to misread.
 */
const NOT_PARAGRAPH = /^(?: {4,}|\t| {0,3}(?:[-*+>|]|\d+[.)]\s|<))/;

/**
 * Headings of plain text (reStructuredText, Sphinx's and other text renderings of manuals, many
 * README.txt files): a one-line paragraph underlined, and perhaps also overlined, with one
 * punctuation character repeated (`Title` over `=====`, `~~~~~`, `*****`…). As in
 * reStructuredText, levels follow the order in which the styles first appear (an overlined style
 * differs from the same character underlined only). A line of dashes under a paragraph's last
 * line, or under a line that opens a list or a table, is not a heading.
 */
export function underlinedHeadings(text: string): MarkdownHeading[] {
  type Line = { start: number; end: number; text: string };
  const lines: Line[] = [];
  for (let pos = 0; pos < text.length; ) {
    const nl = text.indexOf("\n", pos);
    const end = nl === -1 ? text.length : nl + 1;
    lines.push({ start: pos, end, text: text.slice(pos, nl === -1 ? text.length : nl).replace(/\r$/, "") });
    pos = end;
  }
  const line = (i: number) => lines[i] as Line;
  const blank = (i: number) => i < 0 || !line(i).text.trim();
  const headings: MarkdownHeading[] = [];
  const styles = new Map<string, number>();
  for (let i = 1; i < lines.length; i++) {
    const rule = line(i).text.trim();
    const char = UNDERLINE.exec(line(i).text)?.[1];
    const title = line(i - 1).text;
    const words = title.trim();
    if (!char || !words || words.length > MAX_UNDERLINED_TITLE || UNDERLINE.test(title) || TEXT_NOT_TITLE.test(title)) {
      continue;
    }
    if (rule.length < Math.min(3, words.length) || rule.length < 0.75 * words.length) continue;
    const over = i >= 2 && line(i - 2).text.trim() === rule;
    if (!(over ? blank(i - 3) : blank(i - 2))) continue;
    const style = `${char}${over ? "+over" : ""}`;
    if (!styles.has(style)) styles.set(style, Math.min(6, styles.size + 1));
    headings.push({
      start: line(over ? i - 2 : i - 1).start,
      end: line(i).end,
      level: styles.get(style) as number,
      text: words,
    });
  }
  return headings;
}

/** One punctuation character repeated at least three times, alone on its line. */
const UNDERLINE = /^([!-/:-@[-`{-~])\1{2,}[ \t]*$/;
/** Longer lines are prose that happens to sit above a rule. */
const MAX_UNDERLINED_TITLE = 120;
/** Indented lines, list items, quotes and table rows. */
const TEXT_NOT_TITLE = /^(?: {4,}|\t| {0,3}(?:[-*+>|]\s|\d+[.)]\s))|\|/;

/**
 * Heading text without inline Markdown: `**Bold** [link](url) \`code\`` → `Bold link code`.
 * Only paired emphasis markers go, and `_` only at word edges (CommonMark: `d_k`,
 * `snake_case` and `__init__` in code keep their underscores); code spans are kept verbatim.
 */
export function cleanHeadingText(raw: string): string {
  return raw
    .split(/(`+)(.+?)\1/)
    .map((part, i) => {
      // split() with two groups yields [text, ticks, code, text, ticks, code, …].
      if (i % 3 === 1) return "";
      if (i % 3 === 2) return part;
      return part
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/<[^>]+>/g, "")
        .replace(/(\*{1,3})(?=\S)(.*?\S)\1/g, "$2")
        .replace(/(^|[^\p{L}\p{N}_])(_{1,3})(?=\S)(.*?\S)\2(?![\p{L}\p{N}_])/gu, "$1$3");
    })
    .join("")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * The heading path in force at each heading: `paths[i]` for `headings[i]`, e.g.
 * ["Attention", "Scaled dot-product"]. A level-3 heading under a level-1 heading
 * (skipping level 2) simply nests one deeper.
 */
export function headingPaths(headings: MarkdownHeading[]): string[][] {
  const stack: MarkdownHeading[] = [];
  return headings.map((h) => {
    while (stack.length && (stack[stack.length - 1] as MarkdownHeading).level >= h.level) stack.pop();
    stack.push(h);
    return stack.map((s) => s.text);
  });
}

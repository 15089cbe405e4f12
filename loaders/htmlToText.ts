import { createRequire } from "node:module";
import type { parseDocument as parseDocumentType } from "htmlparser2";

// htmlparser2 loads with the first HTML or DOCX, not with the loaders.
const require = createRequire(import.meta.url);

/** The slice of domhandler's node shape that the renderer reads. */
interface DomNode {
  type: string;
  name?: string;
  data?: string;
  attribs?: Record<string, string>;
  children?: DomNode[];
  parent?: DomNode | null;
}

export interface HtmlText {
  /** Main text, headings as Markdown `#` lines, `<pre>` as fenced code, lists as `- ` lines. */
  text: string;
  /** `<title>`, else `og:title`, else the first `<h1>`; undefined when none. */
  title?: string;
  description?: string;
  lang?: string;
}

/** Never part of the main text. `header`/`footer` are handled separately (see isChrome). */
const DROPPED = new Set([
  "script",
  "style",
  "noscript",
  "template",
  "nav",
  "aside",
  "form",
  "button",
  "select",
  "textarea",
  "input",
  "svg",
  "canvas",
  "iframe",
  "object",
  "embed",
  "head",
  "dialog",
  "menu",
]);

const BLOCKS = new Set([
  "p",
  "div",
  "section",
  "article",
  "main",
  "blockquote",
  "figure",
  "figcaption",
  "ul",
  "ol",
  "dl",
  "table",
  "address",
  "details",
  "summary",
  "header",
  "footer",
  "hr",
  "center",
  "body",
  "html",
  "caption",
  "thead",
  "tbody",
  "tfoot",
]);

const LINES = new Set(["li", "dt", "dd", "tr", "br", "option"]);

/**
 * Main text of an HTML page. When the page has `<main>` (or `role="main"`) or a single
 * `<article>`, only that is read, which drops site chrome that has no landmark tags.
 */
export function htmlToText(html: string): HtmlText {
  // htmlparser2 alone: cheerio (which wraps it) tripled the loaders' import time for selectors we
  // can write as three small tree walks.
  const parseDocument: typeof parseDocumentType = require("htmlparser2").parseDocument;
  const root = parseDocument(html) as unknown as DomNode;
  const meta = (attr: string, value: string): string =>
    clean(findFirst(root, (n) => n.name === "meta" && n.attribs?.[attr] === value)?.attribs?.content ?? "");
  const titleNode = findFirst(root, (n) => n.name === "title");
  const h1 = findFirst(root, (n) => n.name === "h1");
  const title =
    clean(titleNode ? textOf(titleNode, true) : "") ||
    meta("property", "og:title") ||
    clean(h1 ? textOf(h1, true) : "") ||
    undefined;
  const description = meta("name", "description") || meta("property", "og:description") || undefined;
  const lang = findFirst(root, (n) => n.name === "html")?.attribs?.lang || undefined;

  const main = findFirst(root, (n) => n.name === "main" || n.attribs?.role === "main");
  const articles = findAll(root, (n) => n.name === "article");
  const body = findFirst(root, (n) => n.name === "body");
  const rootNodes = main ? [main] : articles.length === 1 ? articles : body ? [body] : [root];
  const out = new TextBuilder();
  for (const node of rootNodes) render(node, out);
  return { text: out.finish(), title, description, lang };
}

/** The first element in document order that matches. */
function findFirst(node: DomNode, match: (n: DomNode) => boolean): DomNode | undefined {
  for (const child of node.children ?? []) {
    if (child.type !== "tag" && child.type !== "script" && child.type !== "style") continue;
    if (match(child)) return child;
    const found = findFirst(child, match);
    if (found) return found;
  }
  return undefined;
}

function findAll(node: DomNode, match: (n: DomNode) => boolean, into: DomNode[] = []): DomNode[] {
  for (const child of node.children ?? []) {
    if (child.type !== "tag") continue;
    if (match(child)) into.push(child);
    findAll(child, match, into);
  }
  return into;
}

function clean(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * Navigation bars without landmark tags: ARIA roles, and the `navheader`/`navfooter` blocks
 * DocBook's HTML writes atop and below every page of a manual ("Prev | Up | Home | Next").
 */
const NAVIGATION_ROLES = new Set(["navigation", "banner", "contentinfo"]);
const NAVIGATION_CLASSES = /(?:^|\s)(?:navheader|navfooter)(?:\s|$)/;

/**
 * A page's own table of contents (DocBook's `toc` blocks, `role="doc-toc"`) repeats every heading
 * of the page without its text: a chunk of it matches any question about the page better than the
 * section that answers it.
 */
const TOC_CLASSES = /(?:^|\s)toc(?:\s|$)/;

/** Page-level header/footer are chrome; a header inside an article usually holds its title. */
function isChrome(node: DomNode): boolean {
  if (NAVIGATION_ROLES.has(node.attribs?.role ?? "") || NAVIGATION_CLASSES.test(node.attribs?.class ?? "")) return true;
  if (TOC_CLASSES.test(node.attribs?.class ?? "") || node.attribs?.role === "doc-toc") return true;
  if (isAnchorIndex(node)) return true;
  if (node.name !== "header" && node.name !== "footer") return false;
  for (let p = node.parent; p; p = p.parent) {
    if (p.name === "article" || p.name === "main" || p.attribs?.role === "main") return false;
  }
  return true;
}

/**
 * A list that is nothing but links to places on a page (an FAQ's list of its questions, a
 * chapter's contents): every item is one link to a `#fragment`, and the links are the text.
 */
function isAnchorIndex(node: DomNode): boolean {
  if (node.name !== "ul" && node.name !== "ol" && node.name !== "dl") return false;
  const links = findAll(node, (n) => n.name === "a" && (n.attribs?.href ?? "").includes("#"));
  if (links.length < 2) return false;
  const linked = links.reduce((sum, a) => sum + clean(textOf(a)).length, 0);
  const all = clean(textOf(node)).replace(/[\d.\s]+/g, " ").length;
  // Item numbers ("1.1.") are not text of their own.
  return linked >= 0.8 * all;
}

/** A heading's permalink ("¶" in Sphinx, "§", "#") is not part of its text. */
const PERMALINK_MARKS = new Set(["¶", "§", "#", "🔗", "⚓"]);
function isPermalink(node: DomNode): boolean {
  if (node.name !== "a") return false;
  const text = (node.children ?? []).map((c) => (c.type === "text" ? (c.data ?? "") : "")).join("");
  return PERMALINK_MARKS.has(clean(text));
}

/** Blocks that a data cell never holds; paragraphs are counted instead (Word's cells each wrap their text in one). */
const BLOCK_CONTENT = new Set(["pre", "ul", "ol", "dl", "table", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"]);

/**
 * Whether an element holds more than a line of text: a code block, a list, a table, a heading, or
 * several paragraphs (a layout table's cell does; a data cell, even one wrapped in a `<p>`, does not).
 */
function holdsBlocks(node: DomNode): boolean {
  if (findFirst(node, (n) => BLOCK_CONTENT.has(n.name ?? ""))) return true;
  return findAll(node, (n) => n.name === "p").length > 1;
}

const cellsOf = (row: DomNode): DomNode[] => (row.children ?? []).filter((c) => c.name === "td" || c.name === "th");

/** The header cells of a data table: its `<thead>` row, else a first row of `<th>` only. */
function headerOf(table: DomNode): string[] | undefined {
  const rows = findAll(table, (n) => n.name === "tr").filter((r) => enclosingTable(r) === table);
  const first = rows[0];
  if (!first) return undefined;
  const cells = cellsOf(first);
  const inHead = first.parent?.name === "thead";
  if (!inHead && !(cells.length > 1 && cells.every((c) => c.name === "th"))) return undefined;
  return cells.map((c) => clean(textOf(c)));
}

function enclosingTable(node: DomNode): DomNode | undefined {
  for (let p = node.parent; p; p = p.parent) if (p.name === "table") return p;
  return undefined;
}

/**
 * A data row as it reads on its own: "Field: value" for each cell under a header ("Name: bigint |
 * Storage Size: 8 bytes"), "Field: value" for a row that names its field in a `<th>` ("Symbol: Fe"),
 * else the cells joined by " | ". A chunk holding the row then keeps what each value is.
 */
function rowText(row: DomNode, header: string[] | undefined): string {
  const cells = cellsOf(row);
  const texts = cells.map((c) => clean(textOf(c)));
  if (cells.length === 2 && cells[0]?.name === "th" && cells[1]?.name === "td" && texts[0] && texts[1]) {
    return `${texts[0].replace(/:$/, "")}: ${texts[1]}`;
  }
  const isHeaderRow = header !== undefined && (row.parent?.name === "thead" || cells.every((c) => c.name === "th"));
  if (header && !isHeaderRow && header.length === cells.length && header.length <= MAX_LABELLED_COLUMNS) {
    return texts
      .map((t, i) => (t && header[i] ? `${header[i]}: ${t}` : t))
      .filter(Boolean)
      .join(" | ");
  }
  return texts.filter(Boolean).join(" | ");
}

/** Wider tables keep plain " | " rows: labelling every cell would bury the values. */
const MAX_LABELLED_COLUMNS = 6;

function render(node: DomNode, out: TextBuilder): void {
  if (node.type === "text") {
    out.inline(node.data ?? "");
    return;
  }
  if (node.type !== "tag" && node.type !== "root") return;
  const name = node.name ?? "";
  if (DROPPED.has(name) || isChrome(node) || node.attribs?.hidden !== undefined) return;
  if (node.attribs?.["aria-hidden"] === "true") return;

  if (isPermalink(node)) return;
  const heading = /^h([1-6])$/.exec(name);
  if (heading) {
    const text = clean(textOf(node));
    if (text) out.heading(Number(heading[1]), text);
    return;
  }
  if (name === "pre") {
    const code = findChild(node, "code");
    const language = /(?:^|\s)(?:language|lang)-([\w+-]+)/.exec(code?.attribs?.class ?? "")?.[1] ?? "";
    const body = textOf(node).replace(/^\n/, "").replace(/\s+$/, "");
    if (body) out.block(`\`\`\`${language}\n${body}\n\`\`\``);
    return;
  }
  if (name === "img") {
    const alt = clean(node.attribs?.alt ?? "");
    if (alt) out.inline(` ${alt} `);
    return;
  }
  if (name === "tr") {
    renderRow(node, out);
    return;
  }
  if (name === "dd" && node.parent?.name === "dl") {
    renderDefinition(node, out);
    return;
  }
  if (name === "dt" && isQuestionTerm(node)) {
    out.subheading(clean(textOf(node)));
    return;
  }
  if (name === "br") {
    out.newline();
    return;
  }
  const isBlock = BLOCKS.has(name);
  const isLine = LINES.has(name);
  if (isBlock) out.breakParagraph();
  else if (isLine) out.newline();
  if (name === "li") out.bullet();
  for (const child of node.children ?? []) render(child, out);
  if (isBlock) out.breakParagraph();
  else if (name === "dt") out.endTerm();
  else if (isLine) out.newline();
}

/**
 * An FAQ written as a definition list: a term that asks a question ("How do I …?") over an answer of
 * paragraphs or blocks is the heading of that answer, as a DocBook question row is.
 */
function isQuestionTerm(dt: DomNode): boolean {
  if (!clean(textOf(dt)).endsWith("?")) return false;
  const answer = siblingElement(dt, 1);
  return answer?.name === "dd" && (holdsBlocks(answer) || findFirst(answer, (n) => n.name === "p") !== undefined);
}

/**
 * A table row. A question row of a DocBook Q&A set ("1.1. | How do you pronounce …?") becomes a
 * heading one level under the current one, so every chunk of its answer carries the question; a
 * row whose cells hold paragraphs (a table used for layout) is rendered as those blocks; a data
 * row is one line (see rowText).
 */
function renderRow(row: DomNode, out: TextBuilder): void {
  const cells = cellsOf(row);
  if (/(?:^|\s)question(?:\s|$)/.test(row.attribs?.class ?? "")) {
    out.subheading(clean(cells.map((c) => textOf(c)).join(" ")));
    return;
  }
  if (cells.some(holdsBlocks)) {
    for (const cell of cells) {
      out.breakParagraph();
      for (const child of cell.children ?? []) render(child, out);
      out.breakParagraph();
    }
    return;
  }
  const table = enclosingTable(row);
  const text = rowText(row, table ? out.headerFor(table) : undefined);
  if (text) out.line(text);
}

/**
 * A definition under its term. A short definition of inline text joins its term as "term:
 * definition" (a glossary's "Field: value"); one with paragraphs stays on lines of its own below
 * the term, which keeps the term a line of its own that the answerer reads as the heading of what
 * follows.
 */
function renderDefinition(dd: DomNode, out: TextBuilder): void {
  const text = clean(textOf(dd));
  if (!text) return;
  const term = siblingElement(dd, -1);
  const inline = !findFirst(dd, (n) => n.name === "p" || BLOCK_CONTENT.has(n.name ?? ""));
  if (term?.name === "dt" && inline && text.length <= 120 && out.endsWithTerm()) {
    out.appendToLine(`: ${text}`);
    return;
  }
  out.newline();
  for (const child of dd.children ?? []) render(child, out);
  out.newline();
}

/** The element next to `node` (step 1) or before it (step -1), across whitespace only. */
function siblingElement(node: DomNode, step: 1 | -1): DomNode | undefined {
  const siblings = node.parent?.children ?? [];
  for (let i = siblings.indexOf(node) + step; i >= 0 && i < siblings.length; i += step) {
    const s = siblings[i] as DomNode;
    if (s.type === "tag") return s;
    if (s.type === "text" && (s.data ?? "").trim()) return undefined;
  }
  return undefined;
}

function findChild(node: DomNode, name: string): DomNode | undefined {
  for (const child of node.children ?? []) {
    if (child.name === name) return child;
    const found = findChild(child, name);
    if (found) return found;
  }
  return undefined;
}

/** The text under a node; `all` also reads elements that are never main text (a <title> in <head>). */
function textOf(node: DomNode, all = false): string {
  if (node.type === "text") return node.data ?? "";
  if (!all && node.name && DROPPED.has(node.name)) return "";
  if (isPermalink(node)) return "";
  if (node.name === "br") return "\n";
  return (node.children ?? []).map((child) => textOf(child, all)).join("");
}

/**
 * Collapses inline whitespace the way a browser does while keeping block structure.
 * A space is held back until the next word arrives, so no line ever ends in one and
 * nothing already written has to be edited (appending stays linear on large pages).
 */
class TextBuilder {
  private parts: string[] = [];
  /** The last two characters written: enough to decide on newlines. */
  private tail = "";
  private pendingSpace = false;
  /** A list item's "- " waits for its text: a paragraph opening the item must not detach it. */
  private bulletOpen = false;
  /** The last line written is a definition list's term. */
  private termEnded = false;
  /** Level of the last `<h1>`–`<h6>` written (0 before any), so a question row can nest under it. */
  headingLevel = 0;
  private headers = new Map<DomNode, string[] | undefined>();

  inline(raw: string): void {
    const text = raw.replace(/[\s\u00a0]+/g, " ");
    const core = text.trim();
    if (!core) {
      if (text) this.pendingSpace = true;
      return;
    }
    const lead = (this.pendingSpace || text.startsWith(" ")) && this.tail !== "" && !this.tail.endsWith("\n");
    this.push(lead ? ` ${core}` : core);
    this.pendingSpace = text.endsWith(" ");
  }

  newline(): void {
    this.pendingSpace = false;
    if (this.bulletOpen) return;
    if (this.tail && !this.tail.endsWith("\n")) this.push("\n");
  }

  breakParagraph(): void {
    this.newline();
    if (this.bulletOpen) return;
    if (this.tail && !this.tail.endsWith("\n\n")) this.push("\n");
  }

  bullet(): void {
    if (this.bulletOpen) return;
    this.newline();
    this.push("- ");
    this.bulletOpen = true;
  }

  heading(level: number, text: string): void {
    this.block(`${"#".repeat(level)} ${text}`);
    this.headingLevel = level;
  }

  /** A heading one level under the last `<h1>`–`<h6>` (an FAQ's question), which stays the level. */
  subheading(text: string): void {
    if (text) this.block(`${"#".repeat(Math.min(6, this.headingLevel + 1))} ${text}`);
  }

  /** Marks the line just ended as a definition term (see endsWithTerm). */
  endTerm(): void {
    this.newline();
    this.termEnded = true;
  }

  endsWithTerm(): boolean {
    return this.termEnded;
  }

  /** Continues the line just ended (its line break is taken back). */
  appendToLine(text: string): void {
    if (this.parts.at(-1) === "\n") {
      this.parts.pop();
      this.tail = this.parts.slice(-2).join("").slice(-2);
    }
    this.push(text);
    this.newline();
  }

  /** A table's header cells, read once per table. */
  headerFor(table: DomNode): string[] | undefined {
    if (!this.headers.has(table)) this.headers.set(table, headerOf(table));
    return this.headers.get(table);
  }

  line(text: string): void {
    this.newline();
    this.push(text);
    this.newline();
  }

  block(text: string): void {
    this.breakParagraph();
    this.push(text);
    this.breakParagraph();
  }

  finish(): string {
    return this.parts
      .join("")
      .replace(/\n{3,}/g, "\n\n")
      .trim();
  }

  private push(text: string): void {
    if (text.trim()) {
      this.bulletOpen = false;
    }
    this.termEnded = false;
    this.parts.push(text);
    this.tail = (this.tail + text).slice(-2);
  }
}

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

/** Page-level header/footer are chrome; a header inside an article usually holds its title. */
function isChrome(node: DomNode): boolean {
  if (NAVIGATION_ROLES.has(node.attribs?.role ?? "") || NAVIGATION_CLASSES.test(node.attribs?.class ?? "")) return true;
  if (node.name !== "header" && node.name !== "footer") return false;
  for (let p = node.parent; p; p = p.parent) {
    if (p.name === "article" || p.name === "main" || p.attribs?.role === "main") return false;
  }
  return true;
}

function render(node: DomNode, out: TextBuilder): void {
  if (node.type === "text") {
    out.inline(node.data ?? "");
    return;
  }
  if (node.type !== "tag" && node.type !== "root") return;
  const name = node.name ?? "";
  if (DROPPED.has(name) || isChrome(node) || node.attribs?.hidden !== undefined) return;
  if (node.attribs?.["aria-hidden"] === "true") return;

  const heading = /^h([1-6])$/.exec(name);
  if (heading) {
    const text = clean(textOf(node));
    if (text) out.block(`${"#".repeat(Number(heading[1]))} ${text}`);
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
    const cells = (node.children ?? []).filter((c) => c.name === "td" || c.name === "th");
    const row = cells.map((c) => clean(textOf(c))).filter(Boolean);
    if (row.length) out.line(row.join(" | "));
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
  if (name === "li") out.inline("- ");
  for (const child of node.children ?? []) render(child, out);
  if (isBlock) out.breakParagraph();
  else if (isLine) out.newline();
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
    if (this.tail && !this.tail.endsWith("\n")) this.push("\n");
  }

  breakParagraph(): void {
    this.newline();
    if (this.tail && !this.tail.endsWith("\n\n")) this.push("\n");
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
    this.parts.push(text);
    this.tail = (this.tail + text).slice(-2);
  }
}

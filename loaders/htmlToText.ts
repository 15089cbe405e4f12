import * as cheerio from "cheerio";

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
  const $ = cheerio.load(html);
  const title =
    clean($("head > title").first().text()) ||
    clean($('meta[property="og:title"]').attr("content") ?? "") ||
    clean($("h1").first().text()) ||
    undefined;
  const description =
    clean($('meta[name="description"]').attr("content") ?? "") ||
    clean($('meta[property="og:description"]').attr("content") ?? "") ||
    undefined;
  const lang = $("html").attr("lang") || undefined;

  const main = $("main, [role=main]").first();
  const articles = $("article");
  const rootNodes = (main.length
    ? main.get()
    : articles.length === 1
      ? articles.get()
      : $("body").length
        ? $("body").get()
        : $.root().get()) as unknown as DomNode[];
  const out = new TextBuilder();
  for (const node of rootNodes) render(node, out);
  return { text: out.finish(), title, description, lang };
}

function clean(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** Page-level header/footer are chrome; a header inside an article usually holds its title. */
function isChrome(node: DomNode): boolean {
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

function textOf(node: DomNode): string {
  if (node.type === "text") return node.data ?? "";
  if (node.name && DROPPED.has(node.name)) return "";
  if (node.name === "br") return "\n";
  return (node.children ?? []).map(textOf).join("");
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

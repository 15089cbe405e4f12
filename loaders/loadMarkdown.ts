import { createRequire } from "node:module";
import { Document } from "@langchain/core/documents";
import type { parse as parseYamlType } from "yaml";
import { decodeText } from "./decodeText.js";
import { type FileContext, fileMetadata, fileTitle, RESERVED_METADATA_KEYS } from "./FileContext.js";
import { markdownStructure } from "./markdownStructure.js";

// yaml (190 modules) loads with the first front matter, not with the loaders.
const require = createRequire(import.meta.url);
const parseYaml = (): typeof parseYamlType => require("yaml").parse;

export const MARKDOWN_EXTENSIONS = [".md", ".markdown", ".mdx", ".mdown", ".mkd"];

/**
 * Markdown with optional YAML front matter. The body keeps its `#` heading lines so the
 * splitter can give each chunk its heading path; front-matter fields become metadata.
 * `line` is the file line where the body starts, so chunk line numbers match the file.
 */
export function loadMarkdown(bytes: Uint8Array, ctx: FileContext): Document[] {
  const { text: raw, encoding } = decodeText(bytes, ctx.absPath);
  let body = raw;
  let data: Record<string, unknown> = {};
  let frontMatterError: string | undefined;
  try {
    const parsed = splitFrontMatter(raw);
    body = parsed.content;
    data = parsed.data;
  } catch (error) {
    // A broken front matter should not cost the whole document: index the text, flag the problem.
    frontMatterError = error instanceof Error ? error.message.split("\n")[0] : String(error);
  }
  const isMdx = ctx.relPath.toLowerCase().endsWith(".mdx");
  if (isMdx) body = blankMdxStatements(body);
  if (!body.trim()) return [];

  const prefix = raw.endsWith(body) ? raw.slice(0, raw.length - body.length) : "";
  const firstLine = 1 + countNewlines(prefix);
  const title =
    (typeof data.title === "string" && data.title.trim()) ||
    markdownStructure(body).headings.find((h) => h.level === 1)?.text ||
    fileTitle(ctx);

  const metadata: Record<string, unknown> = { ...fileMetadata(ctx, "markdown", title), encoding, line: firstLine };
  for (const [key, value] of Object.entries(data)) {
    if (RESERVED_METADATA_KEYS.has(key)) continue;
    const plain = toPlainValue(value);
    if (plain !== undefined) metadata[key] = plain;
  }
  if (frontMatterError) metadata.frontMatterError = frontMatterError;
  return [new Document({ pageContent: body, metadata })];
}

/** YAML dates become ISO strings and nested objects are kept only if they are JSON-safe. */
function toPlainValue(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (value === null || ["string", "number", "boolean"].includes(typeof value)) return value;
  if (Array.isArray(value)) return value.map(toPlainValue).filter((v) => v !== undefined);
  if (typeof value === "object") {
    try {
      return JSON.parse(JSON.stringify(value));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * MDX `import`/`export` lines are code, not prose. They are replaced by empty lines
 * (not removed) so line numbers still match the file.
 */
function blankMdxStatements(body: string): string {
  const fences = markdownStructure(body).fences;
  const inFence = (pos: number) => fences.some((f) => pos >= f.start && pos < f.end);
  return body.replace(/^(import|export)\s[^\n]*$/gm, (match, _kw, offset: number) => (inFence(offset) ? match : ""));
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** `---` on the first line, YAML, then a closing `---` line (Jekyll/Hugo/Obsidian front matter). */
const FRONT_MATTER = /^\uFEFF?---[ \t]*\r?\n(?:([\s\S]*?)\r?\n)?---[ \t]*(?:\r?\n|$)/;

function splitFrontMatter(raw: string): { content: string; data: Record<string, unknown> } {
  const match = FRONT_MATTER.exec(raw);
  if (!match) return { content: raw, data: {} };
  // YAML 1.1, as front-matter tools read it: unquoted dates are timestamps, yes/no are booleans.
  const data: unknown = match[1]?.trim() ? parseYaml()(match[1], { version: "1.1" }) : {};
  if (data !== null && typeof data !== "object") throw new Error("front matter is not a YAML mapping");
  return { content: raw.slice(match[0].length), data: (data ?? {}) as Record<string, unknown> };
}

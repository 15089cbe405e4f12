/**
 * Where a retrieved passage is and what it writes, for the extractive answerer: its title and
 * heading path, the text it is read with (small-to-big context), and literal checks of names,
 * versions and acronyms against that text.
 */
import type { DocumentInterface } from "@langchain/core/documents";
import { wordTokens } from "./textUnits.js";

/** The title a chunk's document goes by: `title`, else its first heading, else its file name. */
export function titleOf(doc: DocumentInterface): string {
  const m = (doc.metadata ?? {}) as Record<string, unknown>;
  if (typeof m.title === "string" && m.title.trim()) return m.title.trim();
  if (Array.isArray(m.headings) && typeof m.headings[0] === "string" && m.headings[0].trim()) return m.headings[0];
  if (typeof m.source === "string") return (m.source.split(/[\\/]/).pop() ?? "").replace(/\.[^.]+$/, "");
  return "";
}

/** Title and heading path: where a passage is, which its sentences need not repeat. */
export function scopeText(doc: DocumentInterface): string {
  const m = (doc.metadata ?? {}) as Record<string, unknown>;
  const headings = Array.isArray(m.headings) ? m.headings.filter((h) => typeof h === "string") : [];
  return [titleOf(doc), ...headings].join("\n");
}

/** The section a chunk's text begins in (its last heading), unless it is read with wider context. */
export function startSection(doc: DocumentInterface): string | undefined {
  const m = (doc.metadata ?? {}) as Record<string, unknown>;
  if (typeof m.context === "string" && m.context.trim() !== "") return undefined;
  const headings = Array.isArray(m.headings) ? m.headings.filter((h) => typeof h === "string") : [];
  return headings.length > 1 ? headings[headings.length - 1] : undefined;
}

export function passageText(doc: DocumentInterface): string {
  const context = doc?.metadata?.context;
  if (typeof context === "string" && context.trim() !== "") return context;
  return typeof doc?.pageContent === "string" ? doc.pageContent : "";
}

/** Whether `text` spells out the acronym `term` ("llm" in "large language models"). */
export function spellsOut(term: string, text: string): boolean {
  if (!/^[a-z]{2,6}$/.test(term)) return false;
  const initials = wordTokens(text)
    .flatMap((w) => w.split("-"))
    .map((w) => w[0])
    .join("");
  return initials.includes(term);
}

/** `text` as a regular expression that matches it literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Whether `text` writes the words of a name together, in order. */
export function writesPhrase(text: string, words: string[]): boolean {
  return new RegExp(`(?<![\\p{L}\\p{N}])${words.map(literal).join("[\\s_-]+")}(?![\\p{L}\\p{N}])`, "iu").test(text);
}

/** Whether `text` writes a name with its version ("Stable Diffusion 3", "Llama-2", "GPT3"). */
export function writesVersion(text: string, [name, version]: [string, string]): boolean {
  return new RegExp(
    `(?<![\\p{L}\\p{N}])${literal(name)}[\\s-]?${literal(version)}(?![\\p{N}.]\\p{N}|\\p{N})`,
    "iu",
  ).test(text);
}

/** The sentence's offsets in its source document, when the passage knows where it starts and the sentence is verbatim. */
export function spanOf(sentence: string, doc: DocumentInterface): { startChar?: number; endChar?: number } {
  const m = (doc?.metadata ?? {}) as Record<string, unknown>;
  const context = typeof m.context === "string" ? m.context : undefined;
  const text = context ?? doc?.pageContent ?? "";
  const base = context !== undefined ? m.contextStartChar : m.startChar;
  if (typeof base !== "number") return {};
  const at = locate(sentence, text);
  return at === undefined ? {} : { startChar: base + at[0], endChar: base + at[1] };
}

/**
 * Where a quoted sentence lies in the text it was read from: verbatim, or with the markup and
 * spacing the answerer left out ("*adaptive moment estimation*", a line break) between its words.
 */
export function locate(sentence: string, text: string): [number, number] | undefined {
  const at = text.indexOf(sentence);
  if (at >= 0) return [at, at + sentence.length];
  const words = sentence.match(/[\p{L}\p{N}]+/gu);
  if (!words) return undefined;
  const match = new RegExp(words.map(literal).join("[^\\p{L}\\p{N}]+"), "u").exec(text);
  if (!match) return undefined;
  // The sentence's own closing punctuation, when the text has it there too.
  const last = sentence.at(-1) ?? "";
  const end = match.index + match[0].length;
  return [match.index, /[.!?:;)]/.test(last) && text[end] === last ? end + 1 : end];
}

/** A neighbouring chunk of a passage's context window, as the retriever lists it (`contextParts`). */
export interface QuotedChunk {
  id: string;
  text: string;
  headings: string[];
}

/**
 * The neighbouring chunk a sentence quoted from a passage's context window lies in, so the quote
 * is cited with that chunk's own text and section ("› Adam", not the retrieved chunk's "› AdamW");
 * undefined when the sentence lies in the retrieved chunk itself, or its window is not known.
 */
export function quotedChunk(sentence: string, doc: DocumentInterface): QuotedChunk | undefined {
  const m = (doc?.metadata ?? {}) as Record<string, unknown>;
  if (typeof m.context !== "string" || !Array.isArray(m.contextParts)) return undefined;
  if (locate(sentence, doc.pageContent) !== undefined) return undefined;
  const span = locate(sentence, m.context);
  if (span === undefined) return undefined;
  const [at, end] = span;
  // Chunks may overlap: the first one holding the whole sentence, else the one it begins in.
  const parts = m.contextParts.filter(isPart);
  const part = parts.find((p) => p.start <= at && end <= p.end) ?? parts.find((p) => p.start <= at && at < p.end);
  if (part === undefined || part.id === doc.id || part.id === m.id) return undefined;
  const headings = Array.isArray(part.headings) ? part.headings.filter((h): h is string => typeof h === "string") : [];
  return { id: part.id, text: m.context.slice(part.start, part.end), headings };
}

function isPart(value: unknown): value is { id: string; start: number; end: number; headings?: unknown } {
  const p = value as Record<string, unknown> | null;
  return typeof p?.id === "string" && typeof p.start === "number" && typeof p.end === "number";
}

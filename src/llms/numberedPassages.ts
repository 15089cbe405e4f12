import type { CitedSource } from "./citedSource.js";

/**
 * Numbered passages for a prompt, "[n] (title › heading, p. 3 — file.md)\ntext", separated by
 * blank lines. RAG prompts carry them; parseNumberedPassages reads them back (the extractive
 * chat model answers from them), so the format lives here, once.
 */
export function formatContext(sources: CitedSource[]): string {
  return sources
    .map((s) => {
      // Headings usually start with the document title; print it once.
      const where = [s.title, ...s.headings.filter((h) => h !== s.title)].filter(Boolean).join(" › ");
      const label = [where, s.page !== undefined ? `p. ${s.page}` : undefined].filter(Boolean).join(", ");
      return `[${s.index}] (${label ? `${label} — ` : ""}${s.source})\n${s.text.trim()}`;
    })
    .join("\n\n");
}

/** One passage read back from a prompt. */
export interface NumberedPassage {
  /** The number in its `[n]` header, which an answer cites. */
  index: number;
  text: string;
  /** From a formatContext label: the file, its heading path (title first) and page. */
  source?: string;
  headings: string[];
  page?: number;
}

export interface ParsedPassages {
  passages: NumberedPassage[];
  /** The text around the passages: what comes before the first one, and after a "Question:" line. */
  before: string;
  after: string;
}

const HEADER = /^\s*\[(\d+)\][ \t]*(.*)$/;
const LABEL = /^\((.*)\)$/;
/** A "Question: …" line ends the passage block (prompts that put the question after the context). */
const QUESTION_LINE = /^\s*(?:question|query|q)\s*:/i;

/**
 * Reads the numbered passages in a text: formatContext's output, and also hand-written
 * contexts with the text on the header line ("[1] Paris is the capital of France.").
 * Headers must count up from 1, so a "[12] Vaswani et al." line inside a passage (a
 * bibliography, a footnote) stays part of that passage.
 */
export function parseNumberedPassages(text: string): ParsedPassages {
  const passages: NumberedPassage[] = [];
  const before: string[] = [];
  const after: string[] = [];
  let current: { index: number; label?: string; lines: string[] } | undefined;
  const finish = () => {
    if (current) passages.push(toPassage(current.index, current.label, current.lines.join("\n").trim()));
  };
  let inAfter = false;
  for (const line of text.split(/\r?\n/)) {
    if (inAfter) {
      after.push(line);
      continue;
    }
    const header = HEADER.exec(line);
    if (header && Number(header[1]) === passages.length + (current ? 2 : 1)) {
      finish();
      const rest = (header[2] as string).trim();
      const label = LABEL.exec(rest);
      current = label
        ? { index: Number(header[1]), label: label[1], lines: [] }
        : { index: Number(header[1]), lines: [rest] };
      continue;
    }
    if (current && QUESTION_LINE.test(line)) {
      inAfter = true;
      after.push(line);
      continue;
    }
    (current ? current.lines : before).push(line);
  }
  finish();
  return { passages, before: before.join("\n").trim(), after: after.join("\n").trim() };
}

/** "title › heading, p. 3 — file.md" → source, headings and page; a label without " — " is the source. */
function toPassage(index: number, label: string | undefined, text: string): NumberedPassage {
  const passage: NumberedPassage = { index, text, headings: [] };
  if (label === undefined) return passage;
  const dash = label.lastIndexOf(" — ");
  passage.source = (dash >= 0 ? label.slice(dash + 3) : label).trim();
  if (dash < 0) return passage;
  let where = label.slice(0, dash);
  const page = /,\s*p\.\s*(\d+)$/.exec(where);
  if (page) {
    passage.page = Number(page[1]);
    where = where.slice(0, page.index);
  }
  passage.headings = where
    .split(" › ")
    .map((h) => h.trim())
    .filter(Boolean);
  return passage;
}

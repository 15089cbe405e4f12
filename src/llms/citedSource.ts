import { createHash } from "node:crypto";
import type { DocumentInterface } from "@langchain/core/documents";

/**
 * A retrieved chunk as shown to users next to an answer. `index` is the number used
 * in the answer's citation markers: `[2]` refers to the source whose index is 2.
 */
export interface CitedSource {
  index: number;
  id: string;
  source: string;
  title?: string;
  /** The loader's format ("markdown", "pdf", "code"…), so a viewer knows how to show `text`. */
  format?: string;
  headings: string[];
  page?: number;
  /** Audio: the span of the recording the text was said in, "t=01:23–01:41"; `timeStart` in seconds. */
  timeSpan?: string;
  timeStart?: number;
  /**
   * An image inside a PDF or DOCX: its number there ("image 2"). With `format` "image" the
   * chunk is a picture's caption and OCR text, and a viewer can show the picture itself.
   */
  image?: number;
  score?: number;
  denseScore?: number;
  keywordScore?: number;
  text: string;
}

function finiteOrUndefined(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Maps a retriever document (HybridRetriever metadata) to a numbered source. */
export function toCitedSource(doc: DocumentInterface, index: number): CitedSource {
  const m = (doc.metadata ?? {}) as Record<string, unknown>;
  const source = typeof m.source === "string" ? m.source : "unknown";
  const headings = Array.isArray(m.headings) ? m.headings.filter((h): h is string => typeof h === "string") : [];
  const id =
    typeof m.id === "string" || typeof m.id === "number"
      ? String(m.id)
      : typeof doc.id === "string"
        ? doc.id
        : `${source}#${finiteOrUndefined(m.startChar) ?? createHash("sha1").update(doc.pageContent).digest("hex").slice(0, 12)}`;
  const out: CitedSource = { index, id, source, headings, text: doc.pageContent };
  if (typeof m.title === "string") out.title = m.title;
  if (typeof m.format === "string") out.format = m.format;
  const page = finiteOrUndefined(m.page);
  if (page !== undefined) out.page = page;
  if (typeof m.timeSpan === "string") out.timeSpan = m.timeSpan;
  const timeStart = finiteOrUndefined(m.timeStart);
  if (timeStart !== undefined) out.timeStart = timeStart;
  const image = finiteOrUndefined(m.image);
  if (image !== undefined) out.image = image;
  const score = finiteOrUndefined(m.score);
  if (score !== undefined) out.score = score;
  const denseScore = finiteOrUndefined(m.denseScore);
  if (denseScore !== undefined) out.denseScore = denseScore;
  const keywordScore = finiteOrUndefined(m.keywordScore);
  if (keywordScore !== undefined) out.keywordScore = keywordScore;
  return out;
}

/**
 * "file.md (p. 3 · Setup › Install)", "talk.mp3 (t=01:23–01:41)", "report.pdf (p. 2 · image 1)":
 * the short label the CLI and UI print after `[n]`.
 */
export function formatSourceLabel(source: CitedSource): string {
  const where: string[] = [];
  if (source.page !== undefined) where.push(`p. ${source.page}`);
  if (source.image !== undefined) where.push(`image ${source.image}`);
  if (source.timeSpan !== undefined) where.push(source.timeSpan);
  if (source.headings.length > 0) where.push(source.headings.join(" › "));
  return where.length > 0 ? `${source.source} (${where.join(" · ")})` : source.source;
}

/**
 * Citation numbers used in a text: "[1]", "[2, 3]", "[1][4]" and "[1-3]" are all understood.
 * Returned in order of first use, without duplicates.
 */
export function citedNumbers(text: string): number[] {
  const seen = new Set<number>();
  for (const match of text.matchAll(/\[(\d+(?:\s*[-–,]\s*\d+)*)\]/g)) {
    for (const part of (match[1] as string).split(/\s*,\s*/)) {
      const range = /^(\d+)\s*[-–]\s*(\d+)$/.exec(part);
      if (range) {
        const from = Number(range[1]);
        const to = Number(range[2]);
        for (let n = from; n <= Math.min(to, from + 50); n++) seen.add(n);
      } else {
        seen.add(Number(part));
      }
    }
  }
  return [...seen];
}

import { Document } from "@langchain/core/documents";
import type { ToolMessage } from "@langchain/core/messages";
import type { CitedSource } from "../../llms/citedSource.js";
import { type ExtractiveAnswerer, NO_ANSWER_TEXT } from "../../llms/ExtractiveAnswerer.js";
import { contentTerms, textToSentences } from "../../llms/textUnits.js";
import { messageText } from "../limits.js";

/**
 * The offline model writes no words of its own: an answer is made of the tools' results —
 * quoted sentences with their citation numbers, computed values, dates, file text — joined
 * by a few fixed connecting phrases.
 */

/** A search result's passages: from the message's artifact, else parsed from its text (formatContext's layout). */
export function passagesOf(message: ToolMessage): CitedSource[] {
  const artifact = message.artifact as unknown;
  if (Array.isArray(artifact) && artifact.every((a) => typeof a?.text === "string" && typeof a?.index === "number")) {
    return artifact as CitedSource[];
  }
  const text = messageText(message.content);
  const out: CitedSource[] = [];
  for (const m of text.matchAll(/^\[(\d+)\] \((.*)\)\n([\s\S]*?)(?=\n\n\[\d+\] \(|$(?![\s\S]))/gm)) {
    const label = m[2] as string;
    const source = label.includes(" — ") ? (label.split(" — ").pop() as string) : label;
    out.push({ index: Number(m[1]), id: `${source}#${m[1]}`, source, headings: [], text: (m[3] as string).trim() });
  }
  return out;
}

/** Quoted sentences that answer `query`, each with the [n] of its passage; undefined when none does. */
export async function quotePassages(
  answerer: ExtractiveAnswerer,
  query: string,
  passages: CitedSource[],
): Promise<string | undefined> {
  if (passages.length === 0) return undefined;
  const documents = passages.map(
    (p) => new Document({ pageContent: p.text, metadata: { source: p.source, id: p.id } }),
  );
  const result = await answerer.answer({ question: query, documents });
  if (result.answer === NO_ANSWER_TEXT || result.citations.length === 0) return undefined;
  // The answerer numbers its own sources 1…; the run's numbers are the passages' own.
  const number = (i: number) => passages.find((p) => p.id === result.sources[i - 1]?.id)?.index ?? i;
  return result.citations.map((c) => `${c.sentence.trim()} [${number(c.index)}]`).join(" ");
}

export interface Figure {
  value: string;
  sentence: string;
  source: CitedSource;
}

/**
 * The number a passage gives for `query`: each number in the passages is scored by the
 * query's content words in its sentence and, more, by those within a few words of it
 * (so in "BERT-Base has 12 layers … BERT-Large has 24 layers" the layers of BERT-Large
 * are 24); earlier passages win ties. Years and citation markers are not figures.
 */
export function findFigure(query: string, passages: CitedSource[]): Figure | undefined {
  const wanted = new Set(contentTerms(query));
  const TOKEN = /\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[\p{L}][\p{L}\p{N}]*(?:['’-][\p{L}\p{N}]+)*|\[\d+\]/gu;
  let best: (Figure & { score: number }) | undefined;
  passages.forEach((source, rank) => {
    for (const sentence of textToSentences(source.text)) {
      const tokens = sentence.match(TOKEN) ?? [];
      const terms = tokens.map((t) => (/^[\d[]/.test(t) ? "" : (contentTerms(t)[0] ?? "")));
      const inSentence = new Set(terms.filter((t) => wanted.has(t))).size;
      if (inSentence === 0) continue;
      tokens.forEach((token, i) => {
        if (!/^\d/.test(token) || /^(19|20)\d\d$/.test(token)) return;
        const near = new Set(terms.slice(Math.max(0, i - 4), i + 5).filter((t) => wanted.has(t))).size;
        const score = inSentence + 2 * near - 0.5 * rank;
        if (near > 0 && (!best || score > best.score)) {
          best = { value: token.replace(/,/g, ""), sentence: sentence.trim(), source, score };
        }
      });
    }
  });
  return best ? { value: best.value, sentence: best.sentence, source: best.source } : undefined;
}

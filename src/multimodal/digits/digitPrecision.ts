import type { ImageIndex } from "../ImageIndex.js";
import { DIGIT_NAMES } from "./digitCaptions.js";

export interface DigitPrecision {
  digit: number;
  /** Mean precision@k over the queries (every template × every name of the digit). */
  mean: number;
  /** The worst query's precision@k, and that query. */
  min: number;
  worstQuery: string;
  queries: number;
}

/** The digit a file of examples/digits is: its name starts with `<label>-`. */
export function digitOfSource(source: string): number | undefined {
  const match = /(?:^|\/)(\d)-\d+\.png$/i.exec(source);
  return match ? Number(match[1]) : undefined;
}

/**
 * Precision@k of text-to-image search for each digit: every template is filled with each of
 * the digit's names, searched, and the top k judged by the file names' labels.
 */
export async function digitPrecisionAtK(
  index: ImageIndex,
  templates: readonly string[],
  k = 10,
): Promise<DigitPrecision[]> {
  const out: DigitPrecision[] = [];
  for (let digit = 0; digit < 10; digit++) {
    let total = 0;
    let min = 1;
    let worstQuery = "";
    let queries = 0;
    for (const template of templates) {
      for (const name of DIGIT_NAMES[digit] as readonly string[]) {
        const query = template.replaceAll("{d}", name);
        const hits = await index.search(query, k);
        const precision = hits.filter((h) => digitOfSource(h.source) === digit).length / k;
        total += precision;
        queries++;
        if (precision < min) {
          min = precision;
          worstQuery = query;
        }
      }
    }
    out.push({ digit, mean: total / queries, min, worstQuery, queries });
  }
  return out;
}

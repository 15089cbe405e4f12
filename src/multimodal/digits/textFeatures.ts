import { analyzeText } from "../../../vectorstores/KeywordIndex.js";

/**
 * The digit dual encoder's text input: a bag of hashed features (the hashing trick,
 * Weinberger et al. 2009), so any text maps to a fixed-width vector without a
 * vocabulary file. Each analysed term (the keyword index's analysis: folded, stop
 * words dropped, Porter-stemmed, so "sevens" = "seven") counts once, and its character
 * trigrams share one more unit between them, so a word seen only as part of a longer
 * or misspelt one still lands near it. Numerals are split from the letters around them. The vector is L2-normalised: texts of any
 * length weigh the same.
 */
export function hashedTextFeatures(text: string, buckets: number, out = new Float32Array(buckets)): Float32Array {
  out.fill(0);
  // Numerals stand on their own ("7s" → "7" "s", "3rd" → "3" "rd"): a digit means the same in any suffix.
  const terms = analyzeText(text).flatMap((term) => term.split(/(\d+)/).filter(Boolean));
  for (const term of terms) {
    const at = (fnv1a(`w:${term}`) % buckets) as number;
    out[at] = (out[at] as number) + 1;
    const padded = `<${term}>`;
    const grams = padded.length - 2;
    for (let i = 0; i < grams; i++) {
      const g = fnv1a(`g:${padded.slice(i, i + 3)}`) % buckets;
      out[g] = (out[g] as number) + 1 / grams;
    }
  }
  let norm = 0;
  for (const v of out) norm += v * v;
  if (norm > 0) {
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < buckets; i++) out[i] = (out[i] as number) * scale;
  }
  return out;
}

/** 32-bit FNV-1a: stable across runs and platforms, which shipped weights depend on. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * WordNet synonyms for a request's frame words (Debian's `wordnet-base`, as wordClasses.ts
 * reads it). The tool model misses held-out requests mostly where their frame words ("browse",
 * "described", "what we have on") are words it never met in training; every word it meets
 * there still brings its pretrained vector. Training rows whose frame words are swapped for a
 * synonym teach the model to read a frame word by what its vector means rather than by which
 * of the few training words it is.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { WORDNET_DIR } from "../../src/agents/toolModel/WordLexicon.js";
import { GeneraError } from "../../src/errors.js";

export type SynonymLookup = (word: string) => string[];

const POS = ["verb", "noun", "adj", "adv"] as const;

interface Sense {
  /** How often the word's senses in this part of speech are tagged in the SemCor corpus. */
  tagged: number;
  /** Byte offset of its first (most frequent) sense in data.<pos>. */
  firstSense: number;
}

/** The single-word lemmas of one synset line of a data file. */
function synsetLemmas(data: string, offset: number): string[] {
  const line = data.slice(offset, data.indexOf("\n", offset));
  const fields = line.split(" ");
  const count = Number.parseInt(fields[3] as string, 16);
  const lemmas: string[] = [];
  for (let i = 0; i < count; i++) {
    const lemma = (fields[4 + 2 * i] as string).replace(/\(.*\)$/, "").toLowerCase();
    if (/^[a-z]+$/.test(lemma)) lemmas.push(lemma);
  }
  return lemmas;
}

/** A plural noun's regular form ("file" → "files", "query" → "queries", "box" → "boxes"). */
function plural(noun: string): string {
  if (/[^aeiou]y$/.test(noun)) return `${noun.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(noun)) return `${noun}es`;
  return `${noun}s`;
}

/**
 * The other lemmas of a word's first sense in its most used part of speech (SemCor counts):
 * "show" → demo, exhibit, present, demonstrate. A regular plural noun gets plural synonyms.
 * Verb forms other than the base are left alone (no inflection is guessed).
 */
export function wordNetSynonyms(dir = WORDNET_DIR): SynonymLookup {
  if (!existsSync(join(dir, "index.noun"))) {
    throw new GeneraError(
      "NOT_FOUND",
      `tool data: WordNet is not at ${dir} (frame synonyms come from it): apt-get install wordnet-base`,
    );
  }
  const senses = new Map<string, Map<(typeof POS)[number], Sense>>();
  const data = new Map<string, string>();
  for (const pos of POS) {
    // Data files address synsets by byte offset; latin1 keeps one character per byte.
    data.set(pos, readFileSync(join(dir, `data.${pos}`), "latin1"));
    for (const line of readFileSync(join(dir, `index.${pos}`), "utf8").split("\n")) {
      if (line.startsWith(" ") || !line) continue;
      const fields = line.trim().split(" ");
      const lemma = fields[0] as string;
      if (!/^[a-z]+$/.test(lemma)) continue;
      const pointers = Number(fields[3]);
      const tagged = Number(fields[5 + pointers]);
      const firstSense = Number(fields[6 + pointers]);
      if (!senses.has(lemma)) senses.set(lemma, new Map());
      senses.get(lemma)?.set(pos, { tagged, firstSense });
    }
  }
  const cache = new Map<string, string[]>();
  const lookup = (lemma: string): { pos: (typeof POS)[number]; lemmas: string[] } | undefined => {
    const byPos = senses.get(lemma);
    if (!byPos) return undefined;
    let best: [(typeof POS)[number], Sense] | undefined;
    for (const [pos, sense] of byPos) if (!best || sense.tagged > best[1].tagged) best = [pos, sense];
    if (!best) return undefined;
    const [pos, sense] = best;
    return { pos, lemmas: synsetLemmas(data.get(pos) as string, sense.firstSense).filter((l) => l !== lemma) };
  };
  return (word) => {
    const w = word.toLowerCase();
    const hit = cache.get(w);
    if (hit) return hit;
    let out = lookup(w)?.lemmas ?? [];
    if (!senses.has(w) && /s$/.test(w)) {
      // A regular plural: "files" → "file" → its noun synonyms, made plural again.
      for (const stem of [w.slice(0, -1), w.replace(/es$/, ""), w.replace(/ies$/, "y")]) {
        const found = lookup(stem);
        if (found?.pos === "noun" && plural(stem) === w) {
          out = found.lemmas.map(plural);
          break;
        }
      }
    }
    cache.set(w, out);
    return out;
  };
}

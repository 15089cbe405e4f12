/**
 * Word classes for the tool model's made-up values, from WordNet (Debian's `wordnet-base`,
 * installed by `.ci/run`). Real search topics are noun phrases, names and technical terms;
 * made-up topics drawn from every word class ("the hopefully", "explained") taught the model
 * that a frame's verb or connective may be part of a topic, which is how "what are the docs
 * saying on X" and "how does X work" came to keep "saying" and "work".
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GeneraError } from "../../src/errors.js";

export const WORDNET_DIR = "/usr/share/wordnet";

export interface WordClasses {
  /** Nouns (singular lemmas and their regular plurals) that are never verbs or adverbs. */
  isTopicNoun(word: string): boolean;
  /** Words that are only adjectives, and do not read as a verb's participle or an adverb. */
  isModifier(word: string): boolean;
  /** Adverbs and verb forms that are never nouns: words that sit in a frame, around a topic. */
  isFrameWord(word: string): boolean;
  /** Verbs in their base form that are never nouns or adjectives: an imperative's first word. */
  isVerb(word: string): boolean;
}

/** The single-word lemmas of one WordNet index file (index.noun, index.verb, ...). */
function lemmas(dir: string, pos: string): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(join(dir, `index.${pos}`), "utf8").split("\n")) {
    if (line.startsWith(" ") || !line) continue; // the licence header
    const lemma = line.slice(0, line.indexOf(" "));
    if (/^[a-z]+$/.test(lemma)) out.add(lemma);
  }
  return out;
}

export function wordNetClasses(dir = WORDNET_DIR): WordClasses {
  if (!existsSync(join(dir, "index.noun"))) {
    throw new GeneraError(
      "NOT_FOUND",
      `tool data: WordNet is not at ${dir} (the generator's word classes come from it): apt-get install wordnet-base`,
    );
  }
  const [nouns, verbs, adjectives, adverbs] = ["noun", "verb", "adj", "adv"].map((pos) => lemmas(dir, pos)) as [
    Set<string>,
    Set<string>,
    Set<string>,
    Set<string>,
  ];
  // Irregular forms ("said", "drawn"), then the regular ones ("saying", "described",
  // "works"): WordNet lists verbs only by lemma.
  const irregular = new Set(
    readFileSync(join(dir, "verb.exc"), "utf8")
      .split("\n")
      .map((line) => line.split(" ")[0] as string),
  );
  const verbForm = (w: string) => {
    const stems = [
      /ing$/.test(w) && [w.slice(0, -3), `${w.slice(0, -3)}e`, w.slice(0, -4)],
      /ed$/.test(w) && [w.slice(0, -2), w.slice(0, -1), w.slice(0, -3)],
      /s$/.test(w) && [w.slice(0, -1), w.replace(/es$/, ""), w.replace(/ies$/, "y")],
    ].flatMap((s) => s || []);
    return verbs.has(w) || irregular.has(w) || stems.some((s) => verbs.has(s));
  };
  const onlyNoun = (w: string) => nouns.has(w) && !verbs.has(w) && !adverbs.has(w);
  return {
    isTopicNoun: (w) =>
      !/ly$/.test(w) &&
      ((onlyNoun(w) && !verbForm(w)) ||
        (/s$/.test(w) && (onlyNoun(w.slice(0, -1)) || onlyNoun(w.replace(/ies$/, "y"))) && !verbForm(w))),
    isModifier: (w) => adjectives.has(w) && !nouns.has(w) && !adverbs.has(w) && !verbForm(w) && !/(ly|ing|ed)$/.test(w),
    isFrameWord: (w) => (adverbs.has(w) || verbForm(w)) && !nouns.has(w) && !adjectives.has(w),
    isVerb: (w) => verbs.has(w) && !nouns.has(w) && !adjectives.has(w) && !adverbs.has(w),
  };
}

/**
 * Word classes for the tool model's made-up values, from WordNet (Debian's `wordnet-base`,
 * installed by `.ci/run`). Real search topics are noun phrases, names and technical terms;
 * made-up topics drawn from every word class ("the hopefully", "explained") taught the model
 * that a frame's verb or connective may be part of a topic, which is how "what are the docs
 * saying on X" and "how does X work" came to keep "saying" and "work".
 */
import { WORDNET_DIR, WordLexicon } from "../../src/agents/toolModel/WordLexicon.js";

export interface WordClasses {
  /** Nouns (singular lemmas and their regular plurals) that are never verbs or adverbs. */
  isTopicNoun(word: string): boolean;
  /** Words that are only adjectives, and do not read as a verb's participle or an adverb. */
  isModifier(word: string): boolean;
  /** Adverbs and verb forms that are never nouns: words that sit in a frame, around a topic. */
  isFrameWord(word: string): boolean;
  /** Verbs in their base form that are never nouns or adjectives: an imperative's first word. */
  isVerb(word: string): boolean;
  /** Nouns that are also verbs ("label", "review", "design"), as the first words of real topics often are. */
  isVerbalNoun(word: string): boolean;
}

export function wordNetClasses(dir = WORDNET_DIR): WordClasses {
  const lexicon = WordLexicon.fromWordNet(dir);
  const nouns = (w: string) => lexicon.has("noun", w);
  const verbs = (w: string) => lexicon.has("verb", w);
  const adjectives = (w: string) => lexicon.has("adj", w);
  const adverbs = (w: string) => lexicon.has("adv", w);
  const verbForm = (w: string) => lexicon.isVerbForm(w);
  const onlyNoun = (w: string) => nouns(w) && !verbs(w) && !adverbs(w);
  return {
    isTopicNoun: (w) =>
      !/ly$/.test(w) &&
      ((onlyNoun(w) && !verbForm(w)) ||
        (/s$/.test(w) && (onlyNoun(w.slice(0, -1)) || onlyNoun(w.replace(/ies$/, "y"))) && !verbForm(w))),
    isModifier: (w) => adjectives(w) && !nouns(w) && !adverbs(w) && !verbForm(w) && !/(ly|ing|ed)$/.test(w),
    isFrameWord: (w) => (adverbs(w) || verbForm(w)) && !nouns(w) && !adjectives(w),
    isVerb: (w) => verbs(w) && !nouns(w) && !adjectives(w) && !adverbs(w),
    isVerbalNoun: (w) => nouns(w) && verbs(w) && !adverbs(w) && !/(ly|ing|ed|s)$/.test(w),
  };
}

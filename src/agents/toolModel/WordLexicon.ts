import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { GeneraError } from "../../errors.js";

/** Where Debian's `wordnet-base` puts WordNet (`.ci/run` installs it; training reads it, genera's runtime never does). */
export const WORDNET_DIR = "/usr/share/wordnet";

export type PartOfSpeech = "noun" | "verb" | "adj" | "adv";
const PARTS: PartOfSpeech[] = ["noun", "verb", "adj", "adv"];

/** The lexicon as the checkpoint stores it: each part of speech's single-word lemmas, and the irregular verb forms. */
export interface WordLexiconData {
  noun: string;
  verb: string;
  adj: string;
  adv: string;
  /** verb.exc's inflected forms ("written", "said"): WordNet lists verbs only by lemma. */
  verbForms: string;
}

/** WordNet's licence asks that its notice go with every copy: it is written beside the lexicon. */
export const WORDNET_LICENSE_FILE = "LICENSE-WordNet.txt";
const WORDNET_NOTICE = `The word classes in word-classes.json.gz are derived from WordNet 3.0.

WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.

Permission to use, copy, modify and distribute this software and database and its
documentation for any purpose and without fee or royalty is hereby granted, provided that
you agree to comply with the following copyright notice and statements, including the
disclaimer, and that the same appear on ALL copies of the software, database and
documentation, including modifications that you make for internal use or for distribution.

THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO
REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION,
PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANTABILITY OR FITNESS FOR
ANY PARTICULAR PURPOSE OR THAT THE USE OF THE LICENSED SOFTWARE, DATABASE OR DOCUMENTATION
WILL NOT INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR OTHER RIGHTS.

The name of Princeton University or Princeton may not be used in advertising or publicity
pertaining to distribution of the software and/or database. Title to copyright in this
software, database and any associated documentation shall at all times remain with
Princeton University and LICENSEE agrees to preserve same.
`;

/** A word's classes as bits of its class id (a word may be several). */
export const CLASS_BITS: Record<PartOfSpeech, number> = { noun: 1, verb: 2, adj: 4, adv: 8 };

/** Ids of the tool model's word-class input: padding, [CLS], then 2 + the token's class bits. */
export const WORD_CLASS_IDS = 2 + 16;
const CLS_CLASS = 1;
const NO_CLASS = 2;

/**
 * What English says a word can be: a noun, a verb (any of its forms), an adjective, an
 * adverb, any mix of these, or none (names, made-up words, numbers). The tool model reads
 * this beside the word itself because held-out frames bring words it never saw ("where is
 * X *described*", "what's *written* about X", "X and *also* Y"), and a word's vectors alone
 * did not tell it that such a word is a frame's verb or adverb rather than part of a topic,
 * which is almost always a noun phrase. WordNet (Princeton's licence allows redistribution)
 * covers general English, so a word the training data never held still gets its class.
 */
export class WordLexicon {
  private readonly lemmas: Record<PartOfSpeech, Set<string>>;
  private readonly irregularVerbForms: Set<string>;

  constructor(readonly data: WordLexiconData) {
    const words = (s: string) => new Set(s.split(" ").filter(Boolean));
    this.lemmas = { noun: words(data.noun), verb: words(data.verb), adj: words(data.adj), adv: words(data.adv) };
    this.irregularVerbForms = words(data.verbForms);
  }

  /** WordNet's index files and verb exceptions (the training script builds the lexicon from them). */
  static fromWordNet(dir = WORDNET_DIR): WordLexicon {
    if (!existsSync(join(dir, "index.noun"))) {
      throw new GeneraError(
        "NOT_FOUND",
        `WordNet is not at ${dir} (the tool model's word classes come from it): apt-get install wordnet-base`,
      );
    }
    const lemmas = (pos: PartOfSpeech) =>
      readFileSync(join(dir, `index.${pos}`), "utf8")
        .split("\n")
        .filter((line) => line && !line.startsWith(" ")) // the licence header is indented
        .map((line) => line.slice(0, line.indexOf(" ")))
        .filter((lemma) => /^[a-z]+$/.test(lemma));
    const forms = readFileSync(join(dir, "verb.exc"), "utf8")
      .split("\n")
      .map((line) => line.split(" ")[0] as string)
      .filter((w) => /^[a-z]+$/.test(w));
    const data = Object.fromEntries(PARTS.map((pos) => [pos, lemmas(pos).join(" ")])) as Omit<
      WordLexiconData,
      "verbForms"
    >;
    return new WordLexicon({ ...data, verbForms: forms.join(" ") });
  }

  static load(file: string): WordLexicon {
    if (!existsSync(file)) throw new GeneraError("MODEL_NOT_FOUND", `the tool model's word lexicon ${file} is missing`);
    let data: WordLexiconData;
    try {
      data = JSON.parse(gunzipSync(readFileSync(file)).toString("utf8")) as WordLexiconData;
    } catch (err) {
      throw new GeneraError("MODEL_MISMATCH", `${file} is not a word lexicon: ${(err as Error).message}`);
    }
    if (![...PARTS, "verbForms"].every((key) => typeof data[key as keyof WordLexiconData] === "string")) {
      throw new GeneraError(
        "MODEL_MISMATCH",
        `${file} is not a word lexicon: it lacks ${PARTS.join(", ")} or verbForms`,
      );
    }
    return new WordLexicon(data);
  }

  /** The gzipped lexicon, and WordNet's notice beside it. */
  save(file: string): void {
    writeFileSync(file, gzipSync(JSON.stringify(this.data), { level: 9 }));
    writeFileSync(join(dirname(file), WORDNET_LICENSE_FILE), WORDNET_NOTICE);
  }

  /** A lemma of this part of speech. */
  has(pos: PartOfSpeech, word: string): boolean {
    return this.lemmas[pos].has(word);
  }

  /** A noun lemma or its regular plural. */
  isNoun(word: string): boolean {
    const nouns = this.lemmas.noun;
    return (
      nouns.has(word) || (/s$/.test(word) && (nouns.has(word.slice(0, -1)) || nouns.has(word.replace(/ies$/, "y"))))
    );
  }

  /** A verb lemma, an irregular form ("said", "drawn") or a regular one ("saying", "described", "works"). */
  isVerbForm(word: string): boolean {
    const verbs = this.lemmas.verb;
    if (verbs.has(word) || this.irregularVerbForms.has(word)) return true;
    const stems = [
      /ing$/.test(word) && [word.slice(0, -3), `${word.slice(0, -3)}e`, word.slice(0, -4)],
      /ed$/.test(word) && [word.slice(0, -2), word.slice(0, -1), word.slice(0, -3)],
      /s$/.test(word) && [word.slice(0, -1), word.replace(/es$/, ""), word.replace(/ies$/, "y")],
    ].flatMap((s) => s || []);
    return stems.some((s) => verbs.has(s));
  }

  /** The token's word-class id (the last part of a hyphenated word; NO_CLASS for numbers, symbols, paths). */
  classId(token: string): number {
    const word = token.toLowerCase().split("-").pop() ?? "";
    if (!/^[a-z]+$/.test(word)) return NO_CLASS;
    const bits =
      (this.isNoun(word) ? CLASS_BITS.noun : 0) |
      (this.isVerbForm(word) ? CLASS_BITS.verb : 0) |
      (this.has("adj", word) ? CLASS_BITS.adj : 0) |
      (this.has("adv", word) ? CLASS_BITS.adv : 0);
    return NO_CLASS + bits;
  }

  /** A request's class ids as the model reads them: [CLS], then one per token. */
  classIds(tokens: Array<{ text: string }>): number[] {
    return [CLS_CLASS, ...tokens.map((t) => this.classId(t.text))];
  }
}

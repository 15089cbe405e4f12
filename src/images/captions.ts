import { promptWords } from "./promptEncoder.js";

/**
 * Captions for text-to-image training: every digit described in many phrasings, from
 * templates with the digit as a word ("seven") or a numeral ("7"). The held-out
 * templates are never used in training; the evaluation asks for digits in those
 * phrasings, so it measures whether the model follows the meaning of a prompt rather
 * than the strings it was trained on.
 */

export const DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"] as const;

/** `{w}` is the digit as a word, `{n}` as a numeral. Hand-written phrasings first… */
const BASIC_TEMPLATES: readonly string[] = [
  "a handwritten {w}",
  "a handwritten {n}",
  "the digit {n}",
  "the digit {w}",
  "{w}",
  "{n}",
  "number {n}",
  "number {w}",
  "the number {w}",
  "the number {n}",
  "a {w}",
  "a {n}",
  "digit {n}",
  "draw a {w}",
  "write the number {n}",
  "a picture of a {w}",
  "an image of the digit {n}",
  "handwritten digit {n}",
  "the numeral {n}",
  "a hand-drawn {w}",
  "{w} written by hand",
];

/**
 * …then many more put together from parts (a request, a style, a noun for "digit", a
 * setting), so the model meets the digit in varied context and has to find it there,
 * not in a fixed string.
 */
const PARTS = {
  lead: [
    "",
    "a ",
    "the ",
    "one ",
    "draw a ",
    "write a ",
    "make a ",
    "create a ",
    "generate a ",
    "produce a ",
    "give me a ",
    "paint a ",
    "print a ",
    "doodle a ",
    "trace a ",
    "depict a ",
    "illustrate a ",
    "jot down a ",
    "i need a ",
    "can you draw a ",
    "please write a ",
    "let me see a ",
    "here is a ",
    "this is a ",
    "a picture of a ",
    "an image of a ",
    "a photo of a ",
    "a drawing of a ",
    "a scan of a ",
    "an illustration of a ",
    "an example of a ",
    "a close-up of a ",
    "a sample of a ",
  ],
  style: [
    "",
    "",
    "handwritten ",
    "hand-drawn ",
    "sloppy ",
    "tidy ",
    "slanted ",
    "wobbly ",
    "thick ",
    "thin ",
    "faint ",
    "dark ",
    "tiny ",
    "large ",
    "centered ",
    "blurry ",
    "crisp ",
    "monochrome ",
    "plain ",
    "careful ",
    "hurried ",
    "childlike ",
    "elegant ",
    "rough ",
    "clean ",
    "bold ",
    "small ",
    "neat ",
    "messy ",
  ],
  noun: [
    "{w}",
    "{n}",
    "digit {w}",
    "digit {n}",
    "number {w}",
    "number {n}",
    "numeral {n}",
    "numeral {w}",
    "figure {n}",
    "{w} digit",
    "{n} symbol",
    "character {n}",
  ],
  tail: [
    "",
    "",
    "",
    " on paper",
    " in pencil",
    " with a marker",
    " with chalk",
    " on a whiteboard",
    " on a napkin",
    " from mnist",
    " by a student",
    " by a child",
    " by hand",
    ", please",
    " quickly",
    " carefully",
    " on a white background",
    " on a black background",
    " in the middle",
    " from the dataset",
    " for a test",
  ],
};

/** Composed templates, the same every run (a fixed seed), none of them held out. */
function composedTemplates(count: number, seed = 3): string[] {
  let state = seed;
  const pick = <T>(list: readonly T[]): T => {
    // A small LCG: these captions must not change when the engine's generator does.
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return list[Math.floor((state / 2 ** 32) * list.length)];
  };
  const excluded = new Set([...BASIC_TEMPLATES, ...HELD_OUT_TEMPLATES, ...DEV_TEMPLATES].map(templateKey));
  const out = new Set<string>();
  for (let tries = 0; out.size < count && tries < count * 20; tries++) {
    const t = `${pick(PARTS.lead)}${pick(PARTS.style)}${pick(PARTS.noun)}${pick(PARTS.tail)}`.trim();
    if (!excluded.has(templateKey(t))) out.add(t);
  }
  return [...out];
}

/** Phrasings kept out of training, for evaluation only. */
export const HELD_OUT_TEMPLATES: readonly string[] = [
  "please sketch the number {w}",
  "show me a {n}",
  "an ink drawing of the digit {w}",
  "could you write a {w} for me?",
  "a grayscale image of a handwritten {n}",
  "I would like to see the numeral {w}",
  "someone scribbled a {w}",
  "a {w} written with a pen",
  "the handwritten number {w} on white paper",
  "render digit {n}",
];

/**
 * Phrasings for design decisions (which prompt reader, how much augmentation): written
 * apart from both the training and the held-out ones, so choosing by them leaves the
 * held-out phrasings unseen until the final evaluation.
 */
export const DEV_TEMPLATES: readonly string[] = [
  "a quick doodle of the numeral {w}",
  "write down {n} for the form",
  "my favourite digit is {w}",
  "one black {w} on a grey card",
  "can i get a picture showing {n}",
  "{w}, drawn with a shaky hand",
  "generate an image containing the number {w}",
  "just the digit {n} and nothing else",
  "a student wrote {w} on the exam",
  "imagine a handwritten {w} at the center",
  "paint {n} in white",
  "the figure {w}, written neatly",
  "a {n} from a postal code",
  "make me a picture of the digit {w}",
  "display a single {w}",
];

export const TRAINING_TEMPLATES: readonly string[] = [...BASIC_TEMPLATES, ...composedTemplates(400)];

/** A phrasing as the comparison of template sets sees it: lower case, words only. */
function templateKey(template: string): string {
  return (template.toLowerCase().match(/[\p{L}\p{N}{}]+/gu) ?? []).join(" ");
}

/**
 * Throws when any two of the sets share a phrasing (compared as lower-case words, so
 * punctuation or case cannot hide a copy): what training reads must never be what the
 * development or held-out evaluation asks.
 */
export function assertDisjointTemplates(sets: Record<string, readonly string[]>): void {
  const owner = new Map<string, string>();
  for (const [name, templates] of Object.entries(sets)) {
    for (const template of templates) {
      const key = templateKey(template);
      const other = owner.get(key);
      if (other !== undefined && other !== name) {
        throw new Error(`caption template "${template}" is in both the ${other} and the ${name} set`);
      }
      owner.set(key, name);
    }
  }
}

assertDisjointTemplates({ training: TRAINING_TEMPLATES, dev: DEV_TEMPLATES, heldOut: HELD_OUT_TEMPLATES });

export function caption(template: string, digit: number): string {
  return template.replaceAll("{w}", DIGIT_WORDS[digit]).replaceAll("{n}", String(digit));
}

/** Every caption of a set of templates, with its digit: templates × 10 digits. */
export function captionsOf(templates: readonly string[]): Array<{ text: string; digit: number }> {
  const out: Array<{ text: string; digit: number }> = [];
  for (const template of templates) for (let d = 0; d < 10; d++) out.push({ text: caption(template, d), digit: d });
  return out;
}

/**
 * Number words that are not the caption's digit: never inserted as filler, since a
 * caption with "twenty" or "third" in it would describe something else.
 */
const NUMBER_WORDS = new Set([
  ...DIGIT_WORDS,
  ..."ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion trillion dozen".split(
    " ",
  ),
  ..."first second third fourth fifth sixth seventh eighth ninth tenth zeros ones twos threes fours fives sixes sevens eights nines".split(
    " ",
  ),
]);

/** Whether a word may be inserted into a caption as filler (not a number, not a numeral). */
export function isFillerWord(word: string): boolean {
  return /^[a-z]+$/.test(word) && !NUMBER_WORDS.has(word);
}

/** How a training caption is varied: words of other text inserted, the template's own words dropped. */
export interface CaptionAugmentation {
  /** Words to insert (any English words; see isFillerWord). */
  fillers: readonly string[];
  /** At most this many inserted per caption, each count 0..max equally likely. */
  maxFillers: number;
  /** Chance that each word of the template (not the digit) is left out. */
  dropWord: number;
}

/**
 * One caption of `digit` in `template`, as words (see promptWords), varied by
 * `augmentation`: the reader learns to find the digit among words it has not seen next
 * to it, rather than the fixed strings of a few hundred templates.
 */
export function captionWords(
  template: string,
  digit: number,
  rng: () => number,
  augmentation?: CaptionAugmentation,
): string[] {
  const words: string[] = [];
  for (const piece of template.split(/\s+/)) {
    const isDigit = piece.includes("{w}") || piece.includes("{n}");
    for (const word of promptWords(caption(piece, digit))) {
      if (isDigit || !augmentation || rng() >= augmentation.dropWord) words.push(word);
    }
  }
  if (augmentation && augmentation.fillers.length > 0) {
    const count = Math.floor(rng() * (augmentation.maxFillers + 1));
    for (let i = 0; i < count; i++) {
      const filler = augmentation.fillers[Math.floor(rng() * augmentation.fillers.length)];
      words.splice(Math.floor(rng() * (words.length + 1)), 0, filler);
    }
  }
  return words;
}

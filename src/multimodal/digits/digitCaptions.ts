/**
 * Generated captions for MNIST digits: the text side of the digit dual encoder learns
 * from these. Training uses TRAIN_TEMPLATES only; HELD_OUT_TEMPLATES are phrasings the
 * model never sees, for measuring whether it learned the digit rather than the wording.
 */

/** How each digit is written in words: the numeral, its name, and a few other spellings. */
export const DIGIT_NAMES: readonly (readonly string[])[] = [
  ["0", "zero", "nought"],
  ["1", "one"],
  ["2", "two"],
  ["3", "three"],
  ["4", "four"],
  ["5", "five"],
  ["6", "six"],
  ["7", "seven"],
  ["8", "eight"],
  ["9", "nine"],
];

/** `{d}` is replaced by one of the digit's names. */
export const TRAIN_TEMPLATES: readonly string[] = [
  "{d}",
  "a {d}",
  "the digit {d}",
  "a handwritten {d}",
  "the number {d}",
  "a picture of a {d}",
  "an image of the digit {d}",
  "a photo of a handwritten {d}",
  "{d} written by hand",
  "a scanned {d}",
  "a sketch of the numeral {d}",
  "handwriting: {d}",
  "this is a {d}",
  "a black and white image of a {d}",
  "a small drawing of the number {d}",
  "a digit, {d}",
  "someone wrote {d}",
  "an MNIST {d}",
  "the figure {d}, drawn with a pen",
  "a pencil-written {d}",
];

/** Phrasings kept out of training (new words around the digit name, plurals, questions). */
export const HELD_OUT_TEMPLATES: readonly string[] = [
  "show me {d}s",
  "find images containing the numeral {d}",
  "which pictures show a {d}?",
  "hand-drawn {d}",
  "a {d} scribbled on paper",
  "the handwritten number {d} in black and white",
  "examples of the digit {d} written by people",
  "a scan of a {d} from a form",
];

/** A caption for `label` from `templates`, choices made by `rng` (uniform in [0, 1)). */
export function digitCaption(label: number, rng: () => number, templates: readonly string[] = TRAIN_TEMPLATES): string {
  const names = DIGIT_NAMES[label] as readonly string[];
  const template = templates[Math.floor(rng() * templates.length)] as string;
  return template.replaceAll("{d}", names[Math.floor(rng() * names.length)] as string);
}

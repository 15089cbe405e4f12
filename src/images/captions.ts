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
  const out = new Set<string>();
  for (let tries = 0; out.size < count && tries < count * 20; tries++) {
    const t = `${pick(PARTS.lead)}${pick(PARTS.style)}${pick(PARTS.noun)}${pick(PARTS.tail)}`.trim();
    if (!BASIC_TEMPLATES.includes(t) && !HELD_OUT_TEMPLATES.includes(t)) out.add(t);
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

export const TRAINING_TEMPLATES: readonly string[] = [...BASIC_TEMPLATES, ...composedTemplates(400)];

export function caption(template: string, digit: number): string {
  return template.replaceAll("{w}", DIGIT_WORDS[digit]).replaceAll("{n}", String(digit));
}

/** Every caption of a set of templates, with its digit: templates × 10 digits. */
export function captionsOf(templates: readonly string[]): Array<{ text: string; digit: number }> {
  const out: Array<{ text: string; digit: number }> = [];
  for (const template of templates) for (let d = 0; d < 10; d++) out.push({ text: caption(template, d), digit: d });
  return out;
}

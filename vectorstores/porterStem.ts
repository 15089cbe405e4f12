/**
 * The Porter stemmer (M.F. Porter, "An algorithm for suffix stripping", 1980),
 * following the author's reference C implementation, including its two
 * departures from the paper: step 2 maps "bli" → "ble" (instead of "abli" → "able")
 * and "logi" → "log".
 *
 * Why Porter rather than a lighter s-stripper: questions and documents word the
 * same idea in different forms ("configure" / "configuration" / "configured"),
 * and on our evaluation sets conflating those helped BM25 more than the rare
 * over-stemming hurt. Only lowercase a–z words longer than two letters are stemmed;
 * anything with digits or other letters (names, versions, codes) is left untouched,
 * so "v2", "3.14" and "ñandú" never change.
 */

function isConsonant(word: string, i: number): boolean {
  const c = word[i];
  if (c === "a" || c === "e" || c === "i" || c === "o" || c === "u") return false;
  // "y" is a vowel after a consonant ("happy") and a consonant otherwise ("toy", "yes").
  if (c === "y") return i === 0 ? true : !isConsonant(word, i - 1);
  return true;
}

/** m in the paper: the number of vowel→consonant transitions in [C](VC)^m[V]. */
function measure(stem: string): number {
  let m = 0;
  let i = 0;
  const n = stem.length;
  while (i < n && isConsonant(stem, i)) i++;
  while (i < n) {
    while (i < n && !isConsonant(stem, i)) i++;
    if (i >= n) break;
    while (i < n && isConsonant(stem, i)) i++;
    m++;
  }
  return m;
}

function containsVowel(stem: string): boolean {
  for (let i = 0; i < stem.length; i++) if (!isConsonant(stem, i)) return true;
  return false;
}

function endsWithDoubleConsonant(word: string): boolean {
  const n = word.length;
  return n >= 2 && word[n - 1] === word[n - 2] && isConsonant(word, n - 1);
}

/** *o in the paper: ends consonant-vowel-consonant, the last not w, x or y ("hop", not "snow"). */
function endsCvc(word: string): boolean {
  const n = word.length;
  if (n < 3) return false;
  if (!isConsonant(word, n - 1) || isConsonant(word, n - 2) || !isConsonant(word, n - 3)) return false;
  const last = word[n - 1];
  return last !== "w" && last !== "x" && last !== "y";
}

type Rule = readonly [suffix: string, replacement: string];

/**
 * Apply the first rule whose suffix matches (lists are ordered so the longest
 * suffix comes first); when its condition on the stem fails, no other rule of the
 * step is tried — that is what the paper prescribes.
 */
function applyRules(
  word: string,
  rules: readonly Rule[],
  condition: (stem: string, suffix: string) => boolean,
): string {
  for (const [suffix, replacement] of rules) {
    if (word.endsWith(suffix)) {
      const stem = word.slice(0, word.length - suffix.length);
      return condition(stem, suffix) ? stem + replacement : word;
    }
  }
  return word;
}

const STEP2: readonly Rule[] = [
  ["ational", "ate"],
  ["tional", "tion"],
  ["enci", "ence"],
  ["anci", "ance"],
  ["izer", "ize"],
  ["bli", "ble"],
  ["alli", "al"],
  ["entli", "ent"],
  ["eli", "e"],
  ["ousli", "ous"],
  ["ization", "ize"],
  ["ation", "ate"],
  ["ator", "ate"],
  ["alism", "al"],
  ["iveness", "ive"],
  ["fulness", "ful"],
  ["ousness", "ous"],
  ["aliti", "al"],
  ["iviti", "ive"],
  ["biliti", "ble"],
  ["logi", "log"],
];

const STEP3: readonly Rule[] = [
  ["icate", "ic"],
  ["ative", ""],
  ["alize", "al"],
  ["iciti", "ic"],
  ["ical", "ic"],
  ["ful", ""],
  ["ness", ""],
];

const STEP4: readonly Rule[] = [
  ["al", ""],
  ["ance", ""],
  ["ence", ""],
  ["er", ""],
  ["ic", ""],
  ["able", ""],
  ["ible", ""],
  ["ant", ""],
  ["ement", ""],
  ["ment", ""],
  ["ent", ""],
  ["ion", ""],
  ["ou", ""],
  ["ism", ""],
  ["ate", ""],
  ["iti", ""],
  ["ous", ""],
  ["ive", ""],
  ["ize", ""],
];

function byLengthDesc(rules: readonly Rule[]): Rule[] {
  return [...rules].sort((a, b) => b[0].length - a[0].length);
}

// Longest suffix first, so "ement" is seen before "ment" before "ent", as in the reference code.
const STEP2_SORTED = byLengthDesc(STEP2);
const STEP3_SORTED = byLengthDesc(STEP3);
const STEP4_SORTED = byLengthDesc(STEP4);

function step1ab(word: string): string {
  let w = word;
  if (w.endsWith("sses")) w = w.slice(0, -2);
  else if (w.endsWith("ies")) w = w.slice(0, -2);
  else if (!w.endsWith("ss") && w.endsWith("s")) w = w.slice(0, -1);

  if (w.endsWith("eed")) {
    if (measure(w.slice(0, -3)) > 0) w = w.slice(0, -1);
    return w;
  }
  let stripped: string | undefined;
  if (w.endsWith("ed") && containsVowel(w.slice(0, -2))) stripped = w.slice(0, -2);
  else if (w.endsWith("ing") && containsVowel(w.slice(0, -3))) stripped = w.slice(0, -3);
  if (stripped === undefined) return w;

  w = stripped;
  if (w.endsWith("at") || w.endsWith("bl") || w.endsWith("iz")) return `${w}e`;
  if (endsWithDoubleConsonant(w)) {
    const last = w[w.length - 1];
    return last === "l" || last === "s" || last === "z" ? w : w.slice(0, -1);
  }
  if (measure(w) === 1 && endsCvc(w)) return `${w}e`;
  return w;
}

function step1c(word: string): string {
  if (word.endsWith("y") && containsVowel(word.slice(0, -1))) return `${word.slice(0, -1)}i`;
  return word;
}

function step5(word: string): string {
  let w = word;
  if (w.endsWith("e")) {
    const stem = w.slice(0, -1);
    const m = measure(stem);
    if (m > 1 || (m === 1 && !endsCvc(stem))) w = stem;
  }
  if (w.endsWith("ll") && measure(w) > 1) w = w.slice(0, -1);
  return w;
}

const STEMMABLE = /^[a-z]+$/;

/** Stem one lowercase English word; returns the input unchanged when it is not a plain a–z word. */
export function porterStem(word: string): string {
  if (word.length <= 2 || !STEMMABLE.test(word)) return word;
  let w = step1ab(word);
  w = step1c(w);
  w = applyRules(w, STEP2_SORTED, (stem) => measure(stem) > 0);
  w = applyRules(w, STEP3_SORTED, (stem) => measure(stem) > 0);
  w = applyRules(w, STEP4_SORTED, (stem, suffix) => {
    if (measure(stem) <= 1) return false;
    if (suffix === "ion") return stem.endsWith("s") || stem.endsWith("t");
    return true;
  });
  return step5(w);
}

import { seededRandom as rng } from "../src/engine/random.js";
/**
 * A generated dataset of dates written many ways ("the twenty-fifth of December 2023",
 * "Dec 25, 2023", "25/12/2023", "December the 25th, 2023", …) paired with their ISO
 * form (2023-12-25). Deterministic for a seed; no downloads.
 */

export interface DatePair {
  source: string;
  target: string;
  /** Which surface format produced the source (for per-format accuracy). */
  format: string;
}

export const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

const ONES = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
const TEENS = [
  "ten",
  "eleven",
  "twelve",
  "thirteen",
  "fourteen",
  "fifteen",
  "sixteen",
  "seventeen",
  "eighteen",
  "nineteen",
];
const ORDINAL_ONES = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"];
const ORDINAL_TEENS = [
  "tenth",
  "eleventh",
  "twelfth",
  "thirteenth",
  "fourteenth",
  "fifteenth",
  "sixteenth",
  "seventeenth",
  "eighteenth",
  "nineteenth",
];

/** 1 → "first", 22 → "twenty-second", 30 → "thirtieth". */
export function ordinalWord(n: number): string {
  if (n < 10) return ORDINAL_ONES[n];
  if (n < 20) return ORDINAL_TEENS[n - 10];
  const tens = n < 30 ? "twenty" : "thirty";
  if (n % 10 === 0) return n === 20 ? "twentieth" : "thirtieth";
  return `${tens}-${ORDINAL_ONES[n % 10]}`;
}

/** 1 → "one", 25 → "twenty-five". */
export function cardinalWord(n: number): string {
  if (n < 10) return ONES[n];
  if (n < 20) return TEENS[n - 10];
  const tens = n < 30 ? "twenty" : "thirty";
  return n % 10 === 0 ? tens : `${tens}-${ONES[n % 10]}`;
}

/** 1 → "1st", 22 → "22nd", 13 → "13th". */
export function ordinalSuffix(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${s}`;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const pad2 = (n: number) => String(n).padStart(2, "0");

type Formatter = (d: number, m: number, y: number) => string;

/** Each surface form, named. Month index m is 1-based. */
export const DATE_FORMATS: Record<string, Formatter> = {
  "the-ordinal-word-of-month": (d, m, y) => `the ${ordinalWord(d)} of ${MONTHS[m - 1]} ${y}`,
  "ordinal-word-month": (d, m, y) => `${ordinalWord(d)} ${MONTHS[m - 1]} ${y}`,
  "month-the-ordinal": (d, m, y) => `${MONTHS[m - 1]} the ${ordinalSuffix(d)}, ${y}`,
  "month-the-ordinal-word": (d, m, y) => `${MONTHS[m - 1]} the ${ordinalWord(d)}, ${y}`,
  "abbr-day-comma": (d, m, y) => `${MONTHS[m - 1].slice(0, 3)} ${d}, ${y}`,
  "month-day-comma": (d, m, y) => `${MONTHS[m - 1]} ${d}, ${y}`,
  "day-month": (d, m, y) => `${d} ${MONTHS[m - 1]} ${y}`,
  "ordinal-abbr": (d, m, y) => `${ordinalSuffix(d)} ${MONTHS[m - 1].slice(0, 3)} ${y}`,
  "the-ordinal-of-month-comma": (d, m, y) => `the ${ordinalSuffix(d)} of ${MONTHS[m - 1]}, ${y}`,
  "slash-dmy": (d, m, y) => `${pad2(d)}/${pad2(m)}/${y}`,
  "dot-dmy": (d, m, y) => `${d}.${m}.${y}`,
  "cardinal-words": (d, m, y) => `${MONTHS[m - 1]} ${cardinalWord(d)}, ${y}`,
  "lowercase-month": (d, m, y) => `${d} ${MONTHS[m - 1].toLowerCase()} ${y}`,
};

export function isoDate(d: number, m: number, y: number): string {
  return `${y}-${pad2(m)}-${pad2(d)}`;
}

export interface DateDatasetOptions {
  train: number;
  test: number;
  seed?: number;
  minYear?: number;
  maxYear?: number;
}

/**
 * Random (date, format) pairs. The held-out set shares no (date, format) pair with
 * the training set, so a model must generalise, not look answers up.
 */
export function makeDateDataset(options: DateDatasetOptions): { train: DatePair[]; test: DatePair[] } {
  const r = rng(options.seed ?? 2023);
  const minYear = options.minYear ?? 1950;
  const maxYear = options.maxYear ?? 2049;
  const formats = Object.keys(DATE_FORMATS);
  const seen = new Set<string>();
  const draw = (): DatePair & { key: string } => {
    const y = minYear + Math.floor(r() * (maxYear - minYear + 1));
    const m = 1 + Math.floor(r() * 12);
    const d = 1 + Math.floor(r() * daysInMonth(y, m));
    const format = formats[Math.floor(r() * formats.length)];
    let source = DATE_FORMATS[format](d, m, y);
    // Sentence-initial capitals occur in real text; the model should not care.
    if (r() < 0.15) source = source[0].toUpperCase() + source.slice(1);
    return { source, target: isoDate(d, m, y), format, key: source };
  };
  const take = (n: number): DatePair[] => {
    const out: DatePair[] = [];
    let guard = 0;
    while (out.length < n && guard++ < n * 50) {
      const p = draw();
      if (seen.has(p.key)) continue;
      seen.add(p.key);
      out.push({ source: p.source, target: p.target, format: p.format });
    }
    return out;
  };
  const test = take(options.test);
  const train = take(options.train);
  return { train, test };
}

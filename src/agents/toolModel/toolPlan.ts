import { evaluateExpression } from "../tools/calculator.js";
import { type RequestToken, SHAPES, tokenizeRequest, tokenShape } from "./requestTokens.js";

/**
 * What the offline tool model predicts for a request: one intent (which tools, in which
 * order) and argument spans tagged on the request's tokens (BIO tags). Decoding turns the
 * two into tool calls whose arguments are substrings of the request, so the model can
 * only copy what the user wrote, never invent it.
 */
export const INTENTS = [
  "reply",
  "refuse",
  "search",
  "read_document",
  "calculate",
  "date",
  "list_files",
  "read_file",
  "search_calculate",
  "generate_image",
] as const;
export type Intent = (typeof INTENTS)[number];

/**
 * Span kinds: Q a search query, E an arithmetic expression (or, after a search, the
 * operation on its figure), P a path, D a document, S a section; for generate_image M the
 * generator, N how many images, K the digit.
 */
export const SPAN_KINDS = ["Q", "E", "P", "D", "S", "M", "N", "K"] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

export const TAGS = ["O", ...SPAN_KINDS.flatMap((k) => [`B-${k}`, `I-${k}`])] as const;
export type Tag = (typeof TAGS)[number];

/** The tools each intent needs, in call order. */
export const INTENT_TOOLS: Record<Intent, string[]> = {
  reply: [],
  refuse: [],
  search: ["search_documents"],
  read_document: ["read_document"],
  calculate: ["calculator"],
  date: ["current_date"],
  list_files: ["list_files"],
  read_file: ["read_file"],
  search_calculate: ["search_documents", "calculator"],
  generate_image: ["generate_image"],
};

export interface Span {
  kind: SpanKind;
  text: string;
}

export interface PlannedCall {
  name: string;
  args: Record<string, unknown>;
}

export interface ToolPlan {
  intent: Intent;
  spans: Span[];
  /** Calls that can be made now (a search_calculate's calculator call waits for the search). */
  calls: PlannedCall[];
  /** search_calculate: the operation to apply to the figure the search finds, e.g. "* 4". */
  operation?: string;
}

/** Spans from per-token tags; an I- tag without its B- starts a span (models slip). */
export function decodeSpans(text: string, tokens: RequestToken[], tags: Tag[]): Span[] {
  const spans: Span[] = [];
  let current: { kind: SpanKind; start: number; end: number } | undefined;
  const close = () => {
    if (current) spans.push({ kind: current.kind, text: text.slice(current.start, current.end) });
    current = undefined;
  };
  tokens.forEach((token, i) => {
    const tag = tags[i] ?? "O";
    if (tag === "O") {
      close();
      return;
    }
    const [bio, kind] = tag.split("-") as ["B" | "I", SpanKind];
    // Two arguments of one kind are always separated ("X and Y"): a B right after a span of
    // its kind continues that span.
    const touching = current?.kind === kind && (tags[i - 1] ?? "O") !== "O";
    if ((bio === "B" && !touching) || !current || current.kind !== kind) {
      close();
      current = { kind, start: token.start, end: token.end };
    } else {
      current.end = token.end;
    }
  });
  close();
  return spans;
}

/**
 * Text arguments (a query, a section) that may run on over words the model never saw when
 * they are left dangling on a function word ("layers of [BERT-Large]"). Unknown words next
 * to a span are otherwise left as the model tagged them: held-out frames bring unknown
 * words of their own ("X [versus] Y", "[explain] X"), and growing spans over every unknown
 * neighbour glued them to the arguments (measured on the dev split: 88.7% → 90.7% exact
 * without that growth).
 */
const GROWS = new Set<SpanKind>(["Q", "S"]);

/** The span kinds each intent's tools read. */
const INTENT_KINDS: Record<Intent, SpanKind[]> = {
  reply: [],
  refuse: [],
  search: ["Q"],
  read_document: ["D", "S"],
  calculate: ["E"],
  date: [],
  list_files: ["P"],
  read_file: ["P"],
  search_calculate: ["Q", "E"],
  generate_image: ["M", "N", "K"],
};

/** A tag of a kind the intent's tools never take is no argument at all: "O". */
export function intentTags(intent: Intent, tags: Tag[]): Tag[] {
  return tags.map((t) => (t !== "O" && !INTENT_KINDS[intent].includes(t.slice(2) as SpanKind) ? "O" : t));
}

/** The arguments an intent cannot do without (list_files falls back to the root, generate_image to defaults). */
const REQUIRED: Partial<Record<Intent, SpanKind[]>> = {
  search: ["Q"],
  search_calculate: ["Q", "E"],
  calculate: ["E"],
  read_document: ["D"],
  read_file: ["P"],
};

/** Arguments the intent's tool takes once at most: decoded as the one likeliest span, not every tagged run. */
const SINGLE: Partial<Record<Intent, SpanKind[]>> = {
  read_file: ["P"],
  list_files: ["P"],
  read_document: ["D", "S"],
  search_calculate: ["Q", "E"],
  generate_image: ["M", "N", "K"],
};

/**
 * Decoding constrained by the tool schema. An argument the tool takes once becomes the
 * single likeliest span of its kind — the run [i, j] that maximises the sum of each
 * token's log-probability as B (first) or I (the rest) over its best tag of another kind
 * — instead of every run the per-token argmax tagged (a frame word tagged as a
 * second path or section is dropped this way). An argument the intent cannot do without
 * gets that span even when no token's argmax tag was its kind. `scores[i]` are token i's
 * tag logits in TAGS order.
 */
export function constrainSpans(intent: Intent, tags: Tag[], scores: ArrayLike<number>[], tokens?: string[]): Tag[] {
  const fits = argumentFits(intent, tokens);
  // Tags the schema allows at token i: outside, or a kind the intent takes that fits there.
  const allowed = (t: Tag, i: number) =>
    t === "O" || (INTENT_KINDS[intent].includes(t.slice(2) as SpanKind) && fits(t.slice(2) as SpanKind, i));
  // A token tagged as an argument it cannot be ("the number eight" is no count: no plural
  // follows) takes its likeliest allowed tag instead (here the digit).
  const out = intentTags(intent, tags).map((t, i) => {
    if (allowed(t, i) || !scores[i]) return t;
    let best: Tag = "O";
    TAGS.forEach((u, k) => {
      if (allowed(u, i) && (scores[i]?.[k] as number) > (scores[i]?.[TAGS.indexOf(best)] as number)) best = u;
    });
    return best;
  });
  const logp = scores.map(logSoftmax);
  // A token's gain from joining a span: its log-probability as that tag over its best
  // allowed alternative outside the span's kind (a token sure to be an operation never joins a query).
  const gain = (i: number, tag: Tag) => {
    const row = logp[i] as number[];
    let rival = Number.NEGATIVE_INFINITY;
    TAGS.forEach((t, k) => {
      if ((t === "O" || t.slice(2) !== tag.slice(2)) && allowed(t, i)) rival = Math.max(rival, row[k] as number);
    });
    return (row[TAGS.indexOf(tag)] as number) - rival;
  };
  const single = SINGLE[intent] ?? [];
  const required = REQUIRED[intent] ?? [];
  const hasKind = (kind: SpanKind) => out.some((t) => t !== "O" && t.slice(2) === kind);
  const wanted = [...new Set([...single, ...required])].filter((k) => hasKind(k) || required.includes(k));
  // One run of the kind already (the tags, as repaired, satisfy "once"): kept as it is.
  const runs = (kind: SpanKind) =>
    out.filter((t, i) => t === `B-${kind}` || (t === `I-${kind}` && out[i - 1]?.slice(2) !== kind)).length;
  const settled = new Set(
    wanted.filter((kind) => runs(kind) === 1 && out.every((t, i) => t === "O" || t.slice(2) !== kind || fits(kind, i))),
  );
  for (const kind of wanted) {
    if ((!single.includes(kind) && hasKind(kind)) || settled.has(kind)) continue;
    for (let i = 0; i < out.length; i++) if (out[i] !== "O" && out[i]?.slice(2) === kind) out[i] = "O";
  }
  for (const kind of wanted) {
    if ((!single.includes(kind) && hasKind(kind)) || settled.has(kind)) continue;
    let best: { start: number; end: number; score: number } | undefined;
    for (let i = 0; i < out.length; i++) {
      if (out[i] !== "O" || !fits(kind, i)) continue;
      let score = gain(i, `B-${kind}`);
      if (!best || score > best.score) best = { start: i, end: i, score };
      for (let j = i + 1; j < out.length && out[j] === "O" && fits(kind, j); j++) {
        score += gain(j, `I-${kind}`);
        if (score > best.score) best = { start: i, end: j, score };
      }
    }
    // An optional argument only where the model prefers it to every other reading.
    if (!best || (!required.includes(kind) && best.score <= 0)) continue;
    out[best.start] = `B-${kind}`;
    for (let t = best.start + 1; t <= best.end; t++) out[t] = `I-${kind}`;
  }
  return out;
}

/**
 * The intent, read together with the spans. The intent head alone can be swayed by a
 * frame word it never saw ("show me 33 samples from the vae" read as a document to open)
 * while the tagger still sees a count and a generator: each candidate intent pays what
 * its schema costs the tags (per token, the log-probability of its best allowed tag below
 * that of its best tag), and the likeliest intent once paid for wins. Candidates are the
 * intents the head gives at least MIN_INTENT_PROB.
 */
export function chooseIntent(intentLogits: ArrayLike<number>, scores: ArrayLike<number>[], tokens?: string[]): Intent {
  const intentLogp = logSoftmax(intentLogits);
  const tagLogp = scores.map(logSoftmax);
  let best: { intent: Intent; score: number } | undefined;
  INTENTS.forEach((intent, k) => {
    const prior = intentLogp[k] as number;
    if (prior < Math.log(MIN_INTENT_PROB)) return;
    const fits = argumentFits(intent, tokens);
    let score = prior;
    for (const [i, row] of tagLogp.entries()) {
      let top = Number.NEGATIVE_INFINITY;
      let kept = Number.NEGATIVE_INFINITY;
      TAGS.forEach((t, j) => {
        const value = row[j] as number;
        top = Math.max(top, value);
        const kind = t.slice(2) as SpanKind;
        if (t === "O" || (INTENT_KINDS[intent].includes(kind) && fits(kind, i))) kept = Math.max(kept, value);
      });
      score += kept - top;
    }
    if (!best || score > best.score) best = { intent, score };
  });
  return best?.intent ?? (INTENTS[argmaxOf(intentLogp)] as Intent);
}

const MIN_INTENT_PROB = 0.01;

function logSoftmax(row: ArrayLike<number>): number[] {
  const max = Math.max(...Array.from(row));
  let sum = 0;
  for (let k = 0; k < row.length; k++) sum += Math.exp((row[k] as number) - max);
  return Array.from(row, (x) => x - max - Math.log(sum));
}

function argmaxOf(values: number[]): number {
  return values.reduce((best, v, i) => (v > (values[best] as number) ? i : best), 0);
}

/**
 * Which tokens may make up an argument, from the tool's schema: a count or a digit must
 * read as one; a file to read or a document id is the request's file-like token when it
 * has one (the tokenizer keeps "notes/todo.md" whole), never a frame word beside it.
 */
function argumentFits(intent: Intent, tokens?: string[]): (kind: SpanKind, i: number) => boolean {
  if (!tokens) return () => true;
  const fileLike = tokens.map((t) => /^(?:file|path)$/.test(SHAPES[tokenShape(t)] as string));
  const anyFile = fileLike.some(Boolean);
  return (kind, i) => {
    const token = tokens[i] as string;
    // A count is a cardinal with its plural noun after it ("5 sevens", "20 neat images").
    if (intent === "generate_image" && kind === "N") {
      return countFromWord(token) !== undefined && tokens.slice(i + 1, i + 3).some((t) => /^(?:\d|\w{2,})s$/i.test(t));
    }
    if (intent === "generate_image" && kind === "K") return digitFromWord(token) !== undefined;
    if ((intent === "read_file" && kind === "P") || (intent === "read_document" && kind === "D")) {
      return !anyFile || (fileLike[i] as boolean);
    }
    return true;
  };
}

/** A text argument never ends on "of" or "the": the unknown words after one are its end. */
export function repairTags(tags: Tag[], unknown: boolean[], words: string[]): Tag[] {
  const out = [...tags];
  for (let i = 1; i < out.length; i++) {
    const before = out[i - 1];
    if (out[i] !== "O" || !unknown[i] || !before || before === "O") continue;
    const kind = before.slice(2) as SpanKind;
    if (!GROWS.has(kind) || !FUNCTION_WORDS.has((words[i - 1] ?? "").toLowerCase())) continue;
    for (let j = i; j < out.length && out[j] === "O" && unknown[j]; j++) out[j] = `I-${kind}` as Tag;
  }
  return out;
}

const FUNCTION_WORDS = new Set(
  (
    "a an the this that these those it its me my our your their some any all every each of on in at by for to from " +
    "about with and or but so then also anything something everything nothing please now"
  ).split(" "),
);

/** A word no query is made of alone ("it", "the", "anything"). */
export function isFunctionWord(word: string): boolean {
  return FUNCTION_WORDS.has(word.toLowerCase());
}

export function planCalls(intent: Intent, spans: Span[], request: string): ToolPlan {
  const of = (kind: SpanKind) => spans.filter((s) => s.kind === kind).map((s) => trimSpan(s.text));
  // A query of function words alone ("the", "anything") searches for nothing: not a query.
  const queries = of("Q").filter((q) => tokenizeRequest(q).some((t) => !FUNCTION_WORDS.has(t.text.toLowerCase())));
  // Constrained to the calculator's grammar: each expression is the longest run of the
  // span's words that the calculator parses ("847 come to" → "847"); none, no call.
  const asExpression = (words: string) => {
    const symbols = mathFromWords(words);
    return parses(symbols) ? symbols : undefined;
  };
  const expressions = of("E")
    .map((e) => fitSpan(e, asExpression))
    .filter((e): e is string => !!e);
  const paths = of("P").filter(Boolean);
  const plan: ToolPlan = { intent, spans, calls: [] };
  switch (intent) {
    case "search":
      plan.calls = (queries.length ? queries : [request.trim()]).map((query) => ({
        name: "search_documents",
        args: { query },
      }));
      break;
    case "calculate":
      plan.calls = (expressions.length ? expressions : [fitSpan(request, asExpression) ?? request]).map((e) => ({
        name: "calculator",
        args: { expression: e },
      }));
      break;
    case "search_calculate":
      plan.calls = [{ name: "search_documents", args: { query: queries[0] ?? request.trim() } }];
      plan.operation = fitSpan(of("E").join(" "), operationFromWords);
      break;
    case "read_document": {
      const section = of("S")[0];
      plan.calls = [
        { name: "read_document", args: { id: of("D")[0] ?? request.trim(), ...(section ? { section } : {}) } },
      ];
      break;
    }
    case "date":
      plan.calls = [{ name: "current_date", args: {} }];
      break;
    case "list_files":
      plan.calls = [{ name: "list_files", args: { path: paths[0] ?? "." } }];
      break;
    case "read_file":
      // Without a path there is nothing to read: say so instead of guessing one.
      plan.calls = paths[0] ? [{ name: "read_file", args: { path: paths[0] } }] : [];
      if (!paths[0]) plan.intent = "reply";
      break;
    case "generate_image": {
      const args: Record<string, unknown> = {};
      const model = of("M")[0]?.toLowerCase();
      if (model) args.model = model;
      const n = of("N")
        .map(countFromWord)
        .find((x) => x !== undefined);
      if (n !== undefined) args.n = n;
      const digit = of("K")
        .map(digitFromWord)
        .find((x) => x !== undefined);
      if (digit !== undefined) args.digit = digit;
      plan.calls = [{ name: "generate_image", args }];
      break;
    }
    default:
      break;
  }
  return plan;
}

/** "7", "seven", "sevens", "7s", "sixes" → 7 / 6; anything else undefined. */
export function digitFromWord(text: string): number | undefined {
  const w = text.toLowerCase().replace(/(?<=six)es$|(?<=\w)s$/, "");
  const n = /^\d$/.test(w) ? Number(w) : Number(NUMBER_WORDS[w] ?? Number.NaN);
  return Number.isInteger(n) && n >= 0 && n <= 9 ? n : undefined;
}

/** "12" or "twelve" → 12; anything else undefined. */
export function countFromWord(text: string): number | undefined {
  const w = text.toLowerCase();
  const n = /^\d+$/.test(w) ? Number(w) : Number(NUMBER_WORDS[w] ?? Number.NaN);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * The longest run of a span's tokens (cut from its text, so still a copy of what the user
 * wrote) that `read` accepts, read; undefined when no run is.
 */
export function fitSpan(text: string, read: (words: string) => string | undefined): string | undefined {
  const whole = read(text);
  if (whole !== undefined) return whole;
  const tokens = tokenizeRequest(text);
  for (let length = tokens.length - 1; length >= 1; length--) {
    for (let first = 0; first + length <= tokens.length; first++) {
      const words = text.slice(tokens[first]?.start, tokens[first + length - 1]?.end);
      const got = read(words);
      if (got !== undefined) return got;
    }
  }
  return undefined;
}

function parses(expression: string): boolean {
  if (!/\d|\bpi\b/.test(expression)) return false;
  try {
    evaluateExpression(expression);
    return true;
  } catch {
    return false;
  }
}

/** Quotes and trailing punctuation around a span are not part of the argument. */
function trimSpan(text: string): string {
  return text
    .trim()
    .replace(/^["'“‘`]+|["'”’`]+$/g, "")
    .replace(/[?!,;:]+$/, "")
    .trim();
}

const NUMBER_WORDS: Record<string, string> = {
  zero: "0",
  one: "1",
  two: "2",
  three: "3",
  four: "4",
  five: "5",
  six: "6",
  seven: "7",
  eight: "8",
  nine: "9",
  ten: "10",
  eleven: "11",
  twelve: "12",
  twenty: "20",
  hundred: "100",
};

/**
 * The arithmetic a person writes in words, as the calculator's symbols: "12 times 7" →
 * "12 * 7", "the square root of 81" → "sqrt(81)", "15 percent of 240" → "15% of 240".
 * Text that is already symbols passes through with its spacing normalised.
 */
export function mathFromWords(text: string): string {
  return spaceOperators(wordsToSymbols(text));
}

function wordsToSymbols(text: string): string {
  let s = ` ${text.toLowerCase().replace(/[?!]+\s*$/, "")} `;
  s = s.replace(/(\d),(\d{3})(?!\d)/g, "$1$2");
  for (const [word, digit] of Object.entries(NUMBER_WORDS)) s = s.replace(new RegExp(`\\b${word}\\b`, "g"), digit);
  const rules: Array<[RegExp, string]> = [
    [/\b(?:square root|sqrt) of\s+([\d.]+)/g, " sqrt($1) "],
    [/\bcube root of\s+([\d.]+)/g, " cbrt($1) "],
    [/\b([\d.]+)\s+squared\b/g, " $1 ^ 2 "],
    [/\b([\d.]+)\s+cubed\b/g, " $1 ^ 3 "],
    [/\b(?:to the power of|raised to(?: the power of)?|to the)\b/g, " ^ "],
    [/\b(?:multiplied by|times)\b/g, " * "],
    [/\b(?:divided by|over)\b/g, " / "],
    [/\b(?:plus|added to)\b/g, " + "],
    [/\bminus\b/g, " - "],
    [/\s*(?:percent|per cent|pct)\b/g, "% "],
    [/\bfactorial of\s+([\d.]+)/g, " $1! "],
    [/\b([\d.]+)\s+factorial\b/g, " $1! "],
    [/\bthe\b/g, " "],
  ];
  for (const [re, to] of rules) s = s.replace(re, to);
  return s.replace(/\s+/g, " ").trim();
}

/** One canonical spacing: binary operators spaced, no space inside parentheses or before % and !. */
export function spaceOperators(expression: string): string {
  return expression
    .replace(/\*\*/g, "^")
    .replace(/[×·]/g, "*")
    .replace(/÷/g, "/")
    .replace(/[−–]/g, "-")
    .replace(/\s+/g, "")
    .replace(/([^(^*/+\-,]|^)([+\-*/^])/g, (_m, before: string, op: string) =>
      before === "" ? op : `${before} ${op} `,
    )
    .replace(/(?<![a-z])of(?![a-z])/g, " of ")
    .replace(/,/g, ", ")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * The operation to apply to a figure found by a search: "multiply it by 4" → "* 4",
 * "divided by 2" → "/ 2", "plus 10%" → "+ 10%", "squared" → "^ 2", "double it" → "* 2".
 */
export function operationFromWords(text: string): string | undefined {
  const s = wordsToSymbols(text)
    .replace(/\b(?:it|that|this|number|result|them|by|of|to)\b/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  const verbs: Array<[RegExp, string]> = [
    [/^(?:multiply|multiplied)\s*([\d.]+%?)$/, "* $1"],
    [/^(?:divide|divided|split)\s*(?:into|in)?\s*([\d.]+%?)$/, "/ $1"],
    [/^(?:add|increase)\s*([\d.]+%?)$/, "+ $1"],
    [/^(?:subtract|take away|decrease|reduce)\s*([\d.]+%?)$/, "- $1"],
    [/^double$/, "* 2"],
    [/^triple$/, "* 3"],
    [/^(?:half|halve)(?: of)?$/, "/ 2"],
    [/^(?:square|squared)$/, "^ 2"],
    [/^(?:cube|cubed)$/, "^ 3"],
    [/^\^ ?([\d.]+)$/, "^ $1"],
    [/^([+\-*/]) ?([\d.]+%?)$/, "$1 $2"],
  ];
  for (const [re, to] of verbs) {
    const m = re.exec(s);
    if (m) return s.replace(re, to);
  }
  return undefined;
}

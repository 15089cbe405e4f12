import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { GeneraError } from "../../errors.js";

/**
 * A calculator that parses its input (recursive descent over a token list) and
 * evaluates the tree itself: no `eval`, no `Function`, no property lookups, so text
 * such as `process.exit(1)` or `constructor.constructor` is a syntax error, never code.
 *
 * Grammar, loosest binding first:
 *   sum     := product (("+" | "-") product)*        a ± b% means a ± a·b/100, as on a desk calculator
 *   product := unary (("*" | "/" | "of") unary)*     "15% of 240" is 0.15 × 240
 *   unary   := ("-" | "+") unary | power
 *   power   := postfix ("^" unary)?                  right-associative; -2^2 = -4
 *   postfix := primary ("%" | "!")*
 *   primary := number | constant | function "(" sum ("," sum)* ")" | "(" sum ")"
 */

const MAX_INPUT_CHARS = 1000;
/** Nesting deeper than this is refused before the parser could exhaust the stack. */
const MAX_DEPTH = 64;

type Fn = { arity: [number, number]; apply: (...args: number[]) => number };

const FUNCTIONS = new Map<string, Fn>([
  ["sqrt", { arity: [1, 1], apply: Math.sqrt }],
  ["cbrt", { arity: [1, 1], apply: Math.cbrt }],
  ["abs", { arity: [1, 1], apply: Math.abs }],
  ["round", { arity: [1, 2], apply: (x, d = 0) => roundTo(x, d) }],
  ["floor", { arity: [1, 1], apply: Math.floor }],
  ["ceil", { arity: [1, 1], apply: Math.ceil }],
  ["exp", { arity: [1, 1], apply: Math.exp }],
  ["ln", { arity: [1, 1], apply: Math.log }],
  ["log", { arity: [1, 2], apply: (x, base) => (base === undefined ? Math.log10(x) : Math.log(x) / Math.log(base)) }],
  ["log2", { arity: [1, 1], apply: Math.log2 }],
  ["log10", { arity: [1, 1], apply: Math.log10 }],
  ["sin", { arity: [1, 1], apply: Math.sin }],
  ["cos", { arity: [1, 1], apply: Math.cos }],
  ["tan", { arity: [1, 1], apply: Math.tan }],
  ["asin", { arity: [1, 1], apply: Math.asin }],
  ["acos", { arity: [1, 1], apply: Math.acos }],
  ["atan", { arity: [1, 1], apply: Math.atan }],
  ["min", { arity: [1, 64], apply: Math.min }],
  ["max", { arity: [1, 64], apply: Math.max }],
  ["pow", { arity: [2, 2], apply: Math.pow }],
]);

const CONSTANTS = new Map<string, number>([
  ["pi", Math.PI],
  ["π", Math.PI],
  ["e", Math.E],
  ["tau", 2 * Math.PI],
]);

type Token =
  | { kind: "num"; value: number; at: number }
  | { kind: "name"; value: string; at: number }
  | { kind: "op"; value: string; at: number };

function roundTo(x: number, digits: number): number {
  const f = 10 ** Math.trunc(digits);
  return Math.round(x * f) / f;
}

function syntaxError(expression: string, message: string, at?: number): GeneraError {
  const where = at === undefined ? "" : ` at position ${at + 1}`;
  return new GeneraError("INVALID_INPUT", `Cannot calculate "${expression.slice(0, 80)}": ${message}${where}`, {
    details: { expression: expression.slice(0, 200), ...(at === undefined ? {} : { position: at + 1 }) },
  });
}

const OP_ALIASES: Record<string, string> = { "×": "*", "·": "*", "÷": "/", "−": "-", "–": "-", "**": "^" };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const re =
    /\s+|(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-zπ][A-Za-z0-9]*)|(\*\*|[-+*/^%!(),×·÷−–])/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < expression.length) {
    re.lastIndex = at;
    m = re.exec(expression);
    if (!m) throw syntaxError(expression, `unexpected character "${expression[at]}"`, at);
    if (m[1] !== undefined) tokens.push({ kind: "num", value: Number(m[1]), at });
    else if (m[2] !== undefined) tokens.push({ kind: "name", value: m[2].toLowerCase(), at });
    else if (m[3] !== undefined) tokens.push({ kind: "op", value: OP_ALIASES[m[3]] ?? m[3], at });
    at = re.lastIndex;
  }
  return tokens;
}

/** A number, or a percentage still waiting to learn what it is a percentage of. */
interface Value {
  n: number;
  percent: boolean;
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  parse(): number {
    if (this.tokens.length === 0) throw syntaxError(this.source, "the expression is empty");
    const v = this.sum();
    const next = this.tokens[this.pos];
    if (next) throw syntaxError(this.source, `unexpected "${next.value}"`, next.at);
    return v.n;
  }

  private peekOp(...ops: string[]): string | undefined {
    const t = this.tokens[this.pos];
    if (t && (t.kind === "op" || t.kind === "name") && ops.includes(String(t.value))) return String(t.value);
    return undefined;
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) {
      throw syntaxError(this.source, `nested more than ${MAX_DEPTH} levels deep`, this.tokens[this.pos]?.at);
    }
  }

  private sum(): Value {
    this.enter();
    let left = this.product();
    for (let op = this.peekOp("+", "-"); op; op = this.peekOp("+", "-")) {
      this.pos++;
      const right = this.product();
      const r = right.percent ? (left.n * right.n) / 100 : right.n;
      left = { n: op === "+" ? left.n + r : left.n - r, percent: false };
    }
    this.depth--;
    return settle(left);
  }

  private product(): Value {
    let left = this.unary();
    for (let op = this.peekOp("*", "/", "of"); op; op = this.peekOp("*", "/", "of")) {
      this.pos++;
      const right = settle(this.unary());
      const l = settle(left).n;
      left = { n: op === "/" ? l / right.n : l * right.n, percent: false };
    }
    return left;
  }

  private unary(): Value {
    const op = this.peekOp("+", "-");
    if (!op) return this.power();
    this.pos++;
    this.enter();
    const v = this.unary();
    this.depth--;
    return op === "-" ? { n: -v.n, percent: v.percent } : v;
  }

  private power(): Value {
    const base = this.postfix();
    if (!this.peekOp("^")) return base;
    this.pos++;
    this.enter();
    const exponent = settle(this.unary());
    this.depth--;
    return { n: settle(base).n ** exponent.n, percent: false };
  }

  private postfix(): Value {
    let v = this.primary();
    for (let op = this.peekOp("%", "!"); op; op = this.peekOp("%", "!")) {
      this.pos++;
      if (op === "%") v = { n: v.n, percent: true };
      else v = { n: factorial(settle(v).n, this.source), percent: false };
    }
    return v;
  }

  private primary(): Value {
    const t = this.tokens[this.pos];
    if (!t) throw syntaxError(this.source, "the expression ends too early");
    if (t.kind === "num") {
      this.pos++;
      return { n: t.value, percent: false };
    }
    if (t.kind === "op" && t.value === "(") {
      this.pos++;
      const v = this.sum();
      this.expect(")");
      return v;
    }
    if (t.kind === "name") {
      this.pos++;
      const fn = FUNCTIONS.get(t.value);
      if (fn) return { n: this.call(t.value, fn), percent: false };
      const constant = CONSTANTS.get(t.value);
      if (constant !== undefined) return { n: constant, percent: false };
      throw syntaxError(this.source, `unknown name "${t.value}"`, t.at);
    }
    throw syntaxError(this.source, `unexpected "${t.value}"`, t.at);
  }

  private call(name: string, fn: Fn): number {
    this.expect("(");
    const args = [settle(this.sum()).n];
    while (this.peekOp(",")) {
      this.pos++;
      args.push(settle(this.sum()).n);
    }
    this.expect(")");
    const [lo, hi] = fn.arity;
    if (args.length < lo || args.length > hi) {
      throw syntaxError(
        this.source,
        `${name} takes ${lo === hi ? lo : `${lo} to ${hi}`} argument(s), got ${args.length}`,
      );
    }
    return fn.apply(...args);
  }

  private expect(op: string): void {
    const t = this.tokens[this.pos];
    if (t?.kind !== "op" || t.value !== op) {
      throw syntaxError(this.source, `expected "${op}"${t ? ` but found "${t.value}"` : " at the end"}`, t?.at);
    }
    this.pos++;
  }
}

/** A percentage that is not added to or taken of anything is just a fraction: 50% = 0.5. */
function settle(v: Value): Value {
  return v.percent ? { n: v.n / 100, percent: false } : v;
}

function factorial(n: number, source: string): number {
  if (!Number.isInteger(n) || n < 0) throw syntaxError(source, `factorial needs a whole number ≥ 0, got ${n}`);
  if (n > 170) return Number.POSITIVE_INFINITY;
  let out = 1;
  for (let i = 2; i <= n; i++) out *= i;
  return out;
}

/** Evaluates an arithmetic expression; INVALID_INPUT for anything that is not one. */
export function evaluateExpression(expression: string): number {
  if (typeof expression !== "string") throw new GeneraError("INVALID_INPUT", "The expression must be a string");
  if (expression.length > MAX_INPUT_CHARS) {
    throw new GeneraError(
      "TOO_LARGE",
      `The expression has ${expression.length} characters; the limit is ${MAX_INPUT_CHARS}`,
      {
        details: { length: expression.length, limit: MAX_INPUT_CHARS },
      },
    );
  }
  return new Parser(tokenize(expression), expression).parse();
}

/** 12 significant digits: enough for any figure people read, and it hides binary noise (0.1 + 0.2). */
export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "undefined (not a number)";
  if (!Number.isFinite(n)) return n > 0 ? "infinity" : "-infinity";
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  return String(Number(n.toPrecision(12)));
}

export const calculatorTool = tool(
  async ({ expression }) => `${expression} = ${formatNumber(evaluateExpression(expression))}`,
  {
    name: "calculator",
    description:
      "Evaluates an arithmetic expression exactly: numbers, + - * / ^, parentheses, percentages (15% of 240, 80 + 10%), " +
      "factorial (5!), pi, e, and sqrt, cbrt, abs, round, floor, ceil, exp, ln, log, log2, sin, cos, tan, min, max, pow.",
    schema: z.object({ expression: z.string().describe("The expression, e.g. (3 + 4) * 12 or 15% of 240") }),
  },
);

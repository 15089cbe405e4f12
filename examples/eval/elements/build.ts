/**
 * Builds the "elements" evaluation set: parallel profiles, one Markdown document per chemical
 * element with the same sections (Identity: symbol, atomic number, atomic weight; Description;
 * Other names where the source has them), and questions generated from the structured fields,
 * among them "Which element …?" questions whose answer is a document's title, and questions
 * the corpus does not answer (some about a real element's property the profile lacks).
 *
 * Source: Debian's `dict-elements` package (Jay F. Kominek's Elements database, placed in the
 * public domain by its author; see /usr/share/doc/dict-elements/copyright). The corpus is not
 * committed: this script rebuilds it from the package (`apt-get install -y dict-elements`).
 *
 * Run: node --import ./scripts/ts.mjs examples/eval/elements/build.ts            # corpus/ and qa.jsonl
 *      node --import ./scripts/ts.mjs examples/eval/elements/build.ts --corpus   # corpus/ only (what the bench and tests need)
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { seededRandom } from "../../../src/engine/random.js";

const here = dirname(fileURLToPath(import.meta.url));
export const ELEMENTS_SOURCE = "/usr/share/dictd/elements.dict.dz";

export interface Element {
  name: string;
  file: string;
  symbol: string;
  number: number;
  weight: string;
  description: string;
  otherNames: string[];
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const clean = (s: string) =>
  s
    .replace(/[{}]/g, "")
    .replace(/\s+/g, " ")
    .replace(/\s+([,.])/g, "$1")
    .trim();

/** Parses the dictd database: entries are blank-line separated, headword first. */
export function parseElements(text: string): Element[] {
  const entries = text.split(/\n\s*\n/).map((block) => block.split("\n").filter((l) => l.trim() !== ""));
  const elements: Element[] = [];
  const aliases: Array<{ alias: string; target: string }> = [];
  for (const lines of entries) {
    const head = lines[0]?.trim() ?? "";
    if (!/^[a-z]+$/.test(head)) continue;
    const field = (re: RegExp) =>
      lines
        .find((l) => re.test(l))
        ?.replace(re, "")
        .trim();
    const symbol = field(/^Symbol:\s*/);
    const number = field(/^Atomic number:\s*/);
    const weight = field(/^At(?:o)?mic weight:\s*/);
    if (symbol && number && /^\d+$/.test(number)) {
      const body = lines.slice(1).filter((l) => !/^(Symbol|Atomic number|At(?:o)?mic weight):/.test(l));
      elements.push({
        name: cap(head),
        file: `${head}.md`,
        symbol,
        number: Number(number),
        weight: weight && weight !== "???" ? weight : "not known",
        description: clean(body.join(" ")),
        otherNames: [],
      });
      continue;
    }
    // "wolfram / Original name for {tungsten}." and similar alias entries.
    const alias = /^(?:The )?(?:original|roman|latin|old|former) name for \{(\w+)\}/i.exec(lines.slice(1).join(" "));
    if (alias) aliases.push({ alias: cap(head), target: (alias[1] as string).toLowerCase() });
  }
  elements.sort((a, b) => a.number - b.number);
  for (const { alias, target } of aliases) {
    elements.find((e) => e.name.toLowerCase() === target)?.otherNames.push(alias);
  }
  return elements;
}

export function renderElement(e: Element): string {
  const lines = [
    "---",
    `title: "${e.name}"`,
    'source: "Debian dict-elements 20001107-a-9.1, /usr/share/dictd/elements.dict.dz"',
    'licence: "public domain (Jay F. Kominek, The Elements Database)"',
    "---",
    "",
    `# ${e.name}`,
    "",
    "## Identity",
    "",
    `Symbol: ${e.symbol}`,
    `Atomic number: ${e.number}`,
    `Atomic weight: ${e.weight}`,
    "",
    "## Description",
    "",
    e.description,
    "",
  ];
  if (e.otherNames.length > 0) lines.push("## Other names", "", `Also known as: ${e.otherNames.join(", ")}`, "");
  return lines.join("\n");
}

/** Writes corpus/<element>.md from the installed package; returns the parsed elements. */
export function buildCorpus(outDir = join(here, "corpus")): Element[] {
  if (!existsSync(ELEMENTS_SOURCE)) {
    throw new Error(`${ELEMENTS_SOURCE} is missing: install the Debian package dict-elements`);
  }
  const elements = parseElements(gunzipSync(readFileSync(ELEMENTS_SOURCE)).toString("utf8"));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const e of elements) writeFileSync(join(outDir, e.file), renderElement(e));
  return elements;
}

type Qa = { question: string; answer: string; sources: string[] } | { question: string; unanswerable: true };

/** Who and when, where the description says "Discovered by X in 1776" or "… in 1808 by X". */
function discovery(e: Element): { who?: string; year?: string } {
  const d = e.description;
  const byIn = /\b(?:Discovered|discovered|isolated|Isolated) by ([A-Z][\w.]*(?: [A-Z][\w.]*){0,3}) in (\d{4})/.exec(d);
  if (byIn) return { who: (byIn[1] as string).replace(/\.$/, ""), year: byIn[2] };
  const inBy = /\b(?:discovered|isolated) in (\d{4}) by ([A-Z][\w.]*(?: [A-Z][\w.]*){0,3})/.exec(d);
  if (inBy) return { who: (inBy[2] as string).replace(/\.$/, ""), year: inBy[1] };
  return {};
}

export function buildQuestions(elements: Element[]): Qa[] {
  const rng = seededRandom(20261206);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  const qa: Qa[] = [];
  const src = (e: Element) => [e.file];
  for (const e of elements) {
    const n = e.name;
    const lower = n.toLowerCase();
    const r = rng();
    if (r < 0.5) {
      qa.push({
        question: pick([`What is the chemical symbol of ${lower}?`, `Which symbol stands for ${lower}?`]),
        answer: e.symbol,
        sources: src(e),
      });
    } else {
      qa.push({
        question: pick([`Which element has the symbol ${e.symbol}?`, `Which element is written ${e.symbol}?`]),
        answer: n,
        sources: src(e),
      });
    }
    if (e.weight !== "not known" && rng() < 0.6) {
      qa.push({
        question: pick([
          `What is the atomic weight of ${lower}?`,
          `How heavy is an atom of ${lower}, in atomic weight?`,
        ]),
        answer: e.weight,
        sources: src(e),
      });
    }
    if (rng() < 0.35) {
      qa.push({ question: `Which element has atomic number ${e.number}?`, answer: n, sources: src(e) });
    } else if (rng() < 0.3) {
      qa.push({ question: `What is the atomic number of ${lower}?`, answer: String(e.number), sources: src(e) });
    }
    const { who, year } = discovery(e);
    if (who && year) {
      const kind = rng();
      if (kind < 0.4) qa.push({ question: `Who discovered ${lower}?`, answer: who, sources: src(e) });
      else if (kind < 0.7)
        qa.push({ question: `In which year was ${lower} discovered?`, answer: year, sources: src(e) });
      else qa.push({ question: `Which element did ${who} discover in ${year}?`, answer: n, sources: src(e) });
    }
    for (const alias of e.otherNames) {
      qa.push({ question: `Which element was once called ${alias.toLowerCase()}?`, answer: n, sources: src(e) });
    }
  }

  // Unanswerable: properties no profile records, for real elements (lexically close), and
  // invented elements and symbols.
  const unanswerable: Qa[] = [];
  const absent = (e: Element, words: RegExp) => !words.test(renderElement(e));
  const properties: Array<[string, RegExp]> = [
    ["melting point", /melt/i],
    ["boiling point", /boil/i],
    ["density", /densit/i],
    ["electronegativity", /electroneg/i],
    ["first ionization energy", /ioni[sz]/i],
    ["crystal structure", /crystal/i],
    ["price per kilogram", /price|cost/i],
    ["thermal conductivity", /conduct/i],
  ];
  for (const e of elements) {
    if (rng() > 0.35) continue;
    const [property, words] = pick(properties);
    if (absent(e, words))
      unanswerable.push({ question: `What is the ${property} of ${e.name.toLowerCase()}?`, unanswerable: true });
  }
  for (const e of elements) {
    const { who } = discovery(e);
    if (!who && rng() < 0.12 && absent(e, /discover|isolat|produced|synthesi|detected|identified|\b1\d{3}\b/i)) {
      unanswerable.push({ question: `Who discovered ${e.name.toLowerCase()}?`, unanswerable: true });
    }
  }
  const symbols = new Set(elements.map((e) => e.symbol));
  for (const fake of ["Qx", "Jz", "Vb", "Wq", "Yy"]) {
    if (!symbols.has(fake))
      unanswerable.push({ question: `Which element has the symbol ${fake}?`, unanswerable: true });
  }
  for (const fake of ["adamantium", "vibranium", "octiron", "mithril", "kryptonite", "unobtainium"]) {
    unanswerable.push({ question: `What is the atomic weight of ${fake}?`, unanswerable: true });
  }
  unanswerable.push(
    { question: "Which element has atomic number 140?", unanswerable: true },
    { question: "Which element was discovered on the Moon in 1969?", unanswerable: true },
    { question: "Who won the Nobel Prize in Chemistry in 1911?", unanswerable: true },
    { question: "What is the capital of Australia?", unanswerable: true },
  );
  return [...qa, ...unanswerable];
}

function main(): void {
  const elements = buildCorpus();
  console.log(`corpus: ${elements.length} element profiles`);
  if (process.argv.includes("--corpus")) return;
  const qa = buildQuestions(elements);
  writeFileSync(join(here, "qa.jsonl"), `${qa.map((q) => JSON.stringify(q)).join("\n")}\n`);
  const unanswerable = qa.filter((q) => "unanswerable" in q).length;
  console.log(
    `qa.jsonl: ${qa.length} questions, ${unanswerable} unanswerable (${((100 * unanswerable) / qa.length).toFixed(0)}%)`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();

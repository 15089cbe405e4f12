/**
 * Builds the "css-properties" evaluation set: one reference page per CSS property, in the style
 * of a product catalogue (the same fields on every page, so names and values are what tell the
 * documents apart), and questions generated from those fields plus handwritten.jsonl.
 *
 * Provenance, both CC0-1.0 (public-domain dedication), pinned:
 *   - mdn-data 2.37.2: css/properties.json (syntax, initial value, inheritance, groups, ...) and
 *     l10n/css.json (the English wording of the "applies to", "computed value" ... codes);
 *   - @mdn/browser-compat-data 8.1.9: data.json, css.properties.* (browser versions, notes, spec URLs).
 * The packages are fetched with `npm pack` into a temporary folder (never installed into the
 * project) and only the generated pages are committed.
 *
 * Run: node --import ./scripts/ts.mjs examples/eval/css-properties/build.ts
 */

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { seededRandom as mulberry32 } from "../../../src/engine/random.js";

const here = dirname(fileURLToPath(import.meta.url));
const corpusDir = join(here, "corpus");
const MDN_DATA = "mdn-data@2.37.2";
const BCD = "@mdn/browser-compat-data@8.1.9";
const MAX_DOCS = 300;
const RNG_SEED = 7_121_984;

/** Browsers shown on every page, in this order. */
const BROWSERS = ["chrome", "edge", "firefox", "safari", "opera", "chrome_android", "safari_ios"] as const;

interface MdnProperty {
  syntax: string;
  media: string | string[];
  inherited: boolean;
  animationType: string | string[];
  percentages: string | string[];
  groups: string[];
  initial: string | string[];
  appliesto: string;
  computed: string | string[];
  order: string;
  status: string;
  mdn_url?: string;
  alsoAppliesTo?: string[];
}

interface SupportStatement {
  version_added: string | boolean | null;
  version_removed?: string | boolean | null;
  prefix?: string;
  alternative_name?: string;
  flags?: unknown[];
  partial_implementation?: boolean;
  notes?: string | string[];
}

interface CompatNode {
  __compat?: {
    description?: string;
    spec_url?: string | string[];
    status?: { experimental: boolean; standard_track: boolean; deprecated: boolean };
    support: Record<string, SupportStatement | SupportStatement[]>;
  };
  [child: string]: unknown;
}

interface QaItem {
  question: string;
  answer: string;
  sources: string[];
}

interface Page {
  name: string;
  file: string;
  markdown: string;
  prop: MdnProperty;
  initial: string;
  inherited: "yes" | "no";
  group: string;
  percentages?: string;
  appliesTo: string;
  since: Map<string, string>; // browser name -> "Firefox 20"
  values: Array<{ value: string; since: Map<string, string> }>;
}

function fetchPackage(spec: string, into: string): string {
  const out = execFileSync("npm", ["pack", spec, "--pack-destination", into, "--silent"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  }).trim();
  const tarball = join(into, out.split("\n").pop()!);
  const dest = join(into, out.replace(/\.tgz$/, ""));
  mkdirSync(dest, { recursive: true });
  execFileSync("tar", ["xzf", tarball, "-C", dest]);
  return join(dest, "package");
}

const rng = mulberry32(RNG_SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)];

const stripHtml = (text: string): string =>
  text
    // Attribute values may themselves contain "<number>", so quoted strings are skipped whole.
    .replace(/<[a-zA-Z/](?:[^>"']|"[^"]*"|'[^']*')*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();

function main(): void {
  const work = mkdtempSync(join(tmpdir(), "genera-css-"));
  try {
    const mdn = fetchPackage(MDN_DATA, work);
    const bcdDir = fetchPackage(BCD, work);
    for (const dir of [mdn, bcdDir]) {
      const licence = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { license: string }).license;
      if (licence !== "CC0-1.0") throw new Error(`${dir}: expected licence CC0-1.0, found ${licence}`);
    }
    const properties = JSON.parse(readFileSync(join(mdn, "css", "properties.json"), "utf8")) as Record<
      string,
      MdnProperty
    >;
    const l10n = JSON.parse(readFileSync(join(mdn, "l10n", "css.json"), "utf8")) as Record<
      string,
      Record<string, string>
    >;
    const bcd = JSON.parse(readFileSync(join(bcdDir, "data.json"), "utf8")) as {
      browsers: Record<string, { name: string }>;
      css: { properties: Record<string, CompatNode> };
    };
    build(properties, l10n, bcd);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function build(
  properties: Record<string, MdnProperty>,
  l10n: Record<string, Record<string, string>>,
  bcd: { browsers: Record<string, { name: string }>; css: { properties: Record<string, CompatNode> } },
): void {
  // mdn-data stores most fields as codes ("asSpecified") whose wording lives in l10n/css.json;
  // a field that is not a code is literal CSS and is shown as code.
  const english = (value: string | string[]): string => {
    const one = (v: string) => {
      let text = l10n[v]?.["en-US"];
      if (!text) return `\`${v}\``;
      // "lpc" is MDN's "<length>, percentage or calc()" with the type left as a placeholder.
      if (v === "lpc") text = text.replace("$1$", "length");
      if (/\$\d\$/.test(text)) return `\`${v}\``;
      return stripHtml(text.replace(/;\s*$/, "").replace(/\{\{\s*\w+\(\s*"([^"]+)"[^}]*\}\}/g, "$1"));
    };
    return Array.isArray(value) ? value.map(one).join("; ") : one(value);
  };
  const literal = (value: string | string[]): string =>
    Array.isArray(value) ? value.map((v) => english(v)).join(", ") : l10n[value] ? english(value) : value;

  const browserName = (id: string) => bcd.browsers[id]?.name ?? id;
  const supportSince = (node: CompatNode | undefined): { since: Map<string, string>; notes: string[] } => {
    const since = new Map<string, string>();
    const notes: string[] = [];
    const support = node?.__compat?.support ?? {};
    for (const id of BROWSERS) {
      const raw = support[id];
      if (!raw) continue;
      const statements = Array.isArray(raw) ? raw : [raw];
      const main = statements.find((s) => !s.prefix && !s.alternative_name && !s.flags) ?? statements[0];
      const name = browserName(id);
      let text: string;
      if (main.version_added === false || main.version_added === null) text = `${name}: not supported`;
      else if (main.version_added === true) text = `${name}: supported (version unknown)`;
      else text = `${name} ${main.version_added}`;
      if (main.version_removed) text += ` (removed in ${main.version_removed})`;
      if (main.partial_implementation) text += " (partial support)";
      const prefixed = statements.find((s) => s.prefix && typeof s.version_added === "string");
      if (prefixed && main !== prefixed)
        text += ` (with the ${prefixed.prefix} prefix since ${prefixed.version_added})`;
      since.set(name, text);
      for (const s of statements) {
        for (const n of [s.notes ?? []].flat()) notes.push(`${name}: ${stripHtml(n)}`);
      }
    }
    return { since, notes };
  };

  const candidates = Object.keys(properties)
    .filter((name) => !name.startsWith("-") && properties[name].status === "standard")
    .filter((name) => bcd.css.properties[name]?.__compat)
    // Properties that Chrome, Firefox and Safari all ship: the ones people actually ask about.
    .filter((name) => {
      const support = bcd.css.properties[name].__compat!.support;
      return ["chrome", "firefox", "safari"].every((id) => {
        const raw = support[id];
        const first = raw && (Array.isArray(raw) ? raw[0] : raw);
        return typeof first?.version_added === "string" && /^\d/.test(first.version_added) && !first.version_removed;
      });
    });
  // The longest-shipped properties first (by Chrome's first version): these are the well-known
  // ones people ask about. Ties are broken by a hash so no part of the alphabet is favoured.
  const chromeSince = (name: string): number => {
    const raw = bcd.css.properties[name].__compat!.support.chrome;
    const first = Array.isArray(raw) ? raw[0] : raw;
    return Number.parseFloat(String(first.version_added));
  };
  const chosen = candidates
    .map((name) => ({ name, since: chromeSince(name), key: createHash("sha1").update(name).digest("hex") }))
    .sort((a, b) => a.since - b.since || a.key.localeCompare(b.key))
    .slice(0, MAX_DOCS)
    .map((x) => x.name)
    .sort();

  console.log(`css-properties: ${candidates.length} candidate properties, ${chosen.length} chosen`);
  const pages: Page[] = [];
  for (const name of chosen) {
    const prop = properties[name];
    const node = bcd.css.properties[name];
    const compat = node.__compat!;
    const { since, notes } = supportSince(node);
    const group = prop.groups[0];
    const initial = Array.isArray(prop.initial) ? prop.initial.join(", ") : literal(prop.initial);
    const inherited = prop.inherited ? "yes" : "no";
    const appliesTo = english(prop.appliesto);
    const percentages = prop.percentages === "no" ? undefined : english(prop.percentages);
    const specUrls = [compat.spec_url ?? []].flat();

    const values: Page["values"] = [];
    for (const [child, value] of Object.entries(node)) {
      if (child === "__compat" || typeof value !== "object" || value === null) continue;
      const sub = value as CompatNode;
      if (!sub.__compat) continue;
      values.push({ value: child, since: supportSince(sub).since });
    }

    const lines: string[] = [
      "---",
      `title: ${JSON.stringify(`${name} (CSS property)`)}`,
      `tags: ${JSON.stringify(["css", ...prop.groups])}`,
      `source: ${JSON.stringify(`${MDN_DATA} css/properties.json; ${BCD} css.properties.${name}`)}`,
      'licence: "CC0-1.0"',
      "---",
      "",
      `# ${name}`,
      "",
      `The \`${name}\` CSS property is part of the ${prop.groups.join(" and ")} module${prop.groups.length > 1 ? "s" : ""}. ` +
        `It applies to ${appliesTo}${prop.alsoAppliesTo?.length ? ` (also ${prop.alsoAppliesTo.join(", ")})` : ""}, ` +
        `it is ${prop.inherited ? "" : "not "}inherited, and its initial value is ${initial.includes("`") ? initial : `\`${initial}\``}.`,
      "",
      "## Formal definition",
      "",
      `- Initial value: ${initial.includes("`") ? initial : `\`${initial}\``}`,
      `- Applies to: ${appliesTo}`,
      `- Inherited: ${inherited}`,
      `- Percentages: ${percentages ?? "not applicable"}`,
      `- Computed value: ${english(prop.computed)}`,
      `- Animation type: ${english(prop.animationType)}`,
      `- Canonical order: ${english(prop.order)}`,
      `- Media: ${Array.isArray(prop.media) ? prop.media.join(", ") : prop.media}`,
      "",
      "## Formal syntax",
      "",
      "```",
      `${name} = ${prop.syntax}`,
      "```",
      "",
      "## Browser compatibility",
      "",
      ...[...since.values()].map((s) => `- ${s}`),
      "",
    ];
    if (notes.length) lines.push("Notes:", "", ...notes.slice(0, 4).map((n) => `- ${n}`), "");
    if (values.length) {
      lines.push("### Values and sub-features", "");
      for (const v of values.slice(0, 12)) {
        const list = [...v.since.values()].filter((s) => !/: (not supported|supported \(version unknown\))$/.test(s));
        lines.push(
          `- \`${v.value}\`: ${list.length ? `supported since ${list.slice(0, 4).join(", ")}` : "not widely supported"}`,
        );
      }
      lines.push("");
    }
    lines.push("## Specification", "");
    for (const url of specUrls) lines.push(`- ${url}`);
    if (prop.mdn_url) lines.push(`- MDN reference: ${prop.mdn_url}`);
    lines.push("");
    pages.push({
      name,
      file: `${name}.md`,
      markdown: lines.join("\n"),
      prop,
      initial,
      inherited,
      group,
      percentages,
      appliesTo,
      since,
      values,
    });
  }

  rmSync(corpusDir, { recursive: true, force: true });
  mkdirSync(corpusDir, { recursive: true });
  for (const p of pages) writeFileSync(join(corpusDir, p.file), p.markdown);

  const generated = questions(pages);
  const handwrittenPath = join(here, "handwritten.jsonl");
  const handwritten = existsSync(handwrittenPath)
    ? readFileSync(handwrittenPath, "utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as QaItem)
    : [];
  const all = [...generated, ...handwritten].map((q) =>
    JSON.stringify({ question: q.question, answer: q.answer, sources: q.sources }),
  );
  // Questions the profiles do not answer (absent properties, facts no profile records): kept as written.
  const unanswerablePath = join(here, "unanswerable.jsonl");
  if (existsSync(unanswerablePath))
    all.push(
      ...readFileSync(unanswerablePath, "utf8")
        .split("\n")
        .filter((l) => l.trim()),
    );
  writeFileSync(join(here, "qa.jsonl"), `${all.join("\n")}\n`);
  const bytes = pages.reduce((n, p) => n + Buffer.byteLength(p.markdown), 0);
  const readme = [
    "# css-properties evaluation set",
    "",
    `${pages.length} reference pages, one per CSS property, generated by \`build.ts\` from MDN's structured data,`,
    `and questions about them in \`qa.jsonl\`: ${generated.length} generated from the pages' fields (initial value,`,
    'inheritance, module, percentages, formal syntax, browser versions, and "which property of module M has',
    `initial value V"), plus ${handwritten.length} hand-written paraphrases in \`handwritten.jsonl\`. Corpus size:`,
    `${(bytes / 1024).toFixed(0)} KiB.`,
    "",
    "Every page has the same layout, so what tells pages apart is names and values: a catalogue-style",
    "corpus, unlike the prose of examples/knowledge and the manual pages of man-pages. The pages are",
    "the properties that Chrome, Firefox and Safari all ship, oldest first (by Chrome's first version).",
    "",
    "Each line of `qa.jsonl` is `{ question, answer, sources }`; `answer` occurs verbatim in every",
    "file of `sources` (paths relative to `corpus/`). Verify with `node --import ./scripts/ts.mjs examples/eval/check.ts`.",
    "",
    "## Provenance and licence",
    "",
    `- \`${MDN_DATA}\` (npm): css/properties.json and l10n/css.json. Licence CC0-1.0.`,
    `- \`${BCD}\` (npm): data.json, css.properties. Licence CC0-1.0.`,
    "",
    "Both are public-domain dedications by Mozilla and the MDN contributors. `build.ts` fetches the pinned",
    "versions with `npm pack` into a temporary folder, checks the licence field, and deletes the folder.",
    "",
  ].join("\n");
  writeFileSync(join(here, "README.md"), readme);
  console.log(
    `css-properties: ${pages.length} documents (${(bytes / 1024).toFixed(0)} KiB), ` +
      `${generated.length} generated + ${handwritten.length} hand-written questions`,
  );
}

function questions(pages: Page[]): QaItem[] {
  const items: QaItem[] = [];
  const groupInitial = new Map<string, number>();
  for (const p of pages) {
    const key = `${p.group}\u0000${p.initial}`;
    groupInitial.set(key, (groupInitial.get(key) ?? 0) + 1);
  }
  for (const p of pages) {
    const src = [p.file];
    const kinds: Array<() => QaItem | undefined> = [
      () => ({
        question: pick([
          `What is the default value of the CSS property ${p.name}?`,
          `If I don't set ${p.name}, what value does it start with?`,
          `What's the initial value of ${p.name}?`,
        ]),
        answer: p.initial,
        sources: src,
      }),
      () => ({
        question: pick([
          `Does ${p.name} inherit from the parent element?`,
          `Is the ${p.name} property inherited by child elements?`,
        ]),
        answer: `Inherited: ${p.inherited}`,
        sources: src,
      }),
      () => ({
        question: pick([`Which CSS specification module defines ${p.name}?`, `${p.name} belongs to which CSS module?`]),
        answer: p.group,
        sources: src,
      }),
    ];
    if (p.percentages) {
      const percentages = p.percentages;
      kinds.push(() => ({
        question: `When ${p.name} is given as a percentage, what is it a percentage of?`,
        answer: percentages,
        sources: src,
      }));
    }
    const numbered = [...p.since.entries()].filter(([, s]) => /^\S+(?: \S+)* \d+(\.\d+)?$/.test(s));
    if (numbered.length) {
      const [browser, text] = pick(numbered);
      kinds.push(() => ({
        question: pick([
          `Since which ${browser} version is ${p.name} supported?`,
          `From what version of ${browser} can I use ${p.name}?`,
        ]),
        answer: text,
        sources: src,
      }));
    }
    const subValues = p.values.filter((v) => /^[a-z][a-z0-9-]+$/.test(v.value) && v.since.has("Chrome"));
    if (subValues.length) {
      const v = pick(subValues);
      const chrome = v.since.get("Chrome")!;
      if (/^Chrome \d+$/.test(chrome)) {
        kinds.push(() => ({
          question: `In which Chrome version did the ${v.value} value or feature of ${p.name} arrive?`,
          answer: chrome,
          sources: src,
        }));
      }
    }
    if (groupInitial.get(`${p.group}\u0000${p.initial}`) === 1 && p.initial.length <= 30) {
      kinds.push(() => ({
        question: `Which ${p.group} property has an initial value of ${p.initial}?`,
        answer: p.name,
        sources: src,
      }));
    }
    if (p.prop.syntax.length <= 60) {
      kinds.push(() => ({
        question: `What is the formal syntax of ${p.name}?`,
        answer: p.prop.syntax,
        sources: src,
      }));
    }
    const order = kinds.map((k) => ({ k, r: rng() })).sort((a, b) => a.r - b.r);
    // Fewer questions per page than the man-pages set: the pages are short and alike.
    const wanted = rng() < 0.1 ? 2 : 1;
    let made = 0;
    for (const { k } of order) {
      if (made >= wanted) break;
      const item = k();
      if (item) {
        items.push(item);
        made++;
      }
    }
  }
  return items;
}

main();

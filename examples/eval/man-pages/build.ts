/**
 * Builds the "man-pages" evaluation set: a corpus of command-line manual pages rendered to
 * Markdown, one document per command, and questions generated from the pages' structured
 * parts (NAME line, option lists, AUTHOR section, footer) plus the hand-written questions in
 * handwritten.jsonl.
 *
 * Provenance: section-1 manual pages installed by Debian 12 (bookworm) packages, rendered with
 * man-db (`man --nh --nj -P cat -l <file>`, 80 columns, no hyphenation, no justification) so that
 * sentences are never split by a hyphen at a line end. Each document's front matter records the
 * Debian package, its version, the page's own copyright/licence line where it has one, and the
 * licence of the package's `Files: *` stanza in /usr/share/doc/<package>/copyright. Only packages
 * under free licences (GPL, LGPL, BSD, MIT-style, public domain, OpenSSH, curl, Info-ZIP) are used;
 * see README.md next to this file for the table. The Debian FAQ is deliberately not used.
 *
 * The committed corpus is the artefact; rerunning needs a Debian machine with those packages and
 * their man pages installed, and rewrites corpus/, qa.jsonl and README.md deterministically for
 * the same package versions.
 *
 * Run: node --import ./scripts/ts.mjs examples/eval/man-pages/build.ts
 */
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { seededRandom as mulberry32 } from "../../../src/engine/random.js";

const here = dirname(fileURLToPath(import.meta.url));
const corpusDir = join(here, "corpus");

/** Packages whose man1 pages are used, in a fixed order so output is stable. */
const PACKAGES = [
  "coreutils",
  "grep",
  "sed",
  "tar",
  "findutils",
  "diffutils",
  "gzip",
  "bzip2",
  "xz-utils",
  "util-linux",
  "bsdutils",
  "bsdextrautils",
  "procps",
  "psmisc",
  "less",
  "file",
  "curl",
  "wget",
  "openssh-client",
  "make",
  "patch",
  "jq",
  "man-db",
  "dpkg",
  "debianutils",
  "hostname",
  "time",
  "zip",
  "unzip",
  "mawk",
  "ncurses-bin",
  "passwd",
  "login",
  "e2fsprogs",
];

/** Packages whose copyright file is not machine-readable; licences taken from the file's prose. */
const LICENCE_OVERRIDES: Record<string, string> = {
  wget: "GPL-3+",
  patch: "GPL-3+",
  zip: "Info-ZIP",
  unzip: "Info-ZIP",
};

const MIN_CHARS = 1500;
const MAX_CHARS = 40_000;
const MAX_DOCS = 220;
const RNG_SEED = 20240301;

interface OptionEntry {
  tag: string;
  short?: string;
  long?: string;
  description: string;
}

interface ManPage {
  command: string;
  names: string[];
  description: string;
  package: string;
  version: string;
  licence: string;
  source: string;
  footer: string;
  markdown: string;
  options: OptionEntry[];
  authors?: string;
}

interface QaItem {
  question: string;
  answer: string;
  sources: string[];
}

// ---------------------------------------------------------------------------------------------
// Rendering and parsing

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, {
    encoding: "utf8",
    env: { ...process.env, MANWIDTH: "80", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", MAN_KEEP_FORMATTING: "" },
    stdio: ["ignore", "pipe", "ignore"],
    maxBuffer: 16 * 1024 * 1024,
  });
}

function packageLicence(pkg: string): string {
  if (LICENCE_OVERRIDES[pkg]) return LICENCE_OVERRIDES[pkg];
  const path = `/usr/share/doc/${pkg}/copyright`;
  if (!existsSync(path)) throw new Error(`${pkg}: no ${path}, cannot state the licence`);
  const text = readFileSync(path, "utf8");
  const stanza = text.split(/\n\s*\n/).find((s) => /^Files:\s*\*\s*$/m.test(s));
  const licence = stanza?.match(/^License:\s*(.+)$/m)?.[1].trim();
  if (!licence) throw new Error(`${pkg}: no "Files: *" licence in ${path}`);
  return licence;
}

const indentOf = (line: string): number => line.length - line.trimStart().length;
const squash = (text: string): string => text.replace(/\s+/g, " ").trim();

function parseOptionTag(tag: string): Pick<OptionEntry, "short" | "long"> {
  const out: Pick<OptionEntry, "short" | "long"> = {};
  for (const part of tag.split(/,\s*/)) {
    const short = part.match(/^(-[A-Za-z0-9])(?![A-Za-z0-9-])/);
    const long = part.match(/^(--[a-z0-9][a-z0-9-]*)/);
    if (short && !out.short) out.short = short[1];
    if (long && !out.long) out.long = long[1];
  }
  return out;
}

const mdCode = (text: string): string => (text.includes("`") ? text : `\`${text}\``);

/**
 * Converts man's formatted text into Markdown. Layout is read from indentation: column 0 is a
 * section heading, columns between 0 and the body indent are sub-headings, a line at the body
 * indent followed by deeper lines is a tagged paragraph (an option or a definition), and deeper
 * blocks that follow no tag are preformatted text.
 */
function toMarkdown(
  rendered: string,
  title: string,
): { body: string; options: OptionEntry[]; sections: Map<string, string> } {
  const lines = rendered.replace(/\r/g, "").split("\n");
  while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
  const content = lines.slice(1, -1); // header and footer lines carry no content of their own
  const nameLine = content.findIndex((l) => l.trim() !== "" && indentOf(l) > 0);
  const base = nameLine >= 0 ? indentOf(content[nameLine]) : 7;

  // Description indent: the most common deeper indent directly under a line at the base indent.
  const counts = new Map<number, number>();
  for (let i = 0; i + 1 < content.length; i++) {
    if (
      content[i].trim() &&
      indentOf(content[i]) === base &&
      content[i + 1].trim() &&
      indentOf(content[i + 1]) > base
    ) {
      const d = indentOf(content[i + 1]);
      counts.set(d, (counts.get(d) ?? 0) + 1);
    }
  }
  const descIndent = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? base + 7;

  const out: string[] = [`# ${title}`, ""];
  const options: OptionEntry[] = [];
  const sections = new Map<string, string>();
  let section = "";
  let block: string[] = [];
  let lastDefinition: { entry?: OptionEntry; open: boolean } = { open: false };

  const emitPre = (ls: string[]) => {
    const min = Math.min(...ls.map(indentOf));
    out.push("```text", ...ls.map((l) => l.slice(min)), "```", "");
  };
  const addSectionText = (text: string) => {
    sections.set(section, `${sections.get(section) ?? ""} ${text}`.trim());
  };

  const flush = () => {
    if (block.length === 0) return;
    const ls = block;
    block = [];
    if (section === "NAME") {
      const paragraph = squash(ls.join(" "));
      out.push(paragraph, "");
      addSectionText(paragraph);
      return;
    }
    if (section === "SYNOPSIS") {
      emitPre(ls);
      addSectionText(squash(ls.join(" ")));
      return;
    }
    const first = ls[0];
    const firstIndent = indentOf(first);
    const rest = ls.slice(1);
    if (firstIndent === base) {
      // A tag sharing its line with the start of the description ("-n     do not output ...").
      let tag: string | undefined;
      let descLines: string[] = [];
      const head = first.slice(base, descIndent);
      if (
        first.length > descIndent &&
        first[descIndent - 1] === " " &&
        first[descIndent] !== " " &&
        /^\S+(?: \S+)?\s*$/.test(head) &&
        // "-e, --expire" whose description went to the next line is one long tag, not "-e," + text.
        !head.trim().endsWith(",") &&
        (!head.trim().includes(" ") || /^[-+%]/.test(head.trim())) &&
        !/^[-+]/.test(first.slice(descIndent)) &&
        (rest.length === 0 || rest.every((l) => indentOf(l) >= descIndent))
      ) {
        tag = head.trim();
        descLines = [first.slice(descIndent), ...rest];
      } else if (rest.length > 0 && rest.every((l) => indentOf(l) > base)) {
        tag = first.trim();
        descLines = rest;
      }
      if (tag !== undefined) {
        const main = descLines.filter((l) => indentOf(l) <= descIndent || l === first.slice(descIndent));
        const deeper = descLines.filter((l) => !main.includes(l));
        const description = squash(main.join(" "));
        out.push(`- ${mdCode(tag)}: ${description}`);
        if (deeper.length) out.push("", ...deeper.map((l) => `      ${l.trim()}`));
        out.push("");
        addSectionText(`${tag}: ${description}`);
        const isOption = /^[-+]/.test(tag);
        const entry = isOption ? { tag, ...parseOptionTag(tag), description } : undefined;
        if (entry) options.push(entry);
        lastDefinition = { entry, open: true };
        return;
      }
      const paragraph = squash(ls.join(" "));
      out.push(paragraph, "");
      addSectionText(paragraph);
      lastDefinition = { open: false };
      return;
    }
    if (lastDefinition.open && firstIndent === descIndent && ls.every((l) => indentOf(l) === descIndent)) {
      const paragraph = squash(ls.join(" "));
      out.push(`  ${paragraph}`, "");
      addSectionText(paragraph);
      if (lastDefinition.entry) lastDefinition.entry.description += ` ${paragraph}`;
      return;
    }
    emitPre(ls);
    addSectionText(squash(ls.join(" ")));
  };

  for (const line of content) {
    if (line.trim() === "") {
      flush();
      continue;
    }
    const indent = indentOf(line);
    if (indent === 0) {
      flush();
      section = line.trim();
      out.push(`## ${section}`, "");
      lastDefinition = { open: false };
      continue;
    }
    if (indent < base) {
      flush();
      out.push(`### ${line.trim()}`, "");
      lastDefinition = { open: false };
      continue;
    }
    block.push(line);
  }
  flush();
  return {
    body: `${out
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      .trim()}\n`,
    options,
    sections,
  };
}

function manPageFiles(pkg: string): string[] {
  return run("dpkg", ["-L", pkg])
    .split("\n")
    .filter((p) => /^\/usr\/share\/man\/man1\/[A-Za-z0-9][A-Za-z0-9._+-]*\.1\.gz$/.test(p))
    .filter((p) => existsSync(p) && !lstatSync(p).isSymbolicLink())
    .sort();
}

function buildPage(pkg: string, version: string, licence: string, file: string): ManPage | undefined {
  const roff = gunzipSync(readFileSync(file)).toString("utf8");
  if (/^\.so\s/m.test(roff.slice(0, 200))) return undefined; // a redirect to another page
  const rendered = run("man", ["--nh", "--nj", "-P", "cat", "-l", file]);
  const command = basename(file, ".1.gz");
  const footerLine = rendered.trimEnd().split("\n").pop() ?? "";
  const footerParts = footerLine.trim().split(/\s{2,}/);
  const footer = footerParts.length >= 2 ? footerParts.slice(0, -1).join(", ") : "";
  const nameMatch = rendered.match(/^NAME\n([\s\S]*?)\n\n/m);
  if (!nameMatch) return undefined;
  const nameText = squash(nameMatch[1]);
  const split = nameText.match(/^(.+?)\s+[-—–]+\s+(.+)$/);
  if (!split) return undefined;
  const names = split[1].split(/,\s*/).map((n) => n.trim());
  const description = split[2].replace(/\.$/, "");
  const title = `${command}(1): ${description}`;
  const { body, options, sections } = toMarkdown(rendered, title);
  const pageLicence = sections
    .get("COPYRIGHT")
    ?.match(/Licen[cs]e[^.<]*/)?.[0]
    .trim();
  const author = sections.get("AUTHOR") ?? sections.get("AUTHORS");
  const written = author?.match(/^Written by (.+?)\.(?:\s|$)/)?.[1];
  const frontMatter = [
    "---",
    `title: ${JSON.stringify(title)}`,
    `command: ${JSON.stringify(command)}`,
    `package: ${JSON.stringify(pkg)}`,
    `package_version: ${JSON.stringify(version)}`,
    `licence: ${JSON.stringify(pageLicence ? `${pageLicence} (package: ${licence})` : licence)}`,
    `source: ${JSON.stringify(`Debian 12 ${file}`)}`,
    "---",
    "",
    "",
  ].join("\n");
  const trailer = footer ? `\nManual page from ${footer}; Debian package ${pkg} ${version}.\n` : "";
  const markdown = frontMatter + body + trailer;
  return {
    command,
    names,
    description,
    package: pkg,
    version,
    licence: pageLicence ?? licence,
    source: file,
    footer,
    markdown,
    options,
    authors: written,
  };
}

// ---------------------------------------------------------------------------------------------
// Question generation

const rng = mulberry32(RNG_SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)];

/** The first sentence of an option description, if it is short, plain and self-contained. */
function firstSentence(description: string): string | undefined {
  const sentence = description
    .split(/(?<=[a-z)])\.\s/)[0]
    .replace(/\.$/, "")
    .trim();
  if (sentence.length < 12 || sentence.length > 90) return undefined;
  if (!/^[A-Za-z0-9 ,'()/-]+$/.test(sentence)) return undefined;
  if (/^(same as|equivalent to|see|like|this option|synonym)/i.test(sentence)) return undefined;
  return sentence;
}

const VERB_START =
  /^(add|adjust|allow|alter|ask|build|calculate|change|check|clear|collect|compare|compress|concatenate|control|convert|copy|count|create|decompress|delete|determine|dis|display|dump|edit|encode|erase|execute|expand|extract|filter|find|flush|format|generate|get|handle|identify|kill|list|locate|lock|log|look|make|manage|manipulate|merge|modify|mount|move|number|output|overwrite|pack|page|paste|perform|print|query|read|reboot|remove|rename|report|reset|resize|return|reverse|run|scan|search|send|set|show|shrink|shut|sort|split|start|stream|strip|summarize|suspend|switch|synchronize|tell|test|trace|translate|truncate|unmount|update|view|wait|wipe|write)/i;

function generateQuestions(pages: ManPage[]): QaItem[] {
  const items: QaItem[] = [];
  const source = (p: ManPage) => [`${p.command}.md`];
  const descCount = new Map<string, number>();
  for (const p of pages)
    descCount.set(p.description.toLowerCase(), (descCount.get(p.description.toLowerCase()) ?? 0) + 1);
  const longOwners = new Map<string, Set<string>>();
  for (const p of pages) {
    for (const o of p.options) if (o.long) longOwners.set(o.long, (longOwners.get(o.long) ?? new Set()).add(p.command));
  }
  const authorsSeen = new Map<string, number>();
  // Every page of a package names the same version, so these questions say little; keep a few.
  const MAX_VERSION_QUESTIONS = 8;
  let versionQuestions = 0;

  for (const p of pages) {
    const kinds: Array<() => QaItem | undefined> = [];
    // Lookup by name: what does the command do?
    kinds.push(() => ({
      question: pick([
        `What does the ${p.command} command do?`,
        `What is ${p.command} used for?`,
        `In a few words, what's the purpose of the ${p.command} utility?`,
      ]),
      answer: p.description,
      sources: source(p),
    }));
    // Reverse lookup: which command performs the task?
    const giveaway = new RegExp(`(^|[^\\w-])${p.command.replace(/[.+]/g, "\\$&")}($|[^\\w-])`, "i");
    if (
      VERB_START.test(p.description) &&
      descCount.get(p.description.toLowerCase()) === 1 &&
      // Long NAME lines would be copied word for word into the question, and a description that
      // contains the command's own name gives the answer away.
      (p.description.match(/[\p{L}\p{N}]+/gu) ?? []).length <= 7 &&
      !giveaway.test(p.description)
    ) {
      const task = p.description.charAt(0).toLowerCase() + p.description.slice(1);
      kinds.push(() => ({
        question: pick([
          `Which command would I run to ${task}?`,
          `I need to ${task}. What's the tool for that?`,
          `What command-line program is meant to ${task}?`,
        ]),
        answer: p.command,
        sources: source(p),
      }));
    }
    const paired = p.options.filter((o) => o.short && o.long && o.long !== "--help" && o.long !== "--version");
    if (paired.length) {
      const o = pick(paired);
      kinds.push(() =>
        rng() < 0.5
          ? {
              question: `What is the long form of the ${o.short} flag of ${p.command}?`,
              answer: o.long!,
              sources: source(p),
            }
          : {
              question: `Which single-letter option of ${p.command} is the same as ${o.long}?`,
              answer: o.short!,
              sources: source(p),
            },
      );
    }
    const explained = p.options
      .filter((o) => !/^--(help|version)\b/.test(o.tag) && (o.long ?? o.short) !== undefined)
      .filter((o) => !/\b(help|usage|version)\b/i.test(o.description))
      .map((o) => ({ o, sentence: firstSentence(o.description) }))
      .filter((x): x is { o: OptionEntry; sentence: string } => x.sentence !== undefined);
    if (explained.length) {
      const { o, sentence } = pick(explained);
      const flag = (o.long ?? o.short)!;
      kinds.push(() => ({
        question: pick([
          `What does the ${flag} option do in ${p.command}?`,
          `If I pass ${flag} to ${p.command}, what happens?`,
          `What is the effect of ${p.command} ${flag}?`,
        ]),
        answer: sentence,
        sources: source(p),
      }));
    }
    const unique = p.options.filter(
      (o) => o.long && o.long.length > 6 && longOwners.get(o.long)?.size === 1 && !/^--(help|version)$/.test(o.long),
    );
    if (unique.length) {
      const o = pick(unique);
      kinds.push(() => ({
        question: pick([`Which command has a ${o.long} option?`, `Which of these tools accepts the ${o.long} flag?`]),
        answer: p.command,
        sources: source(p),
      }));
    }
    if (p.authors && p.authors.length < 80) {
      kinds.push(() => {
        const n = (authorsSeen.get(p.authors!) ?? 0) + 1;
        authorsSeen.set(p.authors!, n);
        if (n > 3) return undefined; // many coreutils share authors; a few such questions are enough
        return {
          question: pick([`Who wrote ${p.command}?`, `Who are the authors of the ${p.command} program?`]),
          answer: p.authors!,
          sources: source(p),
        };
      });
    }
    const version = p.footer.match(/^(GNU [A-Za-z]+|util-linux|procps-ng|psmisc) ([0-9][0-9.]*[0-9])\b/);
    if (version && versionQuestions < MAX_VERSION_QUESTIONS) {
      kinds.push(() => {
        versionQuestions++;
        return {
          question: `Which version of ${version[1]} does the ${p.command} manual page describe?`,
          answer: version[2],
          sources: source(p),
        };
      });
    }

    // One question per page, a second for about a third of them; never two of the same kind.
    const order = kinds.map((k) => ({ k, r: rng() })).sort((a, b) => a.r - b.r);
    const wanted = rng() < 0.35 ? 2 : 1;
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

function readHandwritten(): QaItem[] {
  const path = join(here, "handwritten.jsonl");
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as QaItem);
}

// ---------------------------------------------------------------------------------------------

function main(): void {
  const pages: ManPage[] = [];
  const seen = new Set<string>();
  for (const pkg of PACKAGES) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a template
    const version = run("dpkg-query", ["-W", "-f", "${Version}", pkg]).trim();
    const licence = packageLicence(pkg);
    for (const file of manPageFiles(pkg)) {
      const page = buildPage(pkg, version, licence, file);
      if (!page || seen.has(page.command)) continue;
      const size = Buffer.byteLength(page.markdown);
      if (size < MIN_CHARS || size > MAX_CHARS) continue;
      seen.add(page.command);
      pages.push(page);
    }
  }
  if (pages.length > MAX_DOCS) {
    // Drop the shortest pages of the largest package, so every package stays represented and
    // the well-known, well-documented commands (ls, grep, tar) stay in.
    pages.sort((a, b) => a.command.localeCompare(b.command));
    while (pages.length > MAX_DOCS) {
      const byPkg = new Map<string, number>();
      for (const p of pages) byPkg.set(p.package, (byPkg.get(p.package) ?? 0) + 1);
      const biggest = [...byPkg.entries()].sort((a, b) => b[1] - a[1])[0][0];
      const victims = pages.filter((p) => p.package === biggest);
      const victim = victims.reduce((a, b) => (Buffer.byteLength(b.markdown) < Buffer.byteLength(a.markdown) ? b : a));
      pages.splice(pages.indexOf(victim), 1);
    }
  }
  pages.sort((a, b) => a.command.localeCompare(b.command));

  rmSync(corpusDir, { recursive: true, force: true });
  mkdirSync(corpusDir, { recursive: true });
  for (const p of pages) writeFileSync(join(corpusDir, `${p.command}.md`), p.markdown);

  const generated = generateQuestions(pages);
  const handwritten = readHandwritten();
  const lines = [...generated, ...handwritten].map((q) =>
    JSON.stringify({ question: q.question, answer: q.answer, sources: q.sources }),
  );
  // Questions the pages do not answer (absent commands, facts no page records): kept as written.
  const unanswerablePath = join(here, "unanswerable.jsonl");
  if (existsSync(unanswerablePath))
    lines.push(
      ...readFileSync(unanswerablePath, "utf8")
        .split("\n")
        .filter((l) => l.trim()),
    );
  writeFileSync(join(here, "qa.jsonl"), `${lines.join("\n")}\n`);

  const byPackage = new Map<string, { version: string; licence: string; commands: string[] }>();
  for (const p of pages) {
    const entry = byPackage.get(p.package) ?? { version: p.version, licence: packageLicence(p.package), commands: [] };
    entry.commands.push(p.command);
    byPackage.set(p.package, entry);
  }
  const totalBytes = pages.reduce((n, p) => n + Buffer.byteLength(p.markdown), 0);
  const readme = [
    "# man-pages evaluation set",
    "",
    `${pages.length} section-1 manual pages of common command-line tools from Debian 12 (bookworm), rendered`,
    "to Markdown by `build.ts` (one document per command), and questions about them in `qa.jsonl`:",
    `${generated.length} generated from the pages' NAME lines, option lists, AUTHOR sections and footers, plus`,
    `${handwritten.length} hand-written paraphrases in \`handwritten.jsonl\`. Corpus size: ${(totalBytes / 1024).toFixed(0)} KiB.`,
    "",
    "Each line of `qa.jsonl` is `{ question, answer, sources }`; `answer` occurs verbatim in every",
    "file of `sources` (paths relative to `corpus/`). Verify with `node --import ./scripts/ts.mjs examples/eval/check.ts`.",
    "",
    "## Provenance and licences",
    "",
    "The pages are reproduced unmodified in wording (layout converted to Markdown) from the Debian",
    "packages below. Each document's front matter names its package, version and licence; the full",
    "terms are in `/usr/share/doc/<package>/copyright` on any Debian system. These are documentation",
    "files of free software distributed under the licences shown; they are included here as test",
    "data and are not part of genera's own Apache-2.0 code.",
    "",
    "| package | version | licence (Files: *) | pages |",
    "|---|---|---|---|",
    ...[...byPackage.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([pkg, e]) => `| ${pkg} | ${e.version} | ${e.licence} | ${e.commands.length} |`),
    "",
  ].join("\n");
  writeFileSync(join(here, "README.md"), readme);
  console.log(
    `man-pages: ${pages.length} documents (${(totalBytes / 1024).toFixed(0)} KiB), ` +
      `${generated.length} generated + ${handwritten.length} hand-written questions`,
  );
}

main();

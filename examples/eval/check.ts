/**
 * Verifies the shipped evaluation sets: every line is well-formed, every cited source
 * exists, and every answer string occurs in the text a loader would extract from each
 * cited source. An eval set whose answers are not in its sources measures nothing, so this
 * is the guard that keeps hand-edited sets honest.
 *
 * Usage:
 *   node --import ./scripts/ts.mjs examples/eval/check.ts                      # every shipped set
 *   node --import ./scripts/ts.mjs examples/eval/check.ts <qa.jsonl> <corpus>  # one set
 *
 * Text per source kind:
 *   .md .txt .csv .json       the file itself
 *   .html .htm                visible text only: <script>, <style> and <template> are dropped,
 *                             so an answer that exists only inside a script fails
 *   .pdf                      text extracted with unpdf, and also the text source
 *                             examples/knowledge-src/<name>.txt when one exists
 *   .png .jpg .jpeg .webp     the text source examples/knowledge-src/<name>.txt (the image
 *                             was rendered from it; OCR is checked elsewhere)
 * Matching is exact after Unicode NFC normalisation and collapsing whitespace, because PDF
 * extraction re-flows lines.
 *
 * Warnings (not failures): a question that contains its own answer, and a question that
 * copies 8 or more consecutive words from its source, which would flatter keyword search.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DomUtils, parseDocument } from "htmlparser2";
import { extractText, getDocumentProxy } from "unpdf";

const here = dirname(fileURLToPath(import.meta.url));
const textSourceDir = resolve(here, "..", "knowledge-src");
const COPY_WARN_WORDS = 8;

export interface QaItem {
  question: string;
  answer: string;
  sources: string[];
}

/** A question the corpus does not answer (it may share the corpus's words): the right reply is to decline. */
export interface UnanswerableItem {
  question: string;
  unanswerable: true;
}

export interface CheckResult {
  file: string;
  items: number;
  /** How many of the items are unanswerable questions. */
  unanswerable: number;
  errors: string[];
  warnings: string[];
}

const normalise = (text: string): string => text.normalize("NFC").replace(/\s+/g, " ").trim();

const textCache = new Map<string, string[]>();

/** Returns every text rendering of a source that the answer may be matched against. */
async function sourceTexts(path: string): Promise<string[]> {
  const cached = textCache.get(path);
  if (cached) return cached;
  const ext = extname(path).toLowerCase();
  const sidecar = join(textSourceDir, `${basename(path, extname(path))}.txt`);
  let texts: string[];
  if (ext === ".html" || ext === ".htm") {
    const dom = parseDocument(readFileSync(path, "utf8"));
    for (const el of DomUtils.findAll(
      (e) => ["script", "style", "template", "noscript"].includes(e.name),
      dom.children,
    )) {
      DomUtils.removeElement(el);
    }
    const first = (name: string) => DomUtils.findOne((e) => e.name === name, dom.children);
    texts = [DomUtils.textContent(first("title") ?? []), DomUtils.textContent(first("body") ?? dom)];
  } else if (ext === ".pdf") {
    const pdf = await getDocumentProxy(new Uint8Array(readFileSync(path)));
    const { text } = await extractText(pdf, { mergePages: true });
    texts = [text];
    if (existsSync(sidecar)) texts.push(readFileSync(sidecar, "utf8"));
  } else if ([".png", ".jpg", ".jpeg", ".webp"].includes(ext)) {
    if (!existsSync(sidecar)) throw new Error(`image ${path} has no text source ${sidecar}`);
    texts = [readFileSync(sidecar, "utf8")];
  } else {
    texts = [readFileSync(path, "utf8")];
  }
  const normalised = texts.map(normalise);
  textCache.set(path, normalised);
  return normalised;
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Length of the longest run of consecutive words shared by question and source. */
function longestSharedRun(question: string, source: string): number {
  const q = words(question);
  const s = words(source);
  const grams = new Set<string>();
  let best = 0;
  for (let n = 3; n <= q.length; n++) {
    grams.clear();
    for (let i = 0; i + n <= s.length; i++) grams.add(s.slice(i, i + n).join(" "));
    let found = false;
    for (let i = 0; i + n <= q.length && !found; i++) found = grams.has(q.slice(i, i + n).join(" "));
    if (!found) break;
    best = n;
  }
  return best;
}

function parseLine(line: string, where: string): QaItem | UnanswerableItem {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new Error(`${where}: not valid JSON (${(err as Error).message})`);
  }
  const item = value as Partial<QaItem> & { unanswerable?: unknown };
  if (typeof item.question !== "string" || item.question.trim() === "") {
    throw new Error(`${where}: "question" must be a non-empty string`);
  }
  if ("unanswerable" in item) {
    const extra = Object.keys(item).filter((k) => !["question", "unanswerable"].includes(k));
    if (item.unanswerable !== true || extra.length > 0) {
      throw new Error(`${where}: an unanswerable question is { "question", "unanswerable": true } and nothing else`);
    }
    return item as UnanswerableItem;
  }
  if (typeof item.answer !== "string" || item.answer.trim() === "") {
    throw new Error(`${where}: "answer" must be a non-empty string`);
  }
  if (!Array.isArray(item.sources) || item.sources.length === 0 || item.sources.some((s) => typeof s !== "string")) {
    throw new Error(`${where}: "sources" must be a non-empty array of paths`);
  }
  const extra = Object.keys(item).filter((k) => !["question", "answer", "sources"].includes(k));
  if (extra.length > 0) throw new Error(`${where}: unexpected keys ${extra.join(", ")}`);
  return item as QaItem;
}

export async function checkQaFile(qaPath: string, corpusDir: string): Promise<CheckResult> {
  const result: CheckResult = { file: qaPath, items: 0, unanswerable: 0, errors: [], warnings: [] };
  const lines = readFileSync(qaPath, "utf8").split("\n");
  const seen = new Set<string>();
  for (const [index, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const where = `${relative(process.cwd(), qaPath)}:${index + 1}`;
    let parsed: QaItem | UnanswerableItem;
    try {
      parsed = parseLine(line, where);
    } catch (err) {
      result.errors.push((err as Error).message);
      continue;
    }
    result.items++;
    const key = normalise(parsed.question).toLowerCase();
    if (seen.has(key)) result.errors.push(`${where}: duplicate question "${parsed.question}"`);
    seen.add(key);
    if ("unanswerable" in parsed) {
      result.unanswerable++;
      continue;
    }
    const item = parsed;
    const answer = normalise(item.answer);
    const escaped = answer.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    if (new RegExp(`(^|[^\\p{L}\\p{N}_-])${escaped}($|[^\\p{L}\\p{N}_-])`, "iu").test(normalise(item.question))) {
      result.warnings.push(`${where}: the question contains its own answer "${item.answer}"`);
    }
    for (const source of item.sources) {
      const path = resolve(corpusDir, source);
      if (!path.startsWith(resolve(corpusDir)) || !existsSync(path)) {
        result.errors.push(`${where}: source "${source}" does not exist under ${corpusDir}`);
        continue;
      }
      const texts = await sourceTexts(path);
      if (!texts.some((t) => t.includes(answer))) {
        result.errors.push(`${where}: answer "${item.answer}" is not in ${source}`);
      }
      const copied = Math.max(...texts.map((t) => longestSharedRun(item.question, t)));
      if (copied >= COPY_WARN_WORDS) {
        result.warnings.push(`${where}: the question copies ${copied} consecutive words from ${source}`);
      }
    }
  }
  return result;
}

/** The shipped sets: knowledge-qa.jsonl over examples/knowledge, and <set>/qa.jsonl over <set>/corpus. */
export function shippedSets(): Array<[string, string]> {
  const sets: Array<[string, string]> = [[join(here, "knowledge-qa.jsonl"), resolve(here, "..", "knowledge")]];
  for (const name of readdirSync(here).sort()) {
    const dir = join(here, name);
    // Sets whose corpus a build.ts rebuilds from a Debian package count once it is built.
    if (statSync(dir).isDirectory() && existsSync(join(dir, "qa.jsonl")) && existsSync(join(dir, "corpus"))) {
      sets.push([join(dir, "qa.jsonl"), join(dir, "corpus")]);
    }
  }
  return sets;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length !== 0 && args.length !== 2) {
    console.error("usage: node --import ./scripts/ts.mjs examples/eval/check.ts [<qa.jsonl> <corpus-dir>]");
    process.exit(2);
  }
  const sets: Array<[string, string]> = args.length === 2 ? [[resolve(args[0]), resolve(args[1])]] : shippedSets();
  let failed = false;
  for (const [qa, corpus] of sets) {
    const r = await checkQaFile(qa, corpus);
    const docs = readdirSync(corpus, { recursive: true }).filter((f) => statSync(join(corpus, String(f))).isFile());
    console.log(
      `${relative(process.cwd(), qa)}: ${r.items} questions (${r.unanswerable} unanswerable) over ${docs.length} documents, ` +
        `${r.errors.length} errors, ${r.warnings.length} warnings`,
    );
    for (const e of r.errors) console.log(`  ERROR ${e}`);
    for (const w of r.warnings) console.log(`  warn  ${w}`);
    if (r.errors.length > 0) failed = true;
  }
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}

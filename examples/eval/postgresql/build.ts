/**
 * Builds the "postgresql" evaluation set: pages of the PostgreSQL 15 manual as shipped in HTML
 * by Debian's `postgresql-doc-15` (`apt-get install -y postgresql-doc-15`), copied unmodified
 * into corpus/, and questions with short gold answers generated from the pages' structure:
 *   - configuration parameters (runtime-config-*.html): "The default is …" → the default value;
 *   - data types (datatype-*.html tables): a type's storage size;
 *   - SQL commands (sql-*.html): the one-line purpose ("CREATE TABLE — define a new table"),
 *     asked both ways ("What does CREATE TABLE do?" and "Which command defines a new table?");
 * plus questions the manual does not answer, several of them lexically close (a parameter,
 * command or type PostgreSQL does not have, in the manual's own words).
 *
 * The corpus is the pages the questions need plus pages nobody asks about (distractors); it is
 * not committed (the package provides it): this script rebuilds it. The questions are committed.
 * Licence of the manual: the PostgreSQL Licence (/usr/share/doc/postgresql-doc-15/copyright).
 *
 * Run: node --import ./scripts/ts.mjs examples/eval/postgresql/build.ts            # corpus/ and qa.jsonl
 *      node --import ./scripts/ts.mjs examples/eval/postgresql/build.ts --corpus   # corpus/ only
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DomUtils, parseDocument } from "htmlparser2";
import { seededRandom } from "../../../src/engine/random.js";

const here = dirname(fileURLToPath(import.meta.url));
export const MANUAL_DIR = "/usr/share/doc/postgresql-doc-15/html";

/** SQL command pages asked about; every other sql-*.html page listed in DISTRACTORS is only a distractor. */
const SQL_PAGES_ASKED = 70;
/** Pages nobody asks about, so the right page has to be found among similar ones. */
const DISTRACTORS = [
  "sql-altertable.html",
  "sql-select.html",
  "sql-insert.html",
  "sql-update.html",
  "sql-copy.html",
  "sql-createindex.html",
  "sql-vacuum.html",
  "sql-analyze.html",
  "runtime-config.html",
  "config-setting.html",
  "datatype.html",
  "functions-math.html",
  "functions-string.html",
  "functions-datetime.html",
  "indexes-types.html",
  "mvcc-intro.html",
  "routine-vacuuming.html",
  "wal-configuration.html",
  "kernel-resources.html",
  "auth-pg-hba-conf.html",
  "app-psql.html",
  "app-pgdump.html",
  "storage-toast.html",
  "limits.html",
];

type Qa = { question: string; answer: string; sources: string[] } | { question: string; unanswerable: true };

const norm = (s: string) => s.normalize("NFC").replace(/\s+/g, " ").trim();

// The pages are read with htmlparser2 (the HTML loader's parser) and domutils; the manual is
// well-formed XHTML from DocBook, so the tree is the one an HTML5 parser builds.
type Node = ReturnType<typeof parseDocument>["children"][number];
type Element = Parameters<typeof DomUtils.getAttributeValue>[0];

function page(file: string): ReturnType<typeof parseDocument> {
  const doc = parseDocument(readFileSync(join(MANUAL_DIR, file), "utf8"));
  // As HTML5 parsers do (and cheerio, which these questions were first built with): a newline
  // right after <pre> is not part of its text.
  for (const pre of DomUtils.findAll((el) => el.name === "pre" || el.name === "listing", doc.children)) {
    const first = pre.children[0];
    if (first && DomUtils.isText(first)) first.data = first.data.replace(/^\r?\n/, "");
  }
  return doc;
}
const text = (nodes: Node | Node[]) => norm(DomUtils.textContent(nodes));
const hasClass = (el: Element, name: string) =>
  (DomUtils.getAttributeValue(el, "class") ?? "").split(/\s+/).includes(name);
/** Elements under `roots` (not the roots themselves), in document order, that pass `test`. */
const descendants = (roots: Node[], test: (el: Element) => boolean): Element[] => [
  ...new Set(roots.flatMap((root) => DomUtils.findAll(test, DomUtils.getChildren(root)))),
];
const tag = (name: string) => (el: Element) => el.name === name;

function pageText(file: string): string {
  const doc = page(file);
  const hidden = new Set(["script", "style", "template", "noscript"]);
  for (const el of DomUtils.findAll((e) => hidden.has(e.name), doc.children)) DomUtils.removeElement(el);
  return text(descendants([doc], tag("body")));
}

function requirePackage(): void {
  if (!existsSync(MANUAL_DIR)) {
    throw new Error(`${MANUAL_DIR} is missing: install the Debian package postgresql-doc-15`);
  }
}

/** The SQL command pages, in a fixed order, with their purpose lines. */
function sqlCommands(): Array<{ file: string; command: string; purpose: string }> {
  const out: Array<{ file: string; command: string; purpose: string }> = [];
  for (const file of readdirSync(MANUAL_DIR)
    .filter((f) => /^sql-[a-z]+\.html$/.test(f))
    .sort()) {
    const divs = descendants([page(file)], (el) => hasClass(el, "refnamediv"));
    const first = descendants(divs, tag("p"))[0];
    const line = first ? text(first) : "";
    const m = /^([A-Z][A-Z ]+?) — (.+)$/.exec(line);
    if (m) out.push({ file, command: m[1] as string, purpose: m[2] as string });
  }
  return out;
}

/** Pages the questions use; deterministic for one package version. */
export function corpusPages(): string[] {
  requirePackage();
  const rng = seededRandom(15);
  const commands = sqlCommands();
  const asked = [...commands]
    .map((c) => ({ c, r: rng() }))
    .sort((a, b) => a.r - b.r)
    .slice(0, SQL_PAGES_ASKED)
    .map(({ c }) => c.file);
  const runtime = readdirSync(MANUAL_DIR).filter(
    (f) => /^runtime-config-[a-z-]+\.html$/.test(f) && f !== "runtime-config-short.html",
  );
  const types = readdirSync(MANUAL_DIR).filter((f) => /^datatype-[a-z-]+\.html$/.test(f));
  return [...new Set([...runtime, ...types, ...asked, ...DISTRACTORS])]
    .filter((f) => existsSync(join(MANUAL_DIR, f)))
    .sort();
}

export function buildCorpus(outDir = join(here, "corpus")): string[] {
  const pages = corpusPages();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const page of pages) copyFileSync(join(MANUAL_DIR, page), join(outDir, page));
  return pages;
}

function parameterDefaults(file: string): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  const terms = descendants([page(file)], (el) => el.name === "dt" && /^GUC-/.test(el.attribs.id ?? ""));
  for (const dt of terms) {
    const code = descendants([dt], (el) => el.name === "code" && hasClass(el, "varname"))[0];
    const name = code ? text(code) : "";
    const next = DomUtils.nextElementSibling(dt);
    const definition = next?.name === "dd" ? text(next) : "";
    const m =
      /\bThe default(?: value)? is (?:typically )?([^.;()]+?)(?:\s*\(|\.(?:\s|$)|;|,| but | unless | which )/.exec(
        definition,
      );
    if (!name || !m) continue;
    let value = (m[1] as string).trim();
    // Short values only: a number with its unit, a keyword, an empty string…
    if (value.split(" ").length > 5 || /\b(?:that|the value of|determined|if|when)\b/.test(value)) continue;
    // "on", "off", "zero" occur in any sentence: the gold answer then keeps the words that say it is the default.
    if (/^(?:on|off|true|false|zero|empty|none|\w{1,2})$/i.test(value))
      value = (m[0] as string).replace(/^The /, "").replace(/[\s.;,(]+$/, "");
    out.push({ name, value });
  }
  return out;
}

function typeSizes(file: string): Array<{ type: string; size: string }> {
  const out: Array<{ type: string; size: string }> = [];
  for (const table of descendants([page(file)], (el) => el.name === "table" && hasClass(el, "table"))) {
    const headers = descendants(descendants([table], tag("thead")), tag("th")).map((th) => text(th));
    const nameCol = headers.findIndex((h) => h === "Name");
    const sizeCol = headers.findIndex((h) => h === "Storage Size");
    if (nameCol < 0 || sizeCol < 0) continue;
    for (const tr of descendants(descendants([table], tag("tbody")), tag("tr"))) {
      const cells = descendants([tr], tag("td")).map((td) => text(td));
      const type = cells[nameCol];
      const size = cells[sizeCol];
      if (type && size && /\bbytes?\b/.test(size) && size.length <= 40) out.push({ type, size });
    }
  }
  return out;
}

export function buildQuestions(pages: string[]): Qa[] {
  const rng = seededRandom(20261206);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  const texts = new Map(pages.map((p) => [p, pageText(p)]));
  const qa: Qa[] = [];
  const seen = new Set<string>();
  const add = (question: string, answer: string, source: string) => {
    if (seen.has(question.toLowerCase()) || !texts.get(source)?.includes(norm(answer))) return;
    seen.add(question.toLowerCase());
    qa.push({ question, answer, sources: [source] });
  };

  for (const file of pages.filter((p) => p.startsWith("runtime-config-"))) {
    for (const { name, value } of parameterDefaults(file)) {
      const question = pick([
        `What is the default value of ${name}?`,
        `What is ${name} set to by default?`,
        `If I never change ${name}, what value does it have?`,
        `What is the default for the ${name} setting?`,
      ]);
      add(question, value, file);
    }
  }
  for (const file of pages.filter((p) => p.startsWith("datatype-"))) {
    for (const { type, size } of typeSizes(file)) {
      const question = pick([
        `How many bytes does a ${type} value take?`,
        `What is the storage size of the ${type} type?`,
        `How much storage does ${type} need?`,
      ]);
      add(question, size, file);
    }
  }
  const asked = new Set(pages);
  for (const { file, command, purpose } of sqlCommands()) {
    if (!asked.has(file) || DISTRACTORS.includes(file)) continue;
    if (rng() < 0.5) {
      add(pick([`What does the SQL command ${command} do?`, `What is ${command} used for?`]), purpose, file);
    } else {
      add(`Which SQL command would I use to ${purpose}?`, command, file);
    }
  }

  // Unanswerable: names PostgreSQL does not have, asked as the answerable ones are.
  const corpus = [...texts.values()].join(" ").toLowerCase();
  const unanswerable: string[] = [];
  const missing = (term: string) => !corpus.includes(term.toLowerCase());
  for (const guc of [
    "max_worker_connections",
    "shared_cache_size",
    "autovacuum_max_tables",
    "wal_compression_level",
    "query_cache_size",
    "max_client_sessions",
    "checkpoint_flush_limit",
    "log_slow_queries",
    "innodb_buffer_pool_size",
    "statement_retry_limit",
    "temp_table_quota",
    "replication_lag_limit",
    "max_parallel_vacuum_workers",
    "autovacuum_idle_timeout",
    "log_query_plans",
    "ssl_session_timeout",
    "wal_archive_retention",
    "max_prepared_statements",
    "lock_wait_timeout",
    "index_cache_size",
    "default_tablespace_quota",
    "max_connections_per_user",
    "vacuum_freeze_interval",
  ]) {
    if (missing(guc))
      unanswerable.push(pick([`What is the default value of ${guc}?`, `What is ${guc} set to by default?`]));
  }
  for (const type of ["tinyint", "int128", "datetime2", "nvarchar", "mediumint", "year", "hugeint", "float128"]) {
    if (missing(` ${type} |`) && missing(`${type} type`))
      unanswerable.push(
        pick([`How many bytes does a ${type} value take?`, `What is the storage size of the ${type} type?`]),
      );
  }
  for (const command of [
    "CREATE SYNONYM",
    "ALTER PACKAGE",
    "SHOW TABLES",
    "CREATE ASSEMBLY",
    "RENAME TABLE",
    "OPTIMIZE TABLE",
    "BACKUP DATABASE",
  ]) {
    if (missing(command)) unanswerable.push(`What does the SQL command ${command} do?`);
  }
  unanswerable.push(
    "Which SQL command would I use to encrypt a table with a customer-supplied key?",
    "Which SQL command would I use to replicate a table to MongoDB?",
    "What is the default port of the MySQL server?",
    "Who founded the company behind Oracle Database?",
    "How many bytes does a Java long take?",
    "What is the capital of Portugal?",
    "Which SQL command would I use to schedule a job to run every night?",
    "What is the default value of the Windows registry key for PostgreSQL?",
    "What is the maximum number of columns in a SQLite table?",
    "What is the default isolation level in SQL Server?",
  );
  const answerable = qa.length;
  // At least 15% of the set: as many as the list gives, which is checked below.
  const out = [...qa, ...unanswerable.map((question) => ({ question, unanswerable: true as const }))];
  if (unanswerable.length < 0.15 * out.length) {
    console.warn(`only ${unanswerable.length} unanswerable of ${out.length} (${answerable} answerable)`);
  }
  return out;
}

function main(): void {
  const pages = buildCorpus();
  console.log(`corpus: ${pages.length} pages`);
  if (process.argv.includes("--corpus")) return;
  const qa = buildQuestions(pages);
  writeFileSync(join(here, "qa.jsonl"), `${qa.map((q) => JSON.stringify(q)).join("\n")}\n`);
  const unanswerable = qa.filter((q) => "unanswerable" in q).length;
  console.log(`qa.jsonl: ${qa.length} questions, ${unanswerable} unanswerable`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();

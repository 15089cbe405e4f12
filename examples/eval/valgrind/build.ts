/**
 * Builds the "valgrind" evaluation set's corpus: Valgrind's HTML manual (user manual, FAQ,
 * quick-start guide, distribution documents, licences) as Debian's `valgrind` package ships it
 * (`apt-get install -y valgrind`), every page copied unmodified into corpus/, the way a user
 * would index the folder. The questions (qa.jsonl) are hand-written and committed; this script
 * only rebuilds the corpus the package provides. Licence of the manual: GNU GPL / GFDL
 * (/usr/share/doc/valgrind/copyright).
 *
 * Run: node --import ./scripts/ts.mjs examples/eval/valgrind/build.ts
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { copyHtmlPages } from "../copyHtmlPages.js";

const here = dirname(fileURLToPath(import.meta.url));
export const MANUAL_DIR = "/usr/share/doc/valgrind/html";

export function buildCorpus(outDir = join(here, "corpus")): string[] {
  return copyHtmlPages(MANUAL_DIR, "valgrind", outDir);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`corpus: ${buildCorpus().length} pages`);
}

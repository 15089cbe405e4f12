/**
 * Builds the "python-faq" evaluation set's corpus: the Python 3.11 FAQ (general, programming,
 * design and history, library, extending, Windows, GUI, "Why is Python installed", and its
 * index) in HTML as Debian's `python3.11-doc` package ships it (`apt-get install -y
 * python3.11-doc`), copied unmodified into corpus/. Each page is a list of questions as
 * headings, each followed by its answer. The questions (qa.jsonl) are hand-written and
 * committed; this script only rebuilds the corpus the package provides. Licence of the
 * documentation: PSF License (/usr/share/doc/python3.11-doc/copyright).
 *
 * Run: node --import ./scripts/ts.mjs examples/eval/python-faq/build.ts
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { copyHtmlPages } from "../copyHtmlPages.js";

const here = dirname(fileURLToPath(import.meta.url));
export const FAQ_DIR = "/usr/share/doc/python3.11/html/faq";

export function buildCorpus(outDir = join(here, "corpus")): string[] {
  return copyHtmlPages(FAQ_DIR, "python3.11-doc", outDir);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`corpus: ${buildCorpus().length} pages`);
}

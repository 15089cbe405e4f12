import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkQaFile, shippedSets } from "../../examples/eval/check.js";
import * as elements from "../../examples/eval/elements/build.js";
import * as postgresql from "../../examples/eval/postgresql/build.js";
import * as pythonFaq from "../../examples/eval/python-faq/build.js";
import * as valgrind from "../../examples/eval/valgrind/build.js";

const scratch = mkdtempSync(join(tmpdir(), "genera-evalsets-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Keeps hand edits of the shipped QA sets honest: every answer must appear in its cited source.
describe("shipped evaluation sets", () => {
  it("cite existing sources that contain each answer, and are at least 15% unanswerable", async () => {
    const sets = shippedSets();
    expect(sets.length).toBeGreaterThanOrEqual(2);
    for (const [qa, corpus] of sets) {
      const result = await checkQaFile(qa, corpus);
      expect(result.errors, `${qa}: ${result.errors.slice(0, 3).join("; ")}`).toEqual([]);
      expect(result.unanswerable / result.items, qa).toBeGreaterThanOrEqual(0.15);
    }
  });

  // These corpora are rebuilt from Debian packages (.ci/run installs them), not committed.
  it.runIf(existsSync(elements.ELEMENTS_SOURCE))(
    "elements: the profiles rebuilt from dict-elements back every answer",
    async () => {
      const dir = join(scratch, "elements");
      const built = elements.buildCorpus(dir);
      expect(built.length).toBeGreaterThan(100);
      const result = await checkQaFile(join(import.meta.dirname, "../../examples/eval/elements/qa.jsonl"), dir);
      expect(result.errors.slice(0, 3)).toEqual([]);
      expect(result.unanswerable / result.items).toBeGreaterThanOrEqual(0.15);
    },
  );

  it.runIf(existsSync(postgresql.MANUAL_DIR))("postgresql: the manual pages back every answer", async () => {
    const dir = join(scratch, "postgresql");
    postgresql.buildCorpus(dir);
    const result = await checkQaFile(join(import.meta.dirname, "../../examples/eval/postgresql/qa.jsonl"), dir);
    expect(result.errors.slice(0, 3)).toEqual([]);
    expect(result.items - result.unanswerable).toBeGreaterThanOrEqual(150);
    expect(result.unanswerable / result.items).toBeGreaterThanOrEqual(0.15);
  });

  // Hand-written sets over a package's pages copied as they are: a manual and an FAQ.
  it.runIf(existsSync(valgrind.MANUAL_DIR))("valgrind: the manual pages back every answer", async () => {
    const dir = join(scratch, "valgrind");
    expect(valgrind.buildCorpus(dir).length).toBeGreaterThan(30);
    const result = await checkQaFile(join(import.meta.dirname, "../../examples/eval/valgrind/qa.jsonl"), dir);
    expect(result.errors.slice(0, 3)).toEqual([]);
    expect(result.items - result.unanswerable).toBeGreaterThanOrEqual(60);
    expect(result.unanswerable / result.items).toBeGreaterThanOrEqual(0.15);
  });

  it.runIf(existsSync(pythonFaq.FAQ_DIR))("python-faq: the FAQ pages back every answer", async () => {
    const dir = join(scratch, "python-faq");
    expect(pythonFaq.buildCorpus(dir).length).toBeGreaterThan(5);
    const result = await checkQaFile(join(import.meta.dirname, "../../examples/eval/python-faq/qa.jsonl"), dir);
    expect(result.errors.slice(0, 3)).toEqual([]);
    expect(result.items - result.unanswerable).toBeGreaterThanOrEqual(60);
    expect(result.unanswerable / result.items).toBeGreaterThanOrEqual(0.15);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadFile } from "../../loaders/loadFile.js";
import { loadFailure as failure, minimalDocx, zipBombDocx } from "./fixtures.js";

// Issue 13 item 1: a file that would inflate or parse into more than the limits fails
// alone, with TOO_LARGE, and the parser thread is replaced for the next file. (e2e: the
// bombs take seconds to build and the memory-limited thread seconds to die.)

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "genera-limits-e2e-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bounded loaders", () => {
  it("refuses a zip-bomb DOCX as TOO_LARGE, whether its directory tells the truth or lies", async () => {
    for (const lie of [false, true]) {
      const path = join(dir, `bomb-${lie}.docx`);
      writeFileSync(path, await zipBombDocx(100 * 1024 * 1024, lie));
      const { code, reason } = await failure(loadFile(path));
      expect(code).toBe("TOO_LARGE");
      expect(reason).toMatch(/word\/document\.xml.*zip bomb/);
    }
    // A normal DOCX still loads (in the parser thread) after the bombs.
    const fine = join(dir, "fine.docx");
    writeFileSync(fine, await minimalDocx([{ style: "Heading1", text: "Fine" }, { text: "An ordinary paragraph." }]));
    const [doc] = await loadFile(fine);
    expect(doc?.pageContent).toMatch(/ordinary paragraph/);
  }, 60_000);

  it("a parse that needs more memory or time than allowed fails that file only", async () => {
    const big = join(dir, "big.json");
    const records = Array.from({ length: 120_000 }, (_, i) => ({ id: i, name: `record ${i}`, tags: ["a", "b", "c"] }));
    writeFileSync(big, JSON.stringify(records));
    // 120,000 records now parse within 96 MiB (the test passed the document cap first and failed);
    // 48 MiB is too little, and the document cap is lifted so that only the heap can stop it.
    const memory = await failure(loadFile(big, { limits: { parseMemoryMb: 48, maxDocuments: 1_000_000 } }));
    expect(memory).toMatchObject({ code: "TOO_LARGE" });
    expect(memory.reason).toMatch(/more than 48 MiB of memory/);
    const slow = await failure(loadFile(big, { limits: { parseTimeoutMs: 5 } }));
    expect(slow.code).toBe("TOO_LARGE");
    expect(slow.reason).toMatch(/took longer than/);
    const rows = await failure(loadFile(big, { limits: { maxDocuments: 1_000 } }));
    expect(rows.reason).toMatch(/produces 120000 documents.*limit is 1000/);
    // The thread was replaced: small files load again.
    const small = join(dir, "small.json");
    writeFileSync(small, JSON.stringify([{ name: "capybara" }]));
    expect((await loadFile(small))[0]?.pageContent).toMatch(/capybara/);
  }, 240_000);
});

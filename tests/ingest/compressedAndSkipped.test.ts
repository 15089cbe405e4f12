import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";

// Issue 12 item 4, as /usr/share/doc looks: gzipped text and Latin-1 files are indexed and
// searchable; the summary names every file passed over and why, instead of "failed 0".

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "genera-doc-tree-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("indexing a documentation tree", () => {
  it("indexes .gz and Latin-1 files and lists what it skipped", async () => {
    const docs = join(dir, "doc");
    mkdirSync(join(docs, "libfoo"), { recursive: true });
    mkdirSync(join(docs, ".git"), { recursive: true });
    writeFileSync(
      join(docs, "libfoo", "changelog.Debian.gz"),
      gzipSync("libfoo (1.2) unstable; urgency=low\n\n  * Fix the frobnicator overflow.\n"),
    );
    writeFileSync(join(docs, "libfoo", "README.md.gz"), gzipSync("# libfoo\n\nlibfoo parses quaternion files.\n"));
    writeFileSync(
      join(docs, "libfoo", "NEWS"),
      Buffer.from("R\xe9sum\xe9 of changes: the na\xefve parser is gone.\n", "latin1"),
    );
    writeFileSync(join(docs, "libfoo", "sources.tar.gz"), gzipSync(Buffer.alloc(2048)));
    writeFileSync(join(docs, "libfoo", "logo.bin"), Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 256)));
    writeFileSync(join(docs, ".git", "config"), "[core]\n");

    const kb = await KnowledgeBase.open({ dir: join(dir, "index"), embeddings: new HashEmbeddings() });
    try {
      const summary = await kb.index([docs]);
      expect(summary.failures).toEqual([]);
      expect(summary.added).toBe(3);
      const skipped = Object.fromEntries(summary.skipped.map((s) => [s.path.slice(docs.length + 1), s.reason]));
      expect(skipped).toMatchObject({
        ".git": "hidden",
        "libfoo/sources.tar.gz": expect.stringMatching(/compressed archive/),
        "libfoo/logo.bin": "binary",
      });
      const search = async (q: string) =>
        (await kb.asRetriever({ k: 1, mode: "keyword" }).invoke(q))[0]?.metadata.source;
      expect(await search("frobnicator overflow")).toMatch(/changelog\.Debian\.gz$/);
      expect(await search("quaternion")).toMatch(/README\.md\.gz$/);
      expect(await search("résumé naïve parser")).toMatch(/NEWS$/);
    } finally {
      await kb.close();
    }
  });
});

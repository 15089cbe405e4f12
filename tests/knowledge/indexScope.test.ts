import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { indexScope } from "../../src/knowledge/indexScope.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "genera-scope-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function corpus(): string {
  const docs = join(tempDir(), "docs");
  mkdirSync(join(docs, "sub"), { recursive: true });
  writeFileSync(join(docs, "one.md"), "# One\n\nThe first note is about otters.\n");
  writeFileSync(join(docs, "two.md"), "# Two\n\nThe second note is about beavers.\n");
  writeFileSync(join(docs, "notes.txt"), "A plain text note about herons.\n");
  writeFileSync(join(docs, "sub", "three.md"), "# Three\n\nThe third note is about voles.\n");
  return docs;
}

const sourcesOf = async (kb: KnowledgeBase) => (await kb.listSources()).map((s) => s.source).sort();

describe("index cleanup covers only what the run looked at", () => {
  it("indexing one file after its folder removes nothing else", async () => {
    const docs = corpus();
    const kb = await KnowledgeBase.open({ dir: join(tempDir(), "store"), embeddings: new HashEmbeddings() });
    expect((await kb.index([docs])).added).toBe(4);
    const again = await kb.index([join(docs, "one.md")]);
    expect(again).toMatchObject({ deleted: 0, removed: [], unchanged: 1 });
    expect(await sourcesOf(kb)).toEqual(["notes.txt", "one.md", "sub/three.md", "two.md"]);
    await kb.close();
  });

  it("an include filter never removes what it filtered out; a deleted file it covers goes, and is named", async () => {
    const docs = corpus();
    const kb = await KnowledgeBase.open({ dir: join(tempDir(), "store"), embeddings: new HashEmbeddings() });
    await kb.index([docs]);
    expect((await kb.index([docs], { include: ["*.md"] })).deleted).toBe(0);
    expect(await sourcesOf(kb)).toContain("notes.txt");

    unlinkSync(join(docs, "two.md"));
    unlinkSync(join(docs, "notes.txt"));
    const run = await kb.index([docs], { include: ["*.md"] });
    expect(run.removed).toEqual([join(docs, "two.md")]);
    expect(await sourcesOf(kb)).toEqual(["notes.txt", "one.md", "sub/three.md"]);
    // A sub-folder run leaves the parent's other files alone too.
    expect((await kb.index([join(docs, "sub")])).deleted).toBe(0);
    expect(await sourcesOf(kb)).toContain("one.md");
    await kb.close();
  });

  it('"all" (--prune) removes every stored file the run did not list, and says which', async () => {
    const docs = corpus();
    const other = join(tempDir(), "other");
    mkdirSync(other);
    writeFileSync(join(other, "four.md"), "# Four\n\nA note about moles.\n");
    const kb = await KnowledgeBase.open({ dir: join(tempDir(), "store"), embeddings: new HashEmbeddings() });
    await kb.index([docs]);
    await kb.index([other]);
    const pruned = await kb.index([docs], { include: ["*.md"], cleanup: "all" });
    expect(pruned.removed.sort()).toEqual([join(docs, "notes.txt"), join(other, "four.md")].sort());
    expect(await sourcesOf(kb)).toEqual(["one.md", "sub/three.md", "two.md"]);
    expect((await kb.index([docs], { cleanup: "none" })).added).toBe(1);
    await kb.close();
  });

  it("matches the walk's rules: files, folders, globs, excludes, hidden folders", () => {
    const docs = corpus();
    const inScope = indexScope([join(docs, "one.md"), join(docs, "sub")], {});
    expect(inScope(join(docs, "one.md"))).toBe(true);
    expect(inScope(join(docs, "two.md"))).toBe(false);
    expect(inScope(join(docs, "sub", "gone.md"))).toBe(true);
    const glob = indexScope([`${docs}/**/*.md`], { exclude: ["sub"] });
    expect(glob(join(docs, "gone.md"))).toBe(true);
    expect(glob(join(docs, "gone.txt"))).toBe(false);
    expect(glob(join(docs, "sub", "gone.md"))).toBe(false);
    const folder = indexScope([docs], { exclude: ["*.txt"] });
    expect(folder(join(docs, "a.txt"))).toBe(false);
    expect(folder(join(docs, ".hidden", "a.md"))).toBe(false);
    expect(folder(join(docs, "..", "outside.md"))).toBe(false);
  });
});

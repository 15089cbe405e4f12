import { mkdtempSync, readdirSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { assertConsistent, writeNotesCorpus } from "../helpers/notesCorpus.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "genera-kb-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function open(store: string, embeddings = new HashEmbeddings()): Promise<KnowledgeBase> {
  return KnowledgeBase.open({ dir: store, embeddings });
}

describe("KnowledgeBase incremental indexing", () => {
  it("adds, skips unchanged, replaces changed and removes deleted files", async () => {
    const root = join(tempDir(), "docs");
    const store = join(tempDir(), "store");
    writeNotesCorpus(root, 10);
    const embeddings = new HashEmbeddings();
    let kb = await open(store, embeddings);
    const first = await kb.index([root], { chunkSize: 200, chunkOverlap: 20 });
    expect(first).toMatchObject({ added: 10, updated: 0, unchanged: 0, deleted: 0, failed: 0 });
    expect(first.chunksAdded).toBeGreaterThan(10);
    await assertConsistent(kb);
    const chunks = (await kb.stats()).chunks;
    await kb.close();

    // Unchanged re-run: nothing is embedded again, and nothing is written.
    const embeddedBefore = embeddings.embedded;
    kb = await open(store, embeddings);
    expect(await kb.stats()).toMatchObject({ documents: 10, chunks });
    const written = () =>
      readdirSync(store, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => `${e.name}@${statSync(join(e.parentPath, e.name)).mtimeMs}`)
        .sort();
    const filesBefore = written();
    const again = await kb.index([root], { chunkSize: 200, chunkOverlap: 20 });
    expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 10, deleted: 0, chunksAdded: 0 });
    expect(embeddings.embedded).toBe(embeddedBefore);
    await kb.save(); // as the server does on shutdown
    expect(written()).toEqual(filesBefore);

    // Touched without a change: still unchanged (hash matches); only the record learns the new mtime.
    const now = new Date(Date.now() + 5000);
    utimesSync(join(root, "note-1.md"), now, now);
    expect((await kb.index([root], { chunkSize: 200, chunkOverlap: 20 })).unchanged).toBe(10);
    // Only the database learns the new mtime; the graph file is not rewritten.
    const changedFiles = written().filter((f) => !filesBefore.includes(f));
    expect(changedFiles.length).toBeGreaterThan(0);
    for (const f of changedFiles) expect(f).toMatch(/^store\.sqlite/);

    // A changed file replaces its old chunks; a deleted one disappears from both indexes.
    writeFileSync(join(root, "note-2.md"), "# Note 2\n\nThe zebra quokka paragraph is new text.\n");
    unlinkSync(join(root, "note-3.md"));
    const third = await kb.index([root], { chunkSize: 200, chunkOverlap: 20 });
    expect(third).toMatchObject({ added: 0, updated: 1, deleted: 1, unchanged: 8 });
    await assertConsistent(kb);
    const hits = await kb.asRetriever({ k: 3, mode: "keyword" }).invoke("zebra quokka");
    expect(hits[0]?.metadata.source).toBe("note-2.md");
    const gone = await kb.asRetriever({ k: 20, mode: "hybrid" }).invoke("note 3 about optimizer");
    expect(gone.some((d) => d.metadata.source === "note-3.md")).toBe(false);
    expect((await kb.listSources()).map((s) => s.source)).not.toContain("note-3.md");
    await kb.close();
  });

  it("starts every index call from its indexDefaults; a call's own options win", async () => {
    const root = join(tempDir(), "docs");
    writeNotesCorpus(root, 3);
    writeFileSync(join(root, "skip.txt"), "a text file the defaults exclude");
    const kb = await KnowledgeBase.open({
      dir: join(tempDir(), "store"),
      embeddings: new HashEmbeddings(),
      indexDefaults: { chunkSize: 200, chunkOverlap: 0, exclude: ["**/*.txt"] },
    });
    const first = await kb.index([root]);
    expect(first.added).toBe(3); // skip.txt excluded
    const small = (await kb.stats()).chunks;
    // chunkSize undefined falls back to the default of 200, not to the built-in 800.
    const again = await kb.index([root], { chunkSize: undefined, exclude: [] });
    expect(again.added).toBe(1); // skip.txt now included
    expect((await kb.stats()).chunks).toBe(small + 1);
    const wide = await KnowledgeBase.open({ dir: join(tempDir(), "store2"), embeddings: new HashEmbeddings() });
    await wide.index([root], { exclude: ["**/*.txt"] });
    expect((await wide.stats()).chunks).toBeLessThan(small);
    await kb.close();
    await wide.close();
  });

  it("reports unreadable files, keeps going and keeps what was stored", async () => {
    const root = join(tempDir(), "docs");
    const store = join(tempDir(), "store");
    writeNotesCorpus(root, 3);
    let kb = await open(store);
    await kb.index([root]);
    const before = (await kb.stats()).chunks;
    writeFileSync(join(root, "broken.pdf"), "%PDF-1.7 this is not really a pdf");
    writeFileSync(join(root, "note-4.md"), "# Fresh\n\nA fresh file about walruses.\n");
    const summary = await kb.index([root]);
    expect(summary.failed).toBe(1);
    expect(summary.failures[0]?.path).toBe("broken.pdf");
    expect(summary.failures[0]?.reason).toBeTruthy();
    expect(summary.added).toBe(1);
    expect((await kb.stats()).chunks).toBeGreaterThan(before);
    await kb.close();
    kb = await open(store);
    await assertConsistent(kb);
    await kb.close();
  });

  it("ends the run when a batch cannot be committed, without blaming the file read last", async () => {
    const root = join(tempDir(), "docs");
    writeNotesCorpus(root, 4);
    const kb = await open(join(tempDir(), "store"));
    const commit = kb.store.commit.bind(kb.store);
    let commits = 0;
    kb.store.commit = async (batch) => {
      if (++commits === 2) throw new Error("the database went away");
      return commit(batch);
    };
    // One chunk a batch: the second commit comes while files are still to be read.
    await expect(kb.index([root], { embedBatchSize: 1 })).rejects.toThrow("the database went away");
    kb.store.commit = commit;
    // What the first commit stored stays; the rest is picked up by the next run.
    expect((await kb.stats()).documents).toBe(1);
    expect(await kb.index([root])).toMatchObject({ added: 3, unchanged: 1, failed: 0 });
    await kb.close();
  });

  it("reopens the keyword index from the stored terms with the same scores", async () => {
    const root = join(tempDir(), "docs");
    const store = join(tempDir(), "store");
    writeNotesCorpus(root, 4);
    let kb = await open(store);
    await kb.index([root]);
    const before = kb.keywordIndex.search("note 2 about diffusion", { k: 5 });
    await kb.close();
    expect(readdirSync(store).some((f) => f.includes("keyword"))).toBe(false);
    kb = await open(store);
    await assertConsistent(kb);
    expect(kb.keywordIndex.search("note 2 about diffusion", { k: 5 })).toEqual(before);
    const hits = await kb.asRetriever({ k: 1, mode: "keyword" }).invoke("note 2 about diffusion");
    expect(hits[0]?.metadata.source).toBe("note-2.md");
    await kb.close();
  });

  it("refuses an index built with another embedding model", async () => {
    const root = join(tempDir(), "docs");
    const store = join(tempDir(), "store");
    writeNotesCorpus(root, 2);
    const kb = await open(store);
    await kb.index([root]);
    await kb.close();
    await expect(open(store, new HashEmbeddings({ modelId: "other-model" }))).rejects.toMatchObject({
      code: "MODEL_MISMATCH",
    });
  });
});

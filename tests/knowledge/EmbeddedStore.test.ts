import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Document } from "@langchain/core/documents";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { KeywordIndex } from "../../vectorstores/KeywordIndex.js";
import { WholeDocumentIndex } from "../../vectorstores/WholeDocumentIndex.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "genera-store-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ANIMALS = ["otter", "beaver", "heron", "vole", "badger", "marten", "lynx", "ibex"];

function corpus(files = 8): string {
  const docs = join(tempDir(), "docs");
  mkdirSync(docs, { recursive: true });
  for (let i = 0; i < files; i++) {
    const animal = ANIMALS[i % ANIMALS.length] as string;
    const body = Array.from({ length: 5 }, (_, p) => `Paragraph ${p} tells how the ${animal} number ${i} lives.`);
    writeFileSync(join(docs, `${animal}-${i}.md`), `# The ${animal} ${i}\n\n${body.join("\n\n")}\n`);
  }
  return docs;
}

const graphFiles = (store: string) => readdirSync(store).filter((f) => /^graph-\d+\.hnsw$/.test(f));

async function denseTop(kb: KnowledgeBase, query: string): Promise<string[]> {
  return (await kb.asRetriever({ k: 5, mode: "dense" }).invoke(query)).map((d) => d.id as string);
}

function open(store: string, embeddings = new HashEmbeddings(), repairs: string[] = []): Promise<KnowledgeBase> {
  return KnowledgeBase.open({ dir: store, embeddings, onRepair: (m) => repairs.push(m) });
}

describe("EmbeddedStore start-up", () => {
  it("rebuilds a deleted or damaged graph file from the database, saying so, with the same results", async () => {
    const docs = corpus();
    const store = join(tempDir(), "store");
    let kb = await open(store);
    await kb.index([docs], { chunkSize: 120, chunkOverlap: 0 });
    const chunks = (await kb.stats()).chunks;
    const before = await denseTop(kb, "how the heron lives");
    await kb.close();
    const [graph] = graphFiles(store);
    expect(graph).toBeDefined();

    for (const damage of ["delete", "flip"] as const) {
      const path = join(store, graphFiles(store)[0] as string);
      if (damage === "delete") unlinkSync(path);
      else {
        const bytes = readFileSync(path);
        bytes[Math.floor(bytes.length / 2)] ^= 0xff;
        writeFileSync(path, bytes);
      }
      const repairs: string[] = [];
      const embeddings = new HashEmbeddings();
      kb = await open(store, embeddings, repairs);
      expect(repairs.join("\n")).toMatch(damage === "delete" ? /is missing; rebuilding/ : /SHA-256.*rebuilding/);
      // The graph had taken the vectors: they are embedded again (the embedding cache makes that cheap).
      expect(embeddings.embedded).toBe(chunks);
      expect(await kb.stats()).toMatchObject({ chunks, documents: 8 });
      expect(await denseTop(kb, "how the heron lives")).toEqual(before);
      expect(graphFiles(store)).toHaveLength(1);
      await kb.close();
    }
  });

  it("catches a graph that is behind up from the stored vectors, without embedding again", async () => {
    const docs = corpus(4);
    const more = corpus(4);
    const store = join(tempDir(), "store");
    const writer = await open(store);
    await writer.index([docs]);
    await writer.save(); // graph written: it holds these chunks
    await writer.index([more]); // committed, not in the graph (as after a crash before the next checkpoint)
    const removed = await writer.removeSource((await writer.listSources())[0]?.id as string);

    const repairs: string[] = [];
    const embeddings = new HashEmbeddings();
    const reader = await open(store, embeddings, repairs);
    expect(repairs.join("\n")).toMatch(/catching the graph up/);
    expect(embeddings.embedded).toBe(0);
    expect((await reader.stats()).chunks).toBe((await writer.stats()).chunks);
    expect(reader.vectorStore.ids().sort()).toEqual(writer.vectorStore.ids().sort());
    for (const id of removed.chunkIds) expect(reader.vectorStore.has(id)).toBe(false);
    expect(await denseTop(reader, "how the badger lives")).toEqual(await denseTop(writer, "how the badger lives"));
    await reader.close();
    await writer.close();
  });

  it("drops vectors from the database once a graph file holds them", async () => {
    const store = join(tempDir(), "store");
    const kb = await open(store);
    await kb.index([corpus()]);
    const pending = () => {
      const db = new Database(join(store, "store.sqlite"), { readonly: true });
      try {
        return (db.prepare("SELECT count(*) AS n FROM vectors").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    expect(pending()).toBe((await kb.stats()).chunks);
    await kb.save();
    expect(pending()).toBe(0);
    await kb.close();
  });

  it("refuses a missing or damaged database with INDEX_CORRUPT naming it, and deletes nothing", async () => {
    const store = join(tempDir(), "store");
    const kb = await open(store);
    await kb.index([corpus(2)]);
    await kb.close();
    const db = join(store, "store.sqlite");
    const saved = readFileSync(db);
    unlinkSync(db);
    await expect(open(store)).rejects.toMatchObject({ code: "INDEX_CORRUPT", message: expect.stringContaining(db) });
    expect(graphFiles(store)).toHaveLength(1);

    writeFileSync(db, Buffer.concat([Buffer.from("this is not a database"), saved.subarray(100)]));
    await expect(open(store)).rejects.toMatchObject({ code: "INDEX_CORRUPT", message: expect.stringContaining(db) });
    writeFileSync(db, saved.subarray(0, Math.floor(saved.length / 2)));
    await expect(open(store)).rejects.toMatchObject({ code: "INDEX_CORRUPT" });
  });
});

describe("KnowledgeBase sources", () => {
  it("keeps two files of one name under different roots apart", async () => {
    const a = join(tempDir(), "corpus");
    const b = join(tempDir(), "uploads");
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, "notes.md"), "# Notes\n\nThe corpus note is about glaciers.\n");
    writeFileSync(join(b, "notes.md"), "# Notes\n\nThe uploaded note is about volcanoes.\n");
    const kb = await open(join(tempDir(), "store"));
    await kb.index([a]);
    await kb.index([join(b, "notes.md")], { cleanup: "none" });
    await kb.index([a]); // a re-run of the corpus leaves the upload alone
    expect((await kb.listSources()).map((s) => s.id).sort()).toEqual([join(a, "notes.md"), join(b, "notes.md")].sort());
    await expect(kb.removeSource("notes.md")).rejects.toMatchObject({ code: "CONFLICT" });
    const removed = await kb.removeSource(join(b, "notes.md"));
    expect(removed.root).toBe(b);
    expect((await kb.asRetriever({ k: 3, mode: "keyword" }).invoke("glaciers"))[0]?.pageContent).toMatch(/glaciers/);
    expect(await kb.asRetriever({ k: 3, mode: "keyword" }).invoke("volcanoes")).toEqual([]);
    await expect(kb.removeSource("notes.md")).resolves.toMatchObject({ root: a });
    await kb.close();
  });

  it("an aborted run stops between embedding batches and commits nothing half-done", async () => {
    const docs = join(tempDir(), "docs");
    mkdirSync(docs);
    const paragraphs = Array.from({ length: 400 }, (_, i) => `Paragraph ${i} is about the quokka colony ${i}.`);
    writeFileSync(join(docs, "big.md"), `# Quokkas\n\n${paragraphs.join("\n\n")}\n`);
    writeFileSync(join(docs, "small.md"), "# Small\n\nA small note.\n");
    const controller = new AbortController();
    class AbortingEmbeddings extends HashEmbeddings {
      override async embedDocuments(texts: string[]): Promise<number[][]> {
        if (this.calls === 1) controller.abort();
        return super.embedDocuments(texts);
      }
    }
    const embeddings = new AbortingEmbeddings();
    const store = join(tempDir(), "store");
    let kb = await open(store, embeddings);
    const summary = await kb.index([join(docs, "big.md")], {
      chunkSize: 100,
      chunkOverlap: 0,
      embedBatchSize: 16,
      signal: controller.signal,
    });
    expect(summary.aborted).toBe(true);
    expect(embeddings.calls).toBe(2); // the batch in flight ends, no new one starts
    expect((await kb.stats()).chunks).toBe(0); // the file's chunks are committed together or not at all
    await kb.close();
    kb = await open(store);
    const done = await kb.index([docs], { chunkSize: 100, chunkOverlap: 0 });
    expect(done).toMatchObject({ added: 2, aborted: false });
    await kb.close();
  });

  it("a refused batch changes nothing", async () => {
    const kb = await open(join(tempDir(), "store"));
    await kb.index([corpus(2)]);
    const before = await kb.stats();
    const [source] = await kb.listSources();
    await expect(
      kb.store.commit({
        remove: [source?.id as string],
        put: [
          {
            record: { path: "/x/y.md", root: "/x", source: "y.md", hash: "h", size: 1, mtimeMs: 1, indexedAt: "" },
            chunks: [{ id: "c1", pageContent: "text", metadata: {} }],
            vectors: [[1, 2, 3]],
          },
        ],
      }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT" });
    expect(await kb.stats()).toEqual(before);
    await kb.close();
  });
});

describe("the keyword snapshot", () => {
  const keywordTop = (kb: KnowledgeBase, q: string) => kb.keywordIndex.search(q, { k: 5 }).map((r) => [r.id, r.score]);
  const queries = ["heron lives", "otter number 3", "beaver", "paragraph 4 tells"];

  it("is written at close and read at start-up: the same scores, nothing analysed again", async () => {
    const store = join(tempDir(), "store");
    let kb = await open(store);
    await kb.index([corpus()], { chunkSize: 120, chunkOverlap: 0 });
    const before = queries.map((q) => keywordTop(kb, q));
    await kb.close();
    const db = new Database(join(store, "store.sqlite"), { readonly: true });
    const ref = JSON.parse(
      (db.prepare("SELECT value FROM meta WHERE key = 'keywords'").get() as { value: string }).value,
    );
    db.close();
    expect(ref.chunks).toBeGreaterThan(0);
    const repairs: string[] = [];
    kb = await open(store, new HashEmbeddings(), repairs);
    expect(repairs).toEqual([]);
    expect(queries.map((q) => keywordTop(kb, q))).toEqual(before);
    await kb.close();
  });

  it("catches up with commits after it (added, removed and re-indexed files) as a crash would leave them", async () => {
    const docs = corpus();
    const store = join(tempDir(), "store");
    const kb = await open(store);
    await kb.index([docs], { chunkSize: 120, chunkOverlap: 0 });
    await kb.save(); // the snapshot now covers the first eight files
    rmSync(join(docs, "otter-0.md"));
    writeFileSync(join(docs, "newt-9.md"), "# The newt 9\n\nThe newt number 9 lives in ponds.\n");
    // Same text, new title: the chunk ids stay, their title terms must not.
    const heron = readFileSync(join(docs, "heron-2.md"), "utf8");
    writeFileSync(join(docs, "heron-2.md"), heron.replace("# The heron 2", "# The egret 2"));
    await kb.index([docs], { chunkSize: 120, chunkOverlap: 0 });
    const expected = ["newt ponds", "otter", "egret", "heron"].map((q) => keywordTop(kb, q));
    // A second process opens the store while the first has not checkpointed: the snapshot is behind.
    const repairs: string[] = [];
    const second = await open(store, new HashEmbeddings(), repairs);
    expect(repairs.join("\n")).toMatch(/catching the keyword index up with \d+ chunks/);
    expect(["newt ponds", "otter", "egret", "heron"].map((q) => keywordTop(second, q))).toEqual(expected);
    expect(keywordTop(second, "egret").length).toBeGreaterThan(0);
    await second.close();
    await kb.close();
  });

  it("keeps the whole-document postings a search built, and follows later commits from them", async () => {
    const docs = corpus();
    const store = join(tempDir(), "store");
    const kb = await open(store);
    await kb.index([docs], { chunkSize: 120, chunkOverlap: 0 });
    const search = async (k: KnowledgeBase, q: string) =>
      (await k.asRetriever({ k: 3, mode: "keyword" }).invoke(q)).map((d) => d.id);
    await search(kb, "heron"); // builds the whole-document index
    await kb.save();
    rmSync(join(docs, "otter-0.md"));
    writeFileSync(join(docs, "newt-9.md"), "# The newt 9\n\nThe newt number 9 lives in ponds.\n");
    await kb.index([docs], { chunkSize: 120, chunkOverlap: 0 });
    const questions = ["newt ponds", "otter number 0", "heron lives", "beaver 1"];
    const expected = await Promise.all(questions.map((q) => search(kb, q)));
    const fresh = WholeDocumentIndex.of(
      KeywordIndex.rebuildFrom(kb.keywordIndex.ids().map((id) => kb.keywordIndex.getDocument(id) as Document)),
    );
    // A second process opens it before the first checkpoints again: both snapshots are behind.
    const repairs: string[] = [];
    const reopened = await open(store, new HashEmbeddings(), repairs);
    expect(repairs.join("\n")).toMatch(/catching the keyword index up/);
    expect(repairs.join("\n")).not.toMatch(/whole-document/);
    // Restored at start-up: no search has run yet.
    const whole = WholeDocumentIndex.built(reopened.keywordIndex);
    expect(whole).toBeDefined();
    expect(await Promise.all(questions.map((q) => search(reopened, q)))).toEqual(expected);
    for (const q of questions) {
      const a = [...(whole as WholeDocumentIndex).scores(q)].sort();
      const b = [...fresh.scores(q)].sort();
      expect(
        a.map(([source]) => source),
        q,
      ).toEqual(b.map(([source]) => source));
      for (const [i, [, score]] of a.entries()) expect(score).toBeCloseTo(b[i]?.[1] as number, 9);
    }
    await reopened.close();
    await kb.close();
  });

  it("a damaged or missing snapshot is rebuilt from the chunks' text, saying so, with the same results", async () => {
    const store = join(tempDir(), "store");
    let kb = await open(store);
    await kb.index([corpus()], { chunkSize: 120, chunkOverlap: 0 });
    const before = queries.map((q) => keywordTop(kb, q));
    await kb.close();
    for (const damage of ["flip", "delete"] as const) {
      const db = new Database(join(store, "store.sqlite"));
      if (damage === "flip") {
        const { data } = db.prepare("SELECT data FROM snapshots WHERE name = 'keywords'").get() as { data: Buffer };
        data[Math.floor(data.length / 2)] ^= 0xff;
        db.prepare("UPDATE snapshots SET data = ? WHERE name = 'keywords'").run(data);
      } else db.prepare("DELETE FROM snapshots").run();
      db.close();
      const repairs: string[] = [];
      kb = await open(store, new HashEmbeddings(), repairs);
      expect(repairs.join("\n")).toMatch(
        damage === "flip" ? /keyword snapshot fails its SHA-256 check; rebuilding/ : /keyword snapshot is missing/,
      );
      expect(queries.map((q) => keywordTop(kb, q))).toEqual(before);
      await kb.close();
    }
  });
});

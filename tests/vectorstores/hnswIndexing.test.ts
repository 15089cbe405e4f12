import { Document } from "@langchain/core/documents";
import { index, type ListKeyOptions, RecordManager, type UpdateOptions } from "@langchain/core/indexing";
import { describe, expect, it } from "vitest";
import { HNSWVectorStore } from "../../vectorstores/index.js";
import { BagOfWordsEmbeddings } from "./fakeEmbeddings.js";

/**
 * An in-memory record manager on core's `RecordManager`, behaving as @langchain/community's
 * InMemoryRecordManager does, except for its clock: that one stamps records with Date.now(), and
 * `index()` cleans up keys stamped at or before the run's start, so two runs within one
 * millisecond would delete what the second one just wrote. This clock ticks on every read, which
 * keeps the runs ordered however fast they are.
 */
class TickingRecordManager extends RecordManager {
  override lc_namespace = ["genera", "tests", "recordmanagers"];
  private readonly records = new Map<string, { updatedAt: number; groupId: string | null }>();
  private now = 0;

  async createSchema(): Promise<void> {}

  async getTime(): Promise<number> {
    this.now += 1;
    return this.now;
  }

  async update(keys: string[], options: UpdateOptions = {}): Promise<void> {
    const updatedAt = await this.getTime();
    const groupIds = options.groupIds ?? keys.map(() => null);
    keys.forEach((key, i) => {
      const old = this.records.get(key);
      if (old) old.updatedAt = updatedAt;
      else this.records.set(key, { updatedAt, groupId: groupIds[i] ?? null });
    });
  }

  async exists(keys: string[]): Promise<boolean[]> {
    return keys.map((key) => this.records.has(key));
  }

  async listKeys({ before, after, limit, groupIds }: ListKeyOptions = {}): Promise<string[]> {
    const keys = [...this.records]
      .filter(([, r]) => (!before || r.updatedAt <= before) && (!after || r.updatedAt >= after))
      .filter(([, r]) => !groupIds || groupIds.includes(r.groupId))
      .map(([key]) => key);
    return keys.slice(0, limit ?? keys.length);
  }

  async deleteKeys(keys: string[]): Promise<void> {
    for (const key of keys) this.records.delete(key);
  }
}

function doc(text: string, source: string): Document {
  return new Document({ pageContent: text, metadata: { source } });
}

function contents(store: HNSWVectorStore): string[] {
  return store
    .ids()
    .map((id) => store.getDocument(id)?.pageContent ?? "")
    .sort();
}

describe("HNSWVectorStore under LangChain's index()", () => {
  it("full cleanup keeps working over several runs after an id has gone from the store", async () => {
    const store = new HNSWVectorStore(new BagOfWordsEmbeddings());
    const recordManager = new TickingRecordManager();
    const run = (docs: Document[]) =>
      index({ docsSource: docs, recordManager, vectorStore: store, options: { cleanup: "full" } });
    const apple = doc("apples grow on trees in the orchard", "a.md");
    const banana = doc("bananas are yellow and curved", "b.md");
    const cherry = doc("cherries are small red stone fruit", "c.md");

    expect(await run([apple, banana, cherry])).toMatchObject({ numAdded: 3, numDeleted: 0, numSkipped: 0 });
    expect(await run([apple, banana, cherry])).toMatchObject({ numAdded: 0, numDeleted: 0, numSkipped: 3 });
    expect(store.size).toBe(3);

    // The banana chunk disappears from the store behind the record manager's back (deleted by
    // hand, or the store was restored from an older save); the record manager still lists it.
    const bananaId = store.ids().find((id) => store.getDocument(id)?.pageContent === banana.pageContent);
    expect(bananaId).toBeDefined();
    await store.delete({ ids: [bananaId as string] });
    expect(store.size).toBe(2);

    // banana.md is gone from the source and cherry.md changed: cleanup deletes the vanished id
    // and the old cherry chunk without throwing.
    const cherry2 = doc("cherries are small red stone fruit that ripen in June", "c.md");
    expect(await run([apple, cherry2])).toMatchObject({ numAdded: 1, numDeleted: 2, numSkipped: 1 });
    expect(contents(store)).toEqual([apple.pageContent, cherry2.pageContent].sort());

    expect(await run([apple])).toMatchObject({ numAdded: 0, numDeleted: 1, numSkipped: 1 });
    expect(contents(store)).toEqual([apple.pageContent]);
    const hits = await store.similaritySearch("red cherries", 5);
    expect(hits.map((d) => d.pageContent)).toEqual([apple.pageContent]);

    // Everything gone from the store, the record manager unaware: an empty run clears both.
    await store.delete({ ids: store.ids() });
    expect(await run([])).toMatchObject({ numAdded: 0, numDeleted: 1 });
    expect(await recordManager.listKeys({})).toEqual([]);
  });
});

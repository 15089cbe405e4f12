import { InMemoryRecordManager } from "@langchain/community/indexes/memory";
import { Document } from "@langchain/core/documents";
import { index } from "@langchain/core/indexing";
import { describe, expect, it } from "vitest";
import { HNSWVectorStore } from "../../vectorstores/index.js";
import { BagOfWordsEmbeddings } from "./fakeEmbeddings.js";

/**
 * InMemoryRecordManager stamps records with Date.now(), and `index()` cleans up keys stamped at
 * or before the run's start: two runs within one millisecond would delete what the second one
 * just wrote. A clock that ticks on every read keeps the runs ordered however fast they are.
 */
class TickingRecordManager extends InMemoryRecordManager {
  private now = 0;

  override async getTime(): Promise<number> {
    this.now += 1;
    return this.now;
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

import { describe, expect, it } from "vitest";
import { ExtractiveAnswerer } from "../../src/llms/ExtractiveAnswerer.js";
import { locate } from "../../src/llms/passageScope.js";
import { HybridRetriever } from "../../vectorstores/HybridRetriever.js";
import { HNSWVectorStore } from "../../vectorstores/hnsw.js";
import { KeywordIndex } from "../../vectorstores/KeywordIndex.js";
import { ConceptEmbeddings, chunk } from "../vectorstores/hybridFixtures.js";

// A made-up page of three sections, one chunk each, with exact offsets: the question's words are in
// the "ZestW" section, the answer in the "Zest" section before it (the retriever's context window).
const sections: Array<[string, string]> = [
  ["Momentum", "Momentum keeps a running sum of past gradients so the step carries on through flat stretches."],
  ["Zest", "Zest (Quorra and Tamsin, 2019) combines *momentum* with per-weight scaling of every step."],
  ["ZestW", "Ilka Borrow proposed ZestW, a Zest variant with decoupled decay applied to the weights directly."],
];

function page() {
  let start = 0;
  return sections.map(([heading, text], i) => {
    const doc = chunk(`frob.md#${i}`, text, {
      source: "frob.md",
      title: "Frob optimisers",
      headings: ["Frob optimisers", heading],
      startChar: start,
      chunkIndex: i,
    });
    start += text.length + 2;
    return doc;
  });
}

describe("locate", () => {
  it("finds a sentence verbatim, or across the markup and line breaks the quote left out", () => {
    const text =
      "Intro.\n\nAdam (Kingma and Ba, 2014; the name comes from *adaptive\nmoment estimation*) combines momentum. Next.";
    const quote = "Adam (Kingma and Ba, 2014; the name comes from adaptive moment estimation) combines momentum.";
    const [start, end] = locate(quote, text)!;
    expect(text.slice(start, end)).toBe(text.slice(text.indexOf("Adam"), text.indexOf(" Next")));
    expect(locate("Intro.", text)).toEqual([0, 6]);
    expect(locate("Adam combines momentum.", text)).toBeUndefined();
  });
});

describe("a quote from a passage's context window", () => {
  it("is cited as the neighbouring chunk it lies in: that chunk's id, section and text, offsets exact", async () => {
    const docs = page();
    const store = new HNSWVectorStore(new ConceptEmbeddings({ zest: 0 }));
    await store.addDocuments(docs);
    const retriever = new HybridRetriever({
      vectorStore: store,
      keywordIndex: KeywordIndex.rebuildFrom(docs),
      mode: "keyword",
      expandWindow: 1,
      k: 1,
    });
    const hits = await retriever.invoke("Who proposed ZestW Quorra Tamsin");
    expect(hits[0]?.id).toBe("frob.md#2");
    expect(hits[0]?.metadata.contextParts).toEqual([
      { id: "frob.md#1", start: 0, end: sections[1]![1].length, headings: ["Frob optimisers", "Zest"] },
      {
        id: "frob.md#2",
        start: sections[1]![1].length + 2,
        end: sections[1]![1].length + 2 + sections[2]![1].length,
        headings: ["Frob optimisers", "ZestW"],
      },
    ]);

    const out = await new ExtractiveAnswerer().invoke({ question: "Who proposed Zest?", documents: hits });
    expect(out.answer.startsWith("Zest (Quorra and Tamsin, 2019)")).toBe(true);
    const [source] = out.sources;
    expect(source).toMatchObject({
      index: 1,
      id: "frob.md#1",
      source: "frob.md",
      headings: ["Frob optimisers", "Zest"],
    });
    expect(source?.text).toBe(sections[1]![1]);
    const citation = out.citations[0]!;
    // The quote leaves the emphasis out; its offsets still span the sentence as written.
    expect(citation.sentence).toBe(
      "Zest (Quorra and Tamsin, 2019) combines momentum with per-weight scaling of every step.",
    );
    const full = sections.map(([, text]) => text).join("\n\n");
    expect(full.slice(citation.startChar, citation.endChar)).toBe(sections[1]![1]);
  });

  it("from the retrieved chunk itself is cited as that chunk", async () => {
    const [, zest, zestw] = page();
    const out = await new ExtractiveAnswerer().invoke({
      question: "Who proposed ZestW?",
      documents: [
        { ...zestw!, metadata: { ...zestw!.metadata, context: `${zest!.pageContent}\n\n${zestw!.pageContent}` } },
      ],
    });
    expect(out.sources[0]).toMatchObject({ id: "frob.md#2", headings: ["Frob optimisers", "ZestW"] });
  });
});

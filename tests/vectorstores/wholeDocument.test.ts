import { describe, expect, it } from "vitest";
import { HybridRetriever } from "../../vectorstores/HybridRetriever.js";
import { HNSWVectorStore } from "../../vectorstores/hnsw.js";
import { KeywordIndex } from "../../vectorstores/KeywordIndex.js";
import { WholeDocumentIndex } from "../../vectorstores/WholeDocumentIndex.js";
import { ConceptEmbeddings, chunk } from "./hybridFixtures.js";

/** Chunks of one source with exact offsets (and a 6-character overlap between neighbours). */
function split(source: string, title: string, text: string, size: number) {
  const out = [];
  for (let start = 0, i = 0; start < text.length; start += size - 6, i++) {
    const piece = text.slice(start, start + size);
    out.push(chunk(`${source}#${i}`, piece, { source, title, headings: [title], startChar: start, chunkIndex: i }));
    if (start + size >= text.length) break;
  }
  return out;
}

// Parallel profiles: each lists its neighbours without naming itself in that chunk; one
// neighbour's profile names Arvia in its border list.
const arvia = "Arvia is a small country in the north. Capital: Ostrel. Borders: Belmar, Cortan and Dovia.";
const belmar = "Belmar is a coastal country in the west. Capital: Selm. Borders: Arvia and Cortan, along rivers.";
const cortan = "Cortan lies in the mountains of the east. Capital: Varn. Borders: Arvia, Belmar and Dovia too.";

async function setup() {
  const docs = [
    ...split("arvia.md", "Arvia", arvia, 40),
    ...split("belmar.md", "Belmar", belmar, 40),
    ...split("cortan.md", "Cortan", cortan, 40),
  ];
  const store = new HNSWVectorStore(new ConceptEmbeddings({ capital: 0, borders: 1, country: 2 }));
  await store.addDocuments(docs);
  const keywordIndex = KeywordIndex.rebuildFrom(docs);
  return { docs, store, keywordIndex };
}

describe("WholeDocumentIndex", () => {
  it("rebuilds each source from its chunks without repeating overlaps, and follows index changes", async () => {
    const { docs, keywordIndex } = await setup();
    const whole = WholeDocumentIndex.of(keywordIndex);
    expect(WholeDocumentIndex.of(keywordIndex)).toBe(whole);
    expect(whole.chunksOf("arvia.md")).toEqual(docs.filter((d) => d.metadata.source === "arvia.md").map((d) => d.id));
    const around = whole.neighbourhood("arvia.md#1", 1)!;
    expect(around.text).toBe(arvia.slice(0, around.text.length));
    expect(around.startChar).toBe(0);
    expect(around.text.slice(around.before, around.before + 40)).toBe(docs[1]!.pageContent);
    keywordIndex.remove(["cortan.md#0"]);
    const after = WholeDocumentIndex.of(keywordIndex);
    expect(after.chunksOf("cortan.md")).toEqual(
      docs.filter((d) => d.metadata.source === "cortan.md" && d.id !== "cortan.md#0").map((d) => d.id),
    );
  });

  it("updates only the documents whose chunks changed, ending where a full rebuild ends", async () => {
    const { docs, keywordIndex } = await setup();
    const filler = Array.from({ length: 12 }, (_, i) =>
      split(`filler-${i}.md`, `Filler ${i}`, `Filler ${i} is about nothing in particular, page ${i}.`, 40),
    ).flat();
    keywordIndex.add(filler);
    const whole = WholeDocumentIndex.of(keywordIndex);
    // An ingest's changes: a new source, a source re-indexed under a new title, one removed.
    const dovia = split("dovia.md", "Dovia", "Dovia is a lake country. Capital: Lenn. Borders: Arvia, Cortan.", 40);
    const retitled = split("belmar.md", "Belmaria", belmar, 40);
    keywordIndex.add(dovia);
    keywordIndex.replace(retitled);
    keywordIndex.remove(docs.filter((d) => d.metadata.source === "cortan.md").map((d) => d.id as string));
    const updated = WholeDocumentIndex.of(keywordIndex);
    expect(updated).toBe(whole); // updated in place, not rebuilt
    const fresh = WholeDocumentIndex.of(
      KeywordIndex.rebuildFrom([
        ...docs.filter((d) => d.metadata.source === "arvia.md"),
        ...filler,
        ...dovia,
        ...retitled,
      ]),
    );
    for (const source of ["arvia.md", "belmar.md", "cortan.md", "dovia.md"]) {
      expect(updated.chunksOf(source), source).toEqual(fresh.chunksOf(source));
    }
    for (const q of ["Belmaria capital", "Cortan mountains", "lake country borders", "Arvia"]) {
      const a = [...updated.scores(q)].sort();
      const b = [...fresh.scores(q)].sort();
      expect(
        a.map(([s]) => s),
        q,
      ).toEqual(b.map(([s]) => s));
      for (const [i, [, score]] of a.entries()) expect(score).toBeCloseTo(b[i]![1], 9);
    }
    expect(updated.neighbourhood("dovia.md#1", 1)).toEqual(fresh.neighbourhood("dovia.md#1", 1));
  });

  it("keeps the whitespace a splitter trimmed between chunks, so a term line stays apart from its paragraph", () => {
    const text = "bgwriter_delay (integer)\n\nSpecifies the delay. The default is 200ms.";
    const cut = text.indexOf("Specifies");
    const docs = [
      chunk("conf#0", text.slice(0, 24), { source: "conf", title: "Conf", startChar: 0 }),
      chunk("conf#1", text.slice(cut), { source: "conf", title: "Conf", startChar: cut }),
    ];
    const around = WholeDocumentIndex.of(KeywordIndex.rebuildFrom(docs)).neighbourhood("conf#1", 1)!;
    expect(around.text).toBe(text);
    expect(around.startChar).toBe(0);
  });
});

describe("HybridRetriever with document-level evidence", () => {
  it("ranks the profile of the entity the question names above a neighbour that mentions it", async () => {
    const { store, keywordIndex } = await setup();
    const question = "Which countries share a border with Arvia?";
    const make = (documentWeight: number) =>
      new HybridRetriever({ vectorStore: store, keywordIndex, mode: "keyword", documentWeight, titleBoost: 0, k: 3 });
    const chunksOnly = await make(0).retrieveWithScores(question);
    const withDocuments = await make(1).retrieveWithScores(question);
    expect(withDocuments[0]?.[0].metadata.source).toBe("arvia.md");
    // The whole profile is about Arvia: its lead over the next document grows with the evidence.
    const lead = (r: typeof chunksOnly) => r[0]![1] - r.find(([d]) => d.metadata.source !== "arvia.md")![1];
    expect(lead(withDocuments)).toBeGreaterThan(lead(chunksOnly));
  });

  it("hands the answerer the chunk's neighbours in metadata.context, the chunk itself unchanged", async () => {
    const { store, keywordIndex } = await setup();
    const [hit] = await new HybridRetriever({
      vectorStore: store,
      keywordIndex,
      mode: "keyword",
      expandWindow: 1,
      k: 1,
    }).invoke("Ostrel capital");
    expect(hit?.metadata.source).toBe("arvia.md");
    const context = hit?.metadata.context as string;
    expect(context).toContain(hit!.pageContent);
    expect(context.length).toBeGreaterThan(hit!.pageContent.length);
    const start = hit?.metadata.contextStartChar as number;
    expect(arvia.slice(start, start + context.length)).toBe(context);
  });
});

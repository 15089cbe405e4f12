import { describe, expect, it } from "vitest";
import { HybridRetriever } from "../../vectorstores/HybridRetriever.js";
import { HNSWVectorStore } from "../../vectorstores/hnsw.js";
import { KeywordIndex } from "../../vectorstores/KeywordIndex.js";
import { isQuestionHeading, WholeDocumentIndex } from "../../vectorstores/WholeDocumentIndex.js";
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

  it("keeps every CSV row whole: each row's offsets start at 0 and never overlap another row's", () => {
    const rows = ["term: dropout\ndefinition: zeroes units", "term: bfloat16\ndefinition: 8 exponent bits"];
    const keywordIndex = KeywordIndex.rebuildFrom(
      rows.map((text, row) =>
        chunk(`glossary.csv#${row}`, text, {
          source: "glossary.csv",
          format: "csv",
          row,
          startChar: 0,
          chunkIndex: row,
        }),
      ),
    );
    const whole = WholeDocumentIndex.of(keywordIndex);
    expect(whole.neighbourhood("glossary.csv#1", 1)?.text).toBe(rows.join("\n\n"));
    expect(whole.scores("exponent").get("glossary.csv")).toBeGreaterThan(0);
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

  it("analyses a large update between searches, which get the index as it was, then ends where a full rebuild ends", async () => {
    const { docs: profiles, keywordIndex } = await setup();
    // More chunks already indexed than the upload brings, so the index is updated, not rebuilt.
    const filler = Array.from({ length: 1200 }, (_, i) => chunk(`f${i}`, `Filler ${i}.`, { source: `f${i}.md` }));
    keywordIndex.add(filler);
    const docs = [...profiles, ...filler];
    const whole = WholeDocumentIndex.of(keywordIndex);
    const before = whole.keywordIndex.revision;
    // A ~700 KB upload: re-analysing it inside one search held the main thread for seconds.
    const words = ["walrus", "tusk", "ΣΟΦΊΑΣ", "1,000", "e\u0301cole", "gpt-4", "don't", "naïve"];
    const text = Array.from({ length: 40_000 }, (_, i) => `${words[i % words.length]} line ${i}.`).join("\n");
    const upload = split("upload.md", "Upload", text, 800);
    keywordIndex.add(upload);
    let turns = 0;
    let ticking = true;
    const tick = (): void => {
      if (!ticking) return;
      turns++;
      // Searches meanwhile: the same index, not yet holding the upload.
      expect(WholeDocumentIndex.of(keywordIndex)).toBe(whole);
      setImmediate(tick);
    };
    expect(WholeDocumentIndex.of(keywordIndex)).toBe(whole);
    expect(whole.scores("walrus").size).toBe(0);
    setImmediate(tick);
    expect(await WholeDocumentIndex.settled(keywordIndex)).toBe(whole);
    ticking = false;
    expect(turns).toBeGreaterThan(3);
    expect(whole.keywordIndex.revision).toBe(before + 1);
    const fresh = WholeDocumentIndex.of(KeywordIndex.rebuildFrom([...docs, ...upload]));
    expect(whole.chunksOf("upload.md")).toEqual(fresh.chunksOf("upload.md"));
    for (const q of ["walrus tusk", "sofias", "1000 ecole", "gpt-4 naive", "Arvia"]) {
      const a = [...whole.scores(q)].sort();
      const b = [...fresh.scores(q)].sort();
      expect(
        a.map(([source]) => source),
        q,
      ).toEqual(b.map(([source]) => source));
      for (const [i, [, score]] of a.entries()) expect(score, q).toBeCloseTo(b[i]![1], 9);
    }
  });

  it("grows a context window nearest first, one before then one after, within a character budget", () => {
    // Ten contiguous chunks of ten characters each.
    const text = Array.from({ length: 10 }, (_, i) => `chunk ${i}.\n`.padEnd(10, "-")).join("");
    const docs = Array.from({ length: 10 }, (_, i) =>
      chunk(`t#${i}`, text.slice(i * 10, i * 10 + 10), { source: "t", title: "T", startChar: i * 10 }),
    );
    const whole = WholeDocumentIndex.of(KeywordIndex.rebuildFrom(docs));
    const window = (maxChars?: number) => whole.neighbourhood("t#5", 3, maxChars)!;
    expect(window().text).toBe(text.slice(20, 90));
    // 4 before, 6 after, 3 before; 7 after would pass 45 characters.
    expect(window(45).text).toBe(text.slice(30, 70));
    expect(window(45).startChar).toBe(30);
    expect(window(35).text).toBe(text.slice(40, 70));
    expect(window(5).text).toBe(text.slice(50, 60)); // the chunk itself always comes whole
    expect(window(5).before).toBe(0);
    // At the start of a document the budget goes to the chunks after.
    expect(whole.neighbourhood("t#0", 3, 30)!.text).toBe(text.slice(0, 30));
  });

  it("keeps a context window to an FAQ question's section: the next question stops it, a section under it joins", () => {
    // An FAQ: each question a section. Chunks in reading order with their heading paths.
    const faq = ["FAQ"];
    const lists = [...faq, "How are lists implemented?"];
    const dicts = [...faq, "How are dicts implemented?"];
    const parts: Array<[string, string[] | undefined]> = [
      ["Intro before any question.", undefined],
      ["Lists are arrays of references.", lists],
      ["Appending is amortised O(1).", lists],
      ["Dicts are hash tables.", dicts],
      ["Keys must be hashable.", dicts],
      ["Resizing keeps them sparse.", [...dicts, "Resizing"]],
      ["Sets are dicts without values.", [...faq, "How are sets implemented?"]],
    ];
    let at = 0;
    const docs = parts.map(([text, headings], i) => {
      const doc = chunk(`faq#${i}`, text, { source: "faq", title: "FAQ", startChar: at, headings: headings ?? [] });
      at += text.length + 2;
      return doc;
    });
    const whole = WholeDocumentIndex.of(KeywordIndex.rebuildFrom(docs));
    const text = (id: string) => whole.neighbourhood(id, 4)!.text.split("\n\n");
    // Neither the lists answer before it nor the sets answer after it; its subsection joins.
    expect(text("faq#3")).toEqual(["Dicts are hash tables.", "Keys must be hashable.", "Resizing keeps them sparse."]);
    expect(whole.neighbourhood("faq#4", 4)!.before).toBe("Dicts are hash tables.\n\n".length);
    // A hit in the subsection reads its question's answer, still not the next question's.
    expect(text("faq#5")).toEqual(["Dicts are hash tables.", "Keys must be hashable.", "Resizing keeps them sparse."]);
    expect(text("faq#1")).toEqual(["Lists are arrays of references.", "Appending is amortised O(1)."]);
    // A chunk under no heading grows its window as before.
    expect(text("faq#0")).toEqual(parts.slice(0, 5).map(([t]) => t));
  });

  it("stops a context window at FAQ entries whose headings state a problem instead of asking", () => {
    const faq = ["Widget FAQ", "3. Widget behaves oddly"];
    const parts: Array<[string, string[]]> = [
      ["Oil the spindle.", [...faq, "3.1. My widget squeaks when it spins at full speed."]],
      ["Check the fuse first.", [...faq, "3.2. The widget will not start and the lamp stays dark"]],
      ["Wait for it to cool.", [...faq, "3.3. Can I stop it mid-spin? (And other stopping questions)"]],
      ["Its rating is 40 rpm.", [...faq, "3.3. Can I stop it mid-spin? (And other stopping questions)", "Speed"]],
      ["Spin speed and noise are tested at the factory.", ["Widget FAQ", "4. Specifications"]],
    ];
    let at = 0;
    const docs = parts.map(([text, headings], i) => {
      const doc = chunk(`wf#${i}`, text, { source: "wf", title: "Widget FAQ", startChar: at, headings });
      at += text.length + 2;
      return doc;
    });
    const whole = WholeDocumentIndex.of(KeywordIndex.rebuildFrom(docs));
    const text = (id: string) => whole.neighbourhood(id, 4)!.text.split("\n\n");
    // A statement ending in a full stop, a sentence-long heading and a question mark inside all
    // head one entry each; a subsection of an entry still joins it.
    expect(text("wf#0")).toEqual(["Oil the spindle."]);
    expect(text("wf#1")).toEqual(["Check the fuse first."]);
    expect(text("wf#2")).toEqual(["Wait for it to cool.", "Its rating is 40 rpm."]);
    expect(isQuestionHeading("3. Widget behaves oddly")).toBe(false);
    expect(isQuestionHeading("2.7.3. Error-related Options")).toBe(false);
  });

  it("lets a context window cross between sections that ask no question (a reference page's parts)", () => {
    const parts: Array<[string, string[]]> = [
      ["The width property sets an element's width.", ["width"]],
      ["width: auto | <length>", ["width", "Syntax"]],
      ["Initial value: auto", ["width", "Formal definition"]],
    ];
    let at = 0;
    const docs = parts.map(([text, headings], i) => {
      const doc = chunk(`w#${i}`, text, { source: "w", title: "width", startChar: at, headings });
      at += text.length + 2;
      return doc;
    });
    const whole = WholeDocumentIndex.of(KeywordIndex.rebuildFrom(docs));
    expect(whole.neighbourhood("w#1", 4)!.text.split("\n\n")).toEqual(parts.map(([t]) => t));
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

import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import { ExtractiveAnswerer, NO_ANSWER_TEXT } from "../../src/llms/ExtractiveAnswerer.js";
import {
  asksWhy,
  definitionSubject,
  namesPerson,
  questionShape,
  questionSubject,
  statesExpected,
  whoRelation,
} from "../../src/llms/questionAnalysis.js";

/** A made-up optimiser page: the thing asked about is cited by author and year, a compound of its name is "proposed". */
const optimisers = new Document({
  pageContent: [
    "# Optimisers of the Frob engine",
    "",
    "## Momentum and friends",
    "",
    "RMSGlide, proposed by Arno Vell in his 2012 lecture, replaces the sum with a moving average so the step can recover.",
    "",
    "## Zest",
    "",
    "Zest (Quorra and Tamsin, 2019; the name comes from zeroth-order estimates) combines momentum with per-weight scaling.",
    "Zest keeps two extra values per weight, so its state takes twice the memory of the weights.",
    "",
    "## ZestW and decoupled decay",
    "",
    "With Zest the decay term is scaled like every other gradient, so large weights are barely regularised. Ilka Borrow and Pim Weyland proposed ZestW, which applies the decay to the weights directly.",
  ].join("\n"),
  metadata: {
    source: "optimisers.md",
    title: "Optimisers of the Frob engine",
    headings: ["Optimisers of the Frob engine"],
    startChar: 0,
  },
});

/** Made-up element profiles: the discoverer is named with another verb, or not at all. */
const brimium = new Document({
  pageContent: [
    "# Brimium",
    "",
    "## Description",
    "",
    "A soft grey metal of group 19 of the table. It tarnishes in moist air within hours. Brimium was identified by Olsen in 1771 and first isolated by Marrow in 1886.",
  ].join("\n"),
  metadata: { source: "brimium.md", title: "Brimium", headings: ["Brimium"], startChar: 0 },
});
const glimmium = new Document({
  pageContent: [
    "# Glimmium",
    "",
    "## Description",
    "",
    "A soft silvery metal of group 19 of the table. Glimmium tarnishes in moist air within hours and burns with a green flame.",
  ].join("\n"),
  metadata: { source: "glimmium.md", title: "Glimmium", headings: ["Glimmium"], startChar: 0 },
});

/** A made-up regularisation page whose section about the technique opens with its history. */
const regularisation = new Document({
  pageContent: [
    "# Regularisation and stillness",
    "",
    "## Stillness",
    "",
    "Stillness was introduced by Vera Holt and colleagues in 2015 and described in full in 2017.",
    "During training, each layer is frozen with probability p, so the network cannot lean on any single layer and learns several overlapping paths.",
    "The original paper used p = 0.3 for deep layers.",
    "",
    "Very large models trained for one pass rarely need it. Stillness is still valuable when fine-tuning on small data sets.",
    "",
    "### Monte Carlo stillness",
    "",
    "Keeping stillness on at inference and averaging several passes gives an estimate of the model's uncertainty.",
  ].join("\n"),
  metadata: {
    source: "regularisation.md",
    title: "Regularisation and stillness",
    headings: ["Regularisation and stillness"],
    startChar: 0,
  },
});

describe("who-questions", () => {
  it("read the verb as the relation asked for, and expect a person", () => {
    expect(whoRelation("Who originally invented byte-pair glue?")).toEqual({
      verb: "invented",
      subject: "byte-pair glue",
    });
    expect(whoRelation("Who introduced warm restarts, and in what year?")?.subject).toBe("warm restarts");
    expect(questionShape("Who proposed Zest?").expects).toBe("person");
    expect(statesExpected("Zest (Quorra and Tamsin, 2019) combines …", "person")).toBe(true);
    expect(statesExpected("First isolated by Marrow in 1886.", "person")).toBe(true);
    expect(statesExpected("Warmup, due to Ada Quill, ramps the rate.", "person")).toBe(true);
    expect(statesExpected("The Transformer applies stillness to every layer.", "person")).toBe(false);
  });

  it("answer from the unit whose subject is the thing itself, not a compound of its name", async () => {
    const answerer = new ExtractiveAnswerer();
    const out = await answerer.invoke({ question: "Who proposed Zest?", documents: [optimisers] });
    expect(out.answer.startsWith("Zest (Quorra and Tamsin, 2019")).toBe(true);
    expect(out.answer).not.toContain("ZestW");
    expect(out.answer).not.toContain("RMSGlide");
    // Nor does a further sentence about another thing's maker follow the answer.
    // (The page's title names both, so every unit of it matches "ZestW" through the title.)
    const titled = new Document({
      pageContent: [
        "# Optimisers: Zest and ZestW",
        "",
        "## ZestW",
        "",
        "Ilka Borrow and Pim Weyland proposed ZestW, which applies the decay to the weights directly.",
        "",
        "## Momentum and friends",
        "",
        "RMSGlide, proposed by Arno Vell in his 2012 lecture, replaces the sum with a moving average.",
      ].join("\n"),
      metadata: { source: "zest.md", title: "Optimisers: Zest and ZestW", headings: ["Optimisers: Zest and ZestW"] },
    });
    const compound = await answerer.invoke({ question: "Who proposed ZestW?", documents: [titled] });
    expect(compound.answer).toContain("Ilka Borrow and Pim Weyland proposed ZestW");
    expect(compound.answer).not.toContain("RMSGlide");
    // The unit that names ZestW itself answers, even where a sentence naming another maker comes first.
    const reversed = new Document({
      pageContent: [
        "# Optimisers: Zest and ZestW",
        "",
        "## Momentum and friends",
        "",
        "RMSGlide, proposed by Arno Vell in his 2012 lecture, replaces the sum with a moving average.",
        "",
        "## ZestW",
        "",
        "Ilka Borrow and Pim Weyland proposed ZestW, which applies the decay to the weights directly.",
      ].join("\n"),
      metadata: titled.metadata,
    });
    const own = await answerer.invoke({ question: "Who proposed ZestW?", documents: [reversed] });
    expect(own.citations[0]?.sentence).toMatch(/proposed ZestW/);
  });

  it("take a source's own verb for the one asked, and decline when no person is named", async () => {
    const answerer = new ExtractiveAnswerer();
    const found = await answerer.invoke({ question: "Who discovered brimium?", documents: [brimium, glimmium] });
    expect(found.answer).toContain("isolated by Marrow");
    const none = await answerer.invoke({ question: "Who discovered glimmium?", documents: [glimmium, brimium] });
    expect(none.answer).toBe(NO_ANSWER_TEXT);
  });
});

describe("compound definition questions", () => {
  it("read 'What is X and why …?' as a definition of X that also asks why", () => {
    expect(definitionSubject("What is stillness and why does it help?")).toBe("stillness");
    expect(definitionSubject("What's a frob, and how is it computed?")).toBe("frob");
    expect(questionShape("What is stillness and why does it help?").type).toBe("definition");
    expect(asksWhy("What is stillness and why does it help?")).toBe(true);
    expect(asksWhy("What is stillness?")).toBe(false);
  });

  it("lead with the section's sentence that says what X does and why, not a later remark that names X", async () => {
    const answerer = new ExtractiveAnswerer();
    const out = await answerer.invoke({
      question: "What is stillness and why does it help?",
      documents: [regularisation],
    });
    expect(out.citations[0]?.sentence).toMatch(/^During training, each layer is frozen/);
    expect(out.answer).not.toContain("still valuable");
    expect(out.answer).not.toContain("Monte Carlo");
  });

  it("lead with what X is, then the reason, when no one sentence says both", async () => {
    const search = new Document({
      pageContent: [
        "# Searching for paths",
        "",
        "## Glide search",
        "",
        "Glide search keeps the K best partial paths at each step. Every path is extended by each possible next move.",
        "",
        "Because scores only fall as paths grow, glide search favours short paths, so its scores are divided by a length penalty.",
      ].join("\n"),
      metadata: { source: "search.md", title: "Searching for paths", headings: ["Searching for paths"], startChar: 0 },
    });
    const out = await new ExtractiveAnswerer().invoke({
      question: "What is glide search and why is it used?",
      documents: [search],
    });
    expect(out.citations[0]?.sentence).toMatch(/^Glide search keeps the K best/);
    expect(out.answer).toContain("Because scores only fall");
  });
});

describe("who-questions that name a person", () => {
  it("are not answered by that person's name", () => {
    const named = ["quill", "ada", "vorn"];
    expect(namesPerson("The language was written by Ada Vorn in 1990.", [], named)).toBe(false);
    expect(namesPerson("Ada Vorn recommends short functions.", [], named)).toBe(false);
    expect(namesPerson("Ada Vorn handed the project to Bram Olt.", [], named)).toBe(true);
    // A month and a year are a date, not an author and a year.
    expect(namesPerson("Manual page from Quill tools 2.1, September 2022.")).toBe(false);
    expect(namesPerson("Glide (Orr and Vale, 2022) keeps a beam.")).toBe(true);
  });
});

describe("a subject that describes rather than names", () => {
  it("names no subject a passage must write", () => {
    expect(questionSubject("Who proposed sharing one lantern across all night watches?")).toEqual([]);
    expect(questionSubject("What is the cost of a watch that shares its lantern with others?")).toEqual([]);
    expect(questionSubject("What is the default value of the Harbour registry key for Quarry?").length).toBe(4);
    expect(questionSubject("What is the initial value of padding?").length).toBe(1);
  });

  it("is answered by the passage that covers it in other words", async () => {
    const watches = new Document({
      pageContent: [
        "# Night watches",
        "",
        "## Shared lanterns",
        "",
        "Proposed by Orla Fenwick in 1821, the single-lantern rota lets every night watch use one shared lantern, which saves oil at a small cost in light.",
      ].join("\n"),
      metadata: { source: "watches.md", title: "Night watches", headings: ["Night watches"], startChar: 0 },
    });
    const out = await new ExtractiveAnswerer().invoke({
      question: "Who proposed sharing one lantern across all night watches?",
      documents: [watches],
    });
    expect(out.answer).toContain("Orla Fenwick");
  });
});

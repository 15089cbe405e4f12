import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import {
  type CorpusStatistics,
  ExtractiveAnswerer,
  NO_ANSWER_TEXT,
  questionShape,
} from "../../src/llms/ExtractiveAnswerer.js";
import { answerUnits } from "../../src/llms/textUnits.js";

const profile = (name: string, symbol: string, weight: string, description: string) =>
  new Document({
    pageContent: `# ${name}\n\n## Identity\n\nSymbol: ${symbol}\nAtomic weight: ${weight}\n\n## Description\n\n${description}`,
    metadata: { source: `${name.toLowerCase()}.md`, title: name, headings: [name], startChar: 0 },
  });

const iron = profile("Iron", "Fe", "55.847", "Silvery malleable metal. It rusts in moist air.");
const copper = profile("Copper", "Cu", "63.546", "Red metal. Iron and copper were both known in antiquity.");
const numeric = new Document({
  pageContent:
    "Table 8.2. Numeric Types\n\nName | Storage Size | Description\n\nsmallint | 2 bytes | small-range integer\nbigint | 8 bytes | large-range integer\n\nThe bigint type is designed to be used when the range of the integer type is insufficient.",
  metadata: { source: "datatype-numeric.html", title: "8.1. Numeric Types", headings: [] },
});

/** Word statistics of a corpus of `texts`, counted the simple way. */
function statistics(texts: string[]): CorpusStatistics {
  const lower = texts.map((t) => t.toLowerCase());
  return {
    documentCount: texts.length,
    documentFrequency: (word) => lower.filter((t) => t.includes(word.toLowerCase())).length,
  };
}
// Forty more profiles of the same shape, so shared words ("atomic", "weight") are common and names are rare.
const others = Array.from(
  { length: 40 },
  (_, i) => `# E${i}\nSymbol: X${i}\nAtomic weight: ${i}.5\nA metal in moist air.`,
);
const corpus = statistics([iron.pageContent, copper.pageContent, numeric.pageContent, ...others]);

describe("answer units", () => {
  it("splits fields and table rows into units, rows labelled with their header", () => {
    const units = answerUnits(numeric.pageContent);
    expect(units.find((u) => u.text.startsWith("bigint |"))).toMatchObject({
      kind: "row",
      label: "Name Storage Size Description",
    });
    expect(
      answerUnits(iron.pageContent)
        .filter((u) => u.kind === "field")
        .map((u) => u.text),
    ).toEqual(["Symbol: Fe", "Atomic weight: 55.847"]);
  });

  it("reads the question's type", () => {
    expect(questionShape("Which element has the symbol Fe?").type).toBe("which");
    expect(questionShape("How many bytes does a bigint take?").type).toBe("quantity");
    expect(questionShape("Who discovered oxygen?").type).toBe("who");
    expect(questionShape("What is dropout?").type).toBe("definition");
    expect(questionShape("What is the default value of max_connections?").type).toBe("other");
  });
});

describe("ExtractiveAnswerer answers the question asked", () => {
  const answerer = new ExtractiveAnswerer();

  it("quotes a field line of the right profile: the title says whose it is", async () => {
    const result = await answerer.answer({
      question: "What is the atomic weight of iron?",
      documents: [copper, iron],
      corpus,
    });
    expect(result.citations[0]?.sentence).toBe("Atomic weight: 55.847");
    expect(result.sources[0]?.source).toBe("iron.md");
    // The sentence's exact place in its document.
    const { startChar, endChar } = result.citations[0]!;
    expect(iron.pageContent.slice(startChar, endChar)).toBe("Atomic weight: 55.847");
  });

  it('answers "Which <thing> …?" with the title first', async () => {
    const result = await answerer.answer({
      question: "Which element has the symbol Fe?",
      documents: [iron, copper],
      corpus,
    });
    expect(result.answer.startsWith("Iron: Symbol: Fe [1]")).toBe(true);
  });

  it("answers from a table row", async () => {
    const result = await answerer.answer({
      question: "How many bytes does a bigint take?",
      documents: [numeric],
      corpus,
    });
    expect(result.answer).toContain("8 bytes");
  });

  it("declines when the passages lack what the question is about, even if they share its names", async () => {
    for (const question of [
      "What is the density of iron?",
      "What is the capital of France?",
      "What is the atomic weight of mithril?",
    ]) {
      expect((await answerer.answer({ question, documents: [iron, copper], corpus })).answer, question).toBe(
        NO_ANSWER_TEXT,
      );
    }
  });

  it("puts the best sentence first and keeps further ones in reading order and on topic", async () => {
    const result = await new ExtractiveAnswerer({ relativeCutoff: 0.1, minScore: 0.05 }).answer({
      question: "Does iron rust in moist air, and what kind of metal is it?",
      documents: [iron, copper],
      corpus,
    });
    const sentences = result.citations.map((c) => c.sentence);
    expect(sentences[0]).toBe("It rusts in moist air.");
    expect(sentences).not.toContain("Red metal.");
    const rest = result.citations.slice(1).filter((c) => c.index === result.citations[0]?.index);
    const positions = rest.map((c) => c.startChar ?? 0);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });
});

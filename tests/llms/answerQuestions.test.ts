import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import {
  attributeModifiers,
  type CorpusStatistics,
  definitionSubject,
  ExtractiveAnswerer,
  expectedAnswer,
  NO_ANSWER_TEXT,
  namePhrases,
  nameTerms,
  questionShape,
  statesExpected,
  versionedNames,
} from "../../src/llms/ExtractiveAnswerer.js";
import { answerUnits, contentTerms, greekSpelling, splitSentences } from "../../src/llms/textUnits.js";

const profile = (name: string, symbol: string, weight: string, description: string) =>
  new Document({
    pageContent: `# ${name}\n\n## Identity\n\nSymbol: ${symbol}\nAtomic weight: ${weight}\n\n## Description\n\n${description}`,
    metadata: { source: `${name.toLowerCase()}.md`, title: name, headings: [name], startChar: 0 },
  });

/** A page of one source and title, read from its start. */
const pageOf = (source: string, title: string, pageContent: string) =>
  new Document({ pageContent, metadata: { source, title, startChar: 0 } });

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
    expect(questionShape("What tool adds line numbers to a file?").type).toBe("which");
  });

  it("reads what a definition question asks about", () => {
    expect(definitionSubject("What is dropout?")).toBe("dropout");
    expect(definitionSubject("What does the bzmore command do?")).toBe("bzmore command");
    expect(definitionSubject("What is xargs used for?")).toBe("xargs");
    expect(definitionSubject("In a few words, what's the purpose of the base64 utility?")).toBe("base64 utility");
    expect(definitionSubject("What is the capital of France?")).toBeUndefined();
    expect(definitionSubject("What is bgwriter_delay set to by default?")).toBeUndefined();
  });

  it("keeps short options and folds irregular verbs in content terms", () => {
    expect(contentTerms("What does the -n option do?")).toContain("-n");
    expect(contentTerms("-r, --regex: Interpret each keyword")).toEqual(expect.arrayContaining(["-r", "regex"]));
    expect(contentTerms("Who wrote it?")).toEqual(contentTerms("Written by"));
  });

  it("reads the names a question uses, single capital letters included", () => {
    expect(nameTerms("Who proposed the Lion optimizer?")).toEqual(["lion"]);
    expect(nameTerms("Which element has the symbol O?")).toEqual(["o"]);
    expect(nameTerms("What BLEU score did it reach on WMT 2019?")).toEqual(["bleu", "wmt", "2019"]);
    expect(nameTerms("I need to make directories. What's the tool for that?")).toEqual([]);
    expect(contentTerms("Symbol: O")).toContain("o");
    expect(contentTerms("A metal. I think so.")).not.toContain("a");
  });

  it("does not end a sentence at an initial", () => {
    expect(splitSentences("Discovered by Martin H. Klaproth in 1789. Isolated later.")).toEqual([
      "Discovered by Martin H. Klaproth in 1789.",
      "Isolated later.",
    ]);
  });

  it("does not end a sentence at run-together initials", () => {
    expect(splitSentences("Discovered by A.F. Cronstedt in 1751. Named after a goblin.")).toEqual([
      "Discovered by A.F. Cronstedt in 1751.",
      "Named after a goblin.",
    ]);
  });

  it("reads what kind of value a question expects", () => {
    expect(expectedAnswer("How many layers does BERT-Large have?")).toBe("number");
    expect(expectedAnswer("If I pass no flag, how often does watch re-run its command?")).toBe("number");
    expect(expectedAnswer("In which Chrome version did the ease-in value arrive?")).toBe("number");
    expect(expectedAnswer("What share of input tokens does BERT mask?")).toBe("number");
    expect(expectedAnswer("What year was pstree first released?")).toBe("year");
    expect(questionShape("In which year was nickel discovered?").expects).toBe("year");
    expect(expectedAnswer("What is dropout?")).toBeUndefined();
    expect(expectedAnswer("Which element has the symbol Fe?")).toBeUndefined();
    expect(expectedAnswer("How do I list files?")).toBeUndefined();
    expect(statesExpected("It has 12 layers.", "number")).toBe(true);
    expect(statesExpected("It is run every two seconds.", "number")).toBe(true);
    expect(statesExpected("The signal is sent once per group.", "number")).toBe(false);
    expect(statesExpected("Interpret the pattern as in regex(3).", "number")).toBe(false);
    expect(statesExpected("PIDs are shown first.", "number")).toBe(false);
    expect(statesExpected("Known since antiquity.", "year")).toBe(true);
    expect(statesExpected("Discovered by A.F. Cronstedt in 1751.", "year")).toBe(true);
    expect(statesExpected("Version 12 of the tool.", "year")).toBe(false);
  });

  it("reads names with versions, names of several words and the words that say which value is asked", () => {
    expect(versionedNames("What learning rate did Stable Diffusion 3 use?")).toEqual([["diffusion", "3"]]);
    expect(versionedNames("How many heads does Llama 2 70B have?")).toEqual([["llama", "2"]]);
    expect(versionedNames("In Python 3.8, what changed?")).toEqual([["python", "3.8"]]);
    expect(versionedNames("Which element has atomic number 11?")).toEqual([]);
    expect(namePhrases("What does the SQL command SHOW TABLES do?")).toEqual([["show", "tables"]]);
    expect(namePhrases("What is the default isolation level in SQL Server?")).toEqual([["sql", "server"]]);
    expect(namePhrases("How big is EleutherAI's Pile data set?")).toEqual([]);
    expect(attributeModifiers("What vocabulary size does the Mistral 7B tokenizer use?")).toEqual(["vocabulary"]);
    expect(attributeModifiers("What dropout rate did GPT-4 use?")).toEqual(["dropout"]);
    expect(attributeModifiers("What size does the tokenizer use?")).toEqual([]);
    expect(attributeModifiers("Which single-letter option of cut is the same as --bytes?")).toEqual([]);
  });

  it("reads 10,000 as 10000", () => {
    expect(contentTerms("10,000 steps")).toEqual(contentTerms("10000 steps"));
  });

  it("spells Greek letters by name", () => {
    expect(contentTerms("GPT-3 lowered β2 for stability")).toContain("beta2");
    expect(contentTerms("the β-VAE objective")).toEqual(contentTerms("the beta-VAE objective"));
    expect(greekSpelling("beta2")).toBe("β2");
    expect(greekSpelling("alphabet")).toBe("alphabet");
  });

  it("reads a block of fields headed by a name as one record", () => {
    const units = answerUnits(
      "model: GPT-3\nyear: 2020\nparameters: 175B\n\nmodel: Chinchilla\nparameters: 70B\n\n" +
        "auto: supported since Chrome 1, Edge 12, Firefox 1\nnone: supported since Chrome 2, Edge 12, Firefox 3",
    );
    const field = (text: string) => units.find((u) => u.text === text);
    expect(field("parameters: 175B")).toMatchObject({ topic: "model: GPT-3", record: true });
    expect(field("parameters: 70B")).toMatchObject({ topic: "model: Chinchilla", record: true });
    expect(field("model: Chinchilla")?.topic).toBeUndefined();
    // A list of peers ("auto: supported since …") is no record: its first line names no thing.
    expect(field("none: supported since Chrome 2, Edge 12, Firefox 3")?.topic).toBeUndefined();
  });

  it("makes a short list item a unit", () => {
    const units = answerUnits("## Browser compatibility\n\n- Chrome 1\n- Edge 12\n");
    expect(units.map((u) => [u.kind, u.text])).toEqual([
      ["item", "Chrome 1"],
      ["item", "Edge 12"],
    ]);
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

  it("keeps a sentence that repeats under another term line: it states another fact there", async () => {
    const planner = pageOf(
      "planner.html",
      "Planner Method Configuration",
      "enable_bitmapscan (boolean)\n\nEnables bitmap scans. The default is on.\n\nenable_hashagg (boolean)\n\nEnables hashed aggregation. The default is off.\n\nenable_sort (boolean)\n\nEnables sorts. The default is on.",
    );
    const result = await answerer.answer({
      question: "What is the default value of enable_sort?",
      documents: [planner],
    });
    expect(result.answer).toMatch(/^enable_sort \(boolean\): The default is on\./);
    expect(planner.pageContent.slice(result.citations[0]!.startChar, result.citations[0]!.endChar)).toBe(
      "The default is on.",
    );
  });

  it("answers a definition question with the sentence that has its subject as subject", async () => {
    const page = pageOf(
      "base64.md",
      "base64(1)",
      "# base64\n\n## NAME\n\nbase64 - encode or decode data and print to standard output\n\n## DESCRIPTION\n\nWith no FILE, read standard input. Use base64 -d to decode data in a file.",
    );
    // Forty pages that call their command a utility, so the word is common and base64 rare.
    const pages = statistics([page.pageContent, ...Array.from({ length: 40 }, (_, i) => `The c${i} utility.`)]);
    for (const question of ["What is base64 used for?", "In a few words, what's the purpose of the base64 utility?"]) {
      const result = await answerer.answer({ question, documents: [page], corpus: pages });
      expect(result.citations[0]?.sentence, question).toBe(
        "base64 - encode or decode data and print to standard output",
      );
    }
    const missing = await answerer.answer({ question: "What does the base32 command do?", documents: [page] });
    expect(missing.answer).toBe(NO_ANSWER_TEXT);
  });

  it("answers a default asked for in other words with the sentence that states it", async () => {
    // The page's title says "Defaults", so every unit shares that word through it.
    const page = pageOf(
      "client.html",
      "19.11. Client Connection Defaults",
      "gin_pending_list_limit (integer)\n\nSets the maximum size of a GIN index's pending list. If this value is specified without units, it is taken as kilobytes. The default is four megabytes (4MB).\n\nrow_security (boolean)\n\nChange this to off where limited row visibility could cause incorrect results. The default is on.",
    );
    for (const [question, expected] of [
      ["What is gin_pending_list_limit set to by default?", "The default is four megabytes (4MB)."],
      ["If I never change gin_pending_list_limit, what value does it have?", "The default is four megabytes (4MB)."],
      ["If I never change row_security, what value does it have?", "The default is on."],
    ]) {
      const result = await answerer.answer({ question: question as string, documents: [page] });
      expect(result.citations[0]?.sentence, question).toBe(expected);
    }
  });

  it("prefers a field whose name the question uses", async () => {
    const page = pageOf(
      "flood-color.md",
      "flood-color (CSS property)",
      "# flood-color\n\nIt applies to feFlood elements in svg, it is not inherited, and its initial value is black.\n\n## Formal definition\n\n- Initial value: black\n- Applies to: feFlood elements in svg\n- Inherited: no\n",
    );
    const inherited = await answerer.answer({
      question: "Is the flood-color property inherited by child elements?",
      documents: [page],
    });
    expect(inherited.citations[0]?.sentence).toBe("Inherited: no");
    const initial = await answerer.answer({
      question: "What color does flood-color have if it isn't specified?",
      documents: [page],
    });
    expect(initial.answer).toContain("black");
  });

  it("answers what an option does from its own line", async () => {
    const page = pageOf(
      "sdiff.md",
      "sdiff(1)",
      "# sdiff\n\nsdiff - side-by-side merge of file differences\n\n## OPTIONS\n\n-l, --left-column: output only the left column of common lines\n-s, --suppress-common-lines: do not output common lines\n",
    );
    const result = await answerer.answer({
      question: "What is the effect of sdiff --suppress-common-lines?",
      documents: [page],
    });
    expect(result.citations[0]?.sentence).toBe("-s, --suppress-common-lines: do not output common lines");
  });

  it("answers with a single-letter name and declines when a rare name is missing", async () => {
    const oxygen = profile("Oxygen", "O", "15.9994", "Colourless odourless gaseous element.");
    const uranium = profile("Uranium", "U", "238.03", "Discovered by Martin H. Klaproth in 1789.");
    const withOxygen = statistics([oxygen.pageContent, uranium.pageContent, ...others]);
    const symbol = await answerer.answer({
      question: "Which element has the symbol O?",
      documents: [uranium, oxygen],
      corpus: withOxygen,
    });
    expect(symbol.answer.startsWith("Oxygen: Symbol: O")).toBe(true);
    const adam = pageOf(
      "optimizers.md",
      "Optimizers",
      "# Optimizers\n\nAdam was proposed by Kingma and Ba in 2014. The optimizer keeps running averages of the gradient.",
    );
    const stats = statistics([adam.pageContent, ...others]);
    expect(
      (await answerer.answer({ question: "Who proposed the Adam optimizer?", documents: [adam], corpus: stats }))
        .answer,
    ).toContain("Kingma and Ba");
    expect(
      (await answerer.answer({ question: "Who proposed the Lion optimizer?", documents: [adam], corpus: stats }))
        .answer,
    ).toBe(NO_ANSWER_TEXT);
    // A name in the kind of answer asked for ("Windows command") must be there, however close the rest.
    const cp = pageOf(
      "cp.md",
      "cp(1)",
      "# cp\n\ncp - copy files and directories\n\nThe cp command is equivalent to install without modes.",
    );
    const commands = statistics([cp.pageContent, ...others]);
    const ask = (question: string) => answerer.answer({ question, documents: [cp], corpus: commands });
    expect((await ask("Which command is equivalent to install?")).answer).not.toBe(NO_ANSWER_TEXT);
    expect((await ask("Which Windows command is equivalent to install?")).answer).toBe(NO_ANSWER_TEXT);
  });

  it("declines when no unit states the kind of value asked for, and prefers one that does", async () => {
    const pstree = pageOf(
      "pstree.1",
      "pstree(1)",
      "# pstree\n\npstree shows running processes as a tree. If both PIDs and PGIDs are displayed then PIDs are shown first.",
    );
    const stats = statistics([pstree.pageContent, ...others]);
    const ask = (question: string, documents = [pstree]) => answerer.answer({ question, documents, corpus: stats });
    expect((await ask("What year was pstree first released?")).answer).toBe(NO_ANSWER_TEXT);
    expect((await ask("How many PIDs does pstree show first?")).answer).toBe(NO_ANSWER_TEXT);
    const released = pageOf(
      "pstree.1",
      "pstree(1)",
      "# pstree\n\nIf both PIDs and PGIDs are displayed then PIDs are shown first. pstree was released in 1993 by Fred Hucht.",
    );
    expect((await ask("What year was pstree first released?", [released])).answer).toContain("1993");
  });

  it("quotes the value next to the unit that best matches a question asking for a number", async () => {
    const memcheck = pageOf(
      "mc-manual.html",
      "Memcheck options",
      "# Memcheck options\n\n--freelist-vol=<number> [default: 20000000]\n\n" +
        "When the client frees memory, the block is placed in a queue of freed blocks. " +
        "This option specifies the maximum total size, in bytes, of the blocks in the queue.",
    );
    const stats = statistics([memcheck.pageContent, ...others]);
    const result = await answerer.answer({
      question: "How big is the queue of freed blocks by default?",
      documents: [memcheck],
      corpus: stats,
    });
    expect(result.answer).toContain("20000000");
  });

  it("declines a name the corpus never uses, unless it is an acronym or a compound of known words", async () => {
    const hnsw = pageOf(
      "hnsw.md",
      "HNSW",
      "# HNSW\n\nThe default ef value of HNSW is 10 in most libraries. The KV cache and the CDF are unrelated.",
    );
    const stats = statistics([hnsw.pageContent, ...others]);
    const ask = (question: string) => answerer.answer({ question, documents: [hnsw], corpus: stats });
    expect((await ask("What is the default HNSW ef value?")).answer).toContain("is 10");
    expect((await ask("What is the default HNSW ef value in Pinecone?")).answer).toBe(NO_ANSWER_TEXT);
    expect((await ask("What is the default HNSW ef value in the CDF sense?")).answer).toContain("is 10");
  });

  it("declines a passage that has a name's words apart, another version of it, or another value of the subject", async () => {
    const alter = pageOf(
      "sql-altertable.html",
      "ALTER TABLE",
      "# ALTER TABLE\n\nThe RENAME forms of this SQL command change the name of a table or of a column in a table. " +
        "The SHOW command displays a setting. Stable Diffusion 1 used a learning rate of 1e-4. " +
        "The Mistral 7B tokenizer splits digits and uses a window of 4,096 tokens.",
    );
    const stats = statistics([alter.pageContent, "vocabulary of words", ...others]);
    const ask = (question: string) => answerer.answer({ question, documents: [alter], corpus: stats });
    expect((await ask("What do the RENAME forms of the command change?")).answer).toContain("RENAME forms");
    expect((await ask("What does the SQL command RENAME TABLE do?")).answer).toBe(NO_ANSWER_TEXT);
    expect((await ask("What learning rate did Stable Diffusion 1 use?")).answer).toContain("1e-4");
    expect((await ask("What learning rate did Stable Diffusion 3 use?")).answer).toBe(NO_ANSWER_TEXT);
    expect((await ask("What window size does the Mistral 7B tokenizer use?")).answer).toContain("4,096");
    expect((await ask("What vocabulary size does the Mistral 7B tokenizer use?")).answer).toBe(NO_ANSWER_TEXT);
  });

  it("answers a record's field for its record only", async () => {
    const table = pageOf(
      "models.csv",
      "models",
      "model: Megatron-Turing NLG\nyear: 2021\nparameters: 530B\n\nmodel: Whisper large\nyear: 2022\nparameters: 1.55B",
    );
    const stats = statistics([table.pageContent, ...others]);
    const ask = (question: string) => answerer.answer({ question, documents: [table], corpus: stats });
    expect((await ask("How many parameters does Megatron-Turing NLG have?")).citations[0]?.sentence).toBe(
      "parameters: 530B",
    );
    // "year: 2022" is Whisper's and states a number, but it says nothing of layers.
    expect((await ask("How many layers does the large variant of Whisper have?")).answer).toBe(NO_ANSWER_TEXT);
  });

  it("answers from a lower-ranked passage that covers the question rather than decline", async () => {
    const result = await answerer.answer({
      question: "What is the atomic weight of copper?",
      documents: [iron, copper],
      corpus,
    });
    expect(result.citations[0]?.sentence).toBe("Atomic weight: 63.546");
    expect(result.sources[0]?.source).toBe("copper.md");
  });
});

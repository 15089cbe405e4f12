import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import {
  type CorpusStatistics,
  ExtractiveAnswerer,
  NO_ANSWER_TEXT,
  questionShape,
} from "../../src/llms/ExtractiveAnswerer.js";
import { answerUnits, startsInFence, textToSentences } from "../../src/llms/textUnits.js";

/** A manual's option list as the HTML loader writes a `<dl>`: each term line over its paragraphs. */
const options = [
  "### 3.2. Output options",
  "",
  "--log-target=<file> [default: stderr]",
  "",
  "Sends every message the tool prints to <file> instead of the terminal.",
  "",
  "--report-leaks=<yes|no|full> [default: yes]",
  "",
  "When set to full, the tool prints a report for every leaked block, without asking.",
  "",
  "--padding=<number> [default: 8 or 16, depending on the machine]",
  "",
  "Blocks get this many bytes of padding on each side.",
].join("\n");

const manual = new Document({
  pageContent: options,
  metadata: { source: "frob-manual.html", title: "3. Running frob", headings: ["3. Running frob"], startChar: 0 },
});

function statistics(texts: string[]): CorpusStatistics {
  const lower = texts.map((t) => t.toLowerCase());
  return {
    documentCount: texts.length,
    documentFrequency: (word) => lower.filter((t) => t.includes(word.toLowerCase())).length,
  };
}

describe("term lines of option lists", () => {
  it("keeps an option's alternatives and placeholders on its term line, not as table cells or a field", () => {
    const units = answerUnits(options);
    expect(units.some((u) => u.kind === "row" || u.kind === "field")).toBe(false);
    expect(units.find((u) => u.text.startsWith("When set to full"))?.topic).toBe(
      "--report-leaks=<yes|no|full> [default: yes]",
    );
    expect(units.find((u) => u.text.startsWith("Blocks get"))?.topic).toBe(
      "--padding=<number> [default: 8 or 16, depending on the machine]",
    );
  });

  it("still reads pipe-separated rows as table cells, a bracketed choice inside one cell", () => {
    const units = answerUnits(
      "Flag: --mode | Meaning: [fast|safe] picks the engine\nFlag: --quiet | Meaning: no output",
    );
    expect(units.map((u) => u.kind)).toEqual(["row", "row"]);
    expect(units[0]?.text).toBe("Flag: --mode | Meaning: [fast|safe] picks the engine");
  });

  it("strips HTML tags from quotes but keeps text written in angle brackets", () => {
    expect(textToSentences("Press <kbd>Tab</kbd> to complete <file> names.<br>")).toEqual([
      "Press Tab to complete <file> names.",
    ]);
  });

  it("answers 'Which option …?' with the option's term line first", async () => {
    const llm = new ExtractiveAnswerer();
    const r = await llm.invoke({
      question: "Which option makes frob print a report for every leaked block?",
      documents: [manual],
    });
    expect(r.answer.startsWith("--report-leaks=<yes|no|full> [default: yes]: When set to full")).toBe(true);
  });
});

describe("coverage by word forms", () => {
  // Twenty short pages, so the question's words are rare and weigh what rare words weigh.
  const filler = Array.from({ length: 20 }, (_, i) => `Page ${i} lists the keyboard shortcuts of screen ${i}.`);
  const passage = new Document({
    pageContent:
      "Concatenating many pieces one by one copies the text each time. Collect the pieces in a list and call join once.",
    metadata: { source: "strings.md", title: "Text pieces", startChar: 0 },
  });
  const corpus = statistics([passage.pageContent, ...filler]);

  it("counts a question word the passage writes in another form ('concatenate' / 'concatenating')", async () => {
    const llm = new ExtractiveAnswerer();
    const r = await llm.invoke({
      question: "How should I concatenate lots of pieces?",
      documents: [passage],
      corpus,
    });
    expect(r.answer).not.toBe(NO_ANSWER_TEXT);
    expect(r.answer).toContain("join once");
  });
});

describe("passages cut out of a code block", () => {
  const graph = [
    "    |                  #",
    "    |                 :#",
    "    |                @:#",
    "  0 +------------------->ms",
    "```",
    "",
    "Most of the graph is empty. By default, the profiler counts time in milliseconds of wall-clock time.",
    "",
    "```",
    "frob --unit=ms ./prog",
    "```",
  ];

  it("reads the prose after a block whose opening fence is in the previous chunk", () => {
    expect(startsInFence(graph)).toBe(true);
    const units = answerUnits(graph.join("\n")).map((u) => u.text);
    expect(units).toContain("By default, the profiler counts time in milliseconds of wall-clock time.");
    expect(units.some((u) => u.includes("#") || u.includes("frob --unit"))).toBe(false);
  });

  it("reads a passage that opens a block normally, also when its end is cut inside one", () => {
    const lines = [
      "Run the profiler like this:",
      "",
      "```",
      "frob ./prog",
      "```",
      "",
      "Then read the report.",
      "```",
      "frob",
    ];
    expect(startsInFence(lines)).toBe(false);
    // The sentence ending in a colon carries the one code line it introduces (see introduceCode).
    expect(answerUnits(lines.join("\n")).map((u) => u.text)).toEqual([
      "Run the profiler like this: frob ./prog",
      "Then read the report.",
    ]);
  });
});

describe("units that name the option asked about", () => {
  const page = (source: string, title: string, text: string) =>
    new Document({ pageContent: text, metadata: { source, title, headings: [title], startChar: 0 } });
  const docs = [
    page(
      "pack.md",
      "pack(1): bundle files",
      "## Options\n\n- `-q, --quiet`: Print nothing.\n\n- `--batch-size`: Process this many files per run before flushing. The default is one hundred, which suits most disks; raise it on fast storage and lower it when memory is short.\n\n- `-v, --verbose`: Print every file.",
    ),
    page(
      "unpack.md",
      "unpack(1): a tool to unbundle files",
      "## Environment\n\nThe currently accepted flags are listed in the tool's debug option, but not all these flags have an effect.",
    ),
  ];
  // "tools" is common, "accepts" and "flags" less so: the distractor shares three question words, the option line one.
  const corpus = statistics([
    ...docs.map((d) => d.pageContent),
    ...Array.from(
      { length: 30 },
      (_, i) => `Page ${i}: one of the tools that ${i < 10 ? "accepts flags" : "prints files"}.`,
    ),
  ]);

  it("quotes the option's own line, not a sentence that shares the question's other words", async () => {
    const r = await new ExtractiveAnswerer().invoke({
      question: "Which of these tools accepts the --batch-size flag?",
      documents: docs,
      corpus,
    });
    expect(r.citations[0]?.sentence).toBe("--batch-size: Process this many files per run before flushing.");
  });
});

describe("several quoted options", () => {
  it("leads every quoted sentence with its own term line", async () => {
    const logging = new Document({
      pageContent: [
        "### Logging options",
        "",
        "--log-fd=<number> [default: 2, stderr]",
        "",
        "Sends all of frob's messages to the given file descriptor.",
        "",
        "--log-file=<filename>",
        "",
        "Sends all of frob's messages to the given file.",
      ].join("\n"),
      metadata: { source: "frob-logging.html", title: "4. Logging", startChar: 0 },
    });
    const r = await new ExtractiveAnswerer().invoke({
      question: "Which option sends frob's messages to a file?",
      documents: [logging],
    });
    expect(r.citations).toHaveLength(2);
    expect(r.answer).toContain("--log-file=<filename>: Sends all of frob's messages to the given file. [1]");
    expect(r.answer).toContain("--log-fd=<number> [default: 2, stderr]: Sends all of frob's messages");
  });
});

describe("name lines", () => {
  it("answers 'what is X for?' with X's one-line definition ('X — …') before sentences that merely start with X", async () => {
    const page = new Document({
      pageContent: [
        "## FROB CAST",
        "",
        "FROB CAST — define a new cast between two frob types",
        "",
        "## Compatibility",
        "",
        "The FROB CAST command follows the frob standard, except for casts between binary-coercible types and the extra arguments of the cast functions.",
      ].join("\n"),
      metadata: { source: "frob-cast.html", title: "FROB CAST", startChar: 0 },
    });
    // "command" is a common word of the corpus, "frob" and "cast" are not.
    const corpus = statistics([
      page.pageContent,
      ...Array.from({ length: 30 }, (_, i) => `The command number ${i} prints a report.`),
    ]);
    const r = await new ExtractiveAnswerer().invoke({
      question: "What does the command FROB CAST do?",
      documents: [page],
      corpus,
    });
    expect(r.citations[0]?.sentence).toBe("FROB CAST — define a new cast between two frob types");
  });
});

describe("questions that name a long option", () => {
  const page = (source: string, title: string, text: string) =>
    new Document({ pageContent: text, metadata: { source, title, headings: [title], startChar: 0 } });
  const docs = [
    page(
      "count.md",
      "count(1): print a sequence of numbers",
      "## OPTIONS\n\n- `-w, --equal-width`: equalize width by padding with leading zeroes\n\n- `-s, --separator=STRING`: use STRING to separate numbers",
    ),
    page(
      "pkg-query.md",
      "pkg-query(1): a tool to query the package database",
      "## ENVIRONMENT\n\nThe currently accepted flags are described in the pkg --debug option, but not all these flags might have an effect on this program.",
    ),
  ];
  const corpus = statistics([
    ...docs.map((d) => d.pageContent),
    ...Array.from(
      { length: 30 },
      (_, i) => `Page ${i}: one of the tools that ${i < 3 ? "accepts flags" : "prints files"}.`,
    ),
  ]);

  it("reads 'Which of these tools …?' as asking for one of them", () => {
    expect(questionShape("Which of these tools accepts the --equal-width flag?").type).toBe("which");
  });

  it("answers with the option's own line and its page's title, however little else of the question it shares", async () => {
    const r = await new ExtractiveAnswerer().invoke({
      question: "Which of these tools accepts the --equal-width flag?",
      documents: docs,
      corpus,
    });
    expect(r.answer.startsWith("count(1): print a sequence of numbers: -w, --equal-width: equalize width")).toBe(true);
    expect(r.sources[0]?.source).toBe("count.md");
  });
});

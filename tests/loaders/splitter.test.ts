import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import { loadMarkdown } from "../../loaders/loadMarkdown.js";
import { estimateTokens, splitDocuments, splitText } from "../../loaders/splitter.js";
import { isGeneraError } from "../../src/errors.js";
import { MARKDOWN } from "./fixtures.js";

const md = (text: string, extra: Record<string, unknown> = {}) =>
  new Document({ pageContent: text, metadata: { source: "doc.md", title: "Doc", format: "markdown", ...extra } });

/** Offsets are exact, sizes hold, and no non-space character is dropped. */
function checkInvariants(text: string, chunks: Document[], size: number, measure = (s: string) => s.length) {
  const covered = new Uint8Array(text.length);
  for (const c of chunks) {
    const { startChar, endChar } = c.metadata as { startChar: number; endChar: number };
    expect(text.slice(startChar, endChar)).toBe(c.pageContent);
    expect(measure(c.pageContent)).toBeLessThanOrEqual(size);
    covered.fill(1, startChar, endChar);
  }
  for (let i = 0; i < text.length; i++) {
    if (!/\s/.test(text[i] as string) && !covered[i]) throw new Error(`character ${i} (${text[i]}) is in no chunk`);
  }
}

/** Deterministic pseudo-random numbers, so a failing case can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("splitDocuments", () => {
  it("gives every chunk its heading path, and lines that match the file", async () => {
    const [doc] = loadMarkdown(Buffer.from(MARKDOWN), {
      absPath: "/x/attention.md",
      relPath: "attention.md",
      root: "/x",
    });
    const chunks = await splitDocuments([doc as Document], { chunkSize: 120, chunkOverlap: 0 });
    const find = (needle: string) => chunks.find((c) => c.pageContent.includes(needle)) as Document;
    expect(find("every position").metadata.headings).toEqual(["Attention"]);
    expect(find("square root").metadata.headings).toEqual(["Attention", "Scaled dot-product"]);
    expect(find("minus infinity").metadata.headings).toEqual(["Attention", "Scaled dot-product", "Masking"]);
    expect(find("AdamW").metadata.headings).toEqual(["Training"]);
    // A `# comment` inside a fenced block is code, not a heading.
    expect(chunks.some((c) => (c.metadata.headings as string[]).includes("not a heading: a shell comment"))).toBe(
      false,
    );
    const fileLines = MARKDOWN.split("\n");
    for (const c of chunks) {
      const firstLine = c.pageContent.split("\n")[0] as string;
      expect(fileLines[(c.metadata.line as number) - 1]).toContain(firstLine);
      expect(c.metadata).toMatchObject({
        source: "attention.md",
        title: "Attention Notes",
        tags: ["ml", "transformers"],
      });
    }
    expect(chunks.map((c) => c.metadata.chunkIndex)).toEqual(chunks.map((_, i) => i));
    checkInvariants(doc?.pageContent as string, chunks, 120);
  });

  it("never splits a section across headings and never leaves a heading alone", async () => {
    const text = "# A\n\n## B\n\nShort body of B.\n\n## C\n\nBody of C.";
    const chunks = await splitDocuments([md(text)], { chunkSize: 500, chunkOverlap: 0 });
    expect(chunks.map((c) => c.pageContent)).toEqual(["# A\n\n## B\n\nShort body of B.", "## C\n\nBody of C."]);
    expect(chunks.map((c) => c.metadata.headings)).toEqual([
      ["A", "B"],
      ["A", "C"],
    ]);
  });

  it("recognises setext headings but not rules or list items", () => {
    const text = "Project\n=======\n\nIntro.\n\nUsage\n-----\n\nRun it.\n\n- item\n---\n\nAfter a rule.";
    const chunks = splitText(text, { chunkSize: 30, chunkOverlap: 0, markdown: true });
    expect(chunks.map((c) => [c.text, c.headings])).toEqual([
      ["Project\n=======\n\nIntro.", ["Project"]],
      ["Usage\n-----\n\nRun it.", ["Project", "Usage"]],
      ["- item\n---\n\nAfter a rule.", ["Project", "Usage"]],
    ]);
  });

  it("plain text with underlined headings is split by its sections, each chunk under its heading path", async () => {
    const answer = "Use the reversed() built-in function. It does not touch the original sequence. ".repeat(3);
    const text = [
      "Programming FAQ",
      "===============",
      "",
      "How do I iterate over a sequence in reverse order?",
      "--------------------------------------------------",
      "",
      answer,
      "",
      "How do you remove duplicates from a list?",
      "-----------------------------------------",
      "",
      "Sort it, then delete the repeats.",
    ].join("\n");
    const doc = new Document({ pageContent: text, metadata: { source: "faq.txt", format: "text", line: 1 } });
    const chunks = await splitDocuments([doc], { chunkSize: 200, chunkOverlap: 20 });
    // Every chunk of a long answer carries its question; no chunk holds two questions' answers.
    for (const c of chunks.filter((c) => c.pageContent.includes("reversed"))) {
      expect(c.metadata.headings).toEqual(["Programming FAQ", "How do I iterate over a sequence in reverse order?"]);
    }
    expect(chunks.filter((c) => c.pageContent.includes("reversed")).length).toBeGreaterThan(1);
    expect(chunks.some((c) => c.pageContent.includes("reversed") && c.pageContent.includes("Sort it"))).toBe(false);
    expect(chunks.at(-1)?.metadata).toMatchObject({
      headings: ["Programming FAQ", "How do you remove duplicates from a list?"],
      line: 9,
    });
    // Text without such headings keeps no heading path, as before.
    const [plain] = await splitDocuments([new Document({ pageContent: "Just prose.", metadata: { format: "text" } })]);
    expect(plain?.metadata.headings).toBeUndefined();
  });

  it("keeps fenced code blocks whole unless one alone is too big", async () => {
    const code = `\`\`\`ts\n${Array.from({ length: 8 }, (_, i) => `const value${i} = compute(${i}); // step ${i}.`).join("\n")}\n\`\`\``;
    const prose = Array.from(
      { length: 6 },
      (_, i) => `Paragraph ${i} explains one more detail of the design. It has two sentences.`,
    );
    const text = `# Guide\n\n${prose.slice(0, 3).join("\n\n")}\n\n${code}\n\n${prose.slice(3).join("\n\n")}`;
    expect(code.length).toBeLessThan(400);
    const chunks = await splitDocuments([md(text)], { chunkSize: 400, chunkOverlap: 60 });
    expect(chunks.some((c) => c.pageContent.includes(code))).toBe(true);
    for (const c of chunks) expect((c.pageContent.match(/```/g) ?? []).length % 2).toBe(0);
    checkInvariants(text, chunks, 400);

    const huge = `\`\`\`\n${Array.from({ length: 60 }, (_, i) => `line ${i} of a very long listing`).join("\n")}\n\`\`\``;
    const big = await splitDocuments([md(`# Big\n\n${huge}`)], { chunkSize: 300, chunkOverlap: 0 });
    expect(big.length).toBeGreaterThan(3);
    // Cut at line ends only, with no sentence-level cuts inside code.
    for (const c of big)
      expect(c.pageContent.split("\n").every((l) => /^(```|line \d+ of a very long listing|# Big|)$/.test(l))).toBe(
        true,
      );
    checkInvariants(`# Big\n\n${huge}`, big, 300);
  });

  it("overlaps neighbouring chunks by at most chunkOverlap", async () => {
    const sentences = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} describes item ${i * 3}.`);
    const text = sentences.join(" ");
    const doc = new Document({ pageContent: text, metadata: { source: "prose.txt", format: "text", line: 1 } });
    const chunks = await splitDocuments([doc], { chunkSize: 200, chunkOverlap: 50 });
    expect(chunks.length).toBeGreaterThan(5);
    for (let i = 1; i < chunks.length; i++) {
      const prevEnd = chunks[i - 1]?.metadata.endChar as number;
      const start = chunks[i]?.metadata.startChar as number;
      expect(start).toBeLessThan(prevEnd);
      expect(prevEnd - start).toBeLessThanOrEqual(50);
      // Overlap starts at a sentence start here: whole sentences fit in 50 chars.
      expect(chunks[i]?.pageContent).toMatch(/^Sentence number \d+/);
    }
    checkInvariants(text, chunks, 200);
    const none = await splitDocuments([doc], { chunkSize: 200, chunkOverlap: 0 });
    for (let i = 1; i < none.length; i++) {
      expect(none[i]?.metadata.startChar as number).toBeGreaterThanOrEqual(none[i - 1]?.metadata.endChar as number);
    }
  });

  it("takes overlap from inside a long paragraph when whole paragraphs are too big", () => {
    const para = (n: number) =>
      `Paragraph ${n} starts here and then keeps on going with words for a while until it ends.`;
    const text = [para(1), para(2), para(3), para(4)].join("\n\n");
    const chunks = splitText(text, { chunkSize: 200, chunkOverlap: 40 });
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks[1]?.start).toBeLessThan(chunks[0]?.end as number);
    expect((chunks[0]?.end as number) - (chunks[1]?.start as number)).toBeLessThanOrEqual(40);
  });

  it("splits code at declarations using the language's separators", async () => {
    const fn = (name: string) =>
      `export function ${name}(x: number): number {\n  const y = x * 2;\n  return y + 1;\n}\n`;
    const text = ["import { a } from './a.js';\n", fn("alpha"), fn("beta"), fn("gamma"), fn("delta")].join("\n");
    const doc = new Document({
      pageContent: text,
      metadata: { source: "m.ts", format: "code", language: "js", line: 1 },
    });
    const chunks = await splitDocuments([doc], { chunkSize: 160, chunkOverlap: 0 });
    for (const c of chunks.slice(1)) expect(c.pageContent.startsWith("export function")).toBe(true);
    expect(chunks.find((c) => c.pageContent.includes("gamma"))?.metadata.line).toBe(
      text.split("\n").indexOf("export function gamma(x: number): number {") + 1,
    );
    expect(chunks[0]?.metadata.headings).toBeUndefined();
    checkInvariants(text, chunks, 160);
  });

  it("keeps page and row lines from the parent document", async () => {
    const page = new Document({
      pageContent: "Page text. ".repeat(50),
      metadata: { source: "r.pdf", format: "pdf", page: 3 },
    });
    const row = new Document({
      pageContent: "name: Ada\nrole: engineer",
      metadata: { source: "p.csv", format: "csv", row: 4, line: 6 },
    });
    const chunks = await splitDocuments([page, row], { chunkSize: 100, chunkOverlap: 10 });
    const pageChunks = chunks.filter((c) => c.metadata.source === "r.pdf");
    expect(pageChunks.length).toBeGreaterThan(3);
    expect(pageChunks.every((c) => c.metadata.page === 3 && c.metadata.line === undefined)).toBe(true);
    expect(chunks.at(-1)?.metadata).toMatchObject({
      row: 4,
      line: 6,
      chunkIndex: 0,
      startChar: 0,
      endChar: row.pageContent.length,
    });
  });

  it("counts tokens with the estimate or a given counter", async () => {
    expect(estimateTokens("")).toBe(0);
    expect(estimateTokens("the cat sat")).toBe(3);
    expect(estimateTokens("internationalization, ok?")).toBe(4 + 1 + 1 + 1);
    expect(estimateTokens("東京タワー")).toBe(5);
    const text = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ");
    const doc = new Document({ pageContent: text, metadata: { source: "t.txt", format: "text" } });
    const chunks = await splitDocuments([doc], { chunkSize: 50, chunkOverlap: 5, unit: "tokens" });
    checkInvariants(text, chunks, 50, estimateTokens);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    const byWords = (s: string) => s.split(/\s+/).filter(Boolean).length;
    const counted = await splitDocuments([doc], {
      chunkSize: 20,
      chunkOverlap: 0,
      unit: "tokens",
      tokenCounter: byWords,
    });
    expect(counted).toHaveLength(10);
    expect(counted.every((c) => byWords(c.pageContent) === 20)).toBe(true);
  });

  it("hard-cuts text without any separator, with overlap", () => {
    const text = "x".repeat(1000);
    const chunks = splitText(text, { chunkSize: 300, chunkOverlap: 50 });
    expect(chunks.map((c) => [c.start, c.end])).toEqual([
      [0, 300],
      [250, 550],
      [500, 800],
      [750, 1000],
    ]);
  });

  it("holds its invariants on random Markdown", async () => {
    const rand = rng(42);
    const word = () => ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"][Math.floor(rand() * 8)];
    for (let round = 0; round < 30; round++) {
      const blocks: string[] = [];
      const n = 5 + Math.floor(rand() * 25);
      for (let b = 0; b < n; b++) {
        const r = rand();
        if (r < 0.2) blocks.push(`${"#".repeat(1 + Math.floor(rand() * 4))} ${word()} ${word()}`);
        else if (r < 0.3)
          blocks.push(
            `\`\`\`\n${Array.from({ length: 1 + Math.floor(rand() * 30) }, () => `${word()}(${word()});`).join("\n")}\n\`\`\``,
          );
        else if (r < 0.4)
          blocks.push(Array.from({ length: 1 + Math.floor(rand() * 5) }, () => `- ${word()} ${word()}`).join("\n"));
        else
          blocks.push(
            Array.from(
              { length: 1 + Math.floor(rand() * 12) },
              () => `${word()} ${word()} ${word()}${rand() < 0.3 ? "." : ""}`,
            ).join(" "),
          );
      }
      const text = blocks.join("\n\n");
      const size = 60 + Math.floor(rand() * 400);
      const overlap = Math.floor(rand() * (size / 3));
      const chunks = await splitDocuments([md(text)], { chunkSize: size, chunkOverlap: overlap });
      checkInvariants(text, chunks, size);
    }
  });

  it("rejects bad sizes with INVALID_INPUT", async () => {
    expect(splitText("a b c d e f g h", { chunkSize: 5 }).length).toBeGreaterThan(1);
    const bad = [{ chunkSize: 0 }, { chunkSize: 100, chunkOverlap: 100 }, { chunkSize: 10.5 }, { unit: "words" }];
    for (const opts of bad as Array<Parameters<typeof splitDocuments>[1]>) {
      await expect(splitDocuments([md("text")], opts)).rejects.toSatisfy(
        (e: unknown) => isGeneraError(e) && e.code === "INVALID_INPUT",
      );
    }
  });
});

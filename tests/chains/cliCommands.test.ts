import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { runAsk } from "../../src/cli/commands/ask.js";
import { runChat } from "../../src/cli/commands/chat.js";
import { runEval } from "../../src/cli/commands/eval.js";
import { EXIT_NO_GENERATOR } from "../../src/cli/commands/llmOptions.js";
import { register as registerSummarize, runSummarize } from "../../src/cli/commands/summarize.js";
import { register as registerTranslate, runTranslate } from "../../src/cli/commands/translate.js";
import { ExtractiveAnswerer } from "../../src/llms/ExtractiveAnswerer.js";
import { corpusRetriever } from "./corpus.js";
import { FakeEmbeddings } from "./fakeEmbeddings.js";

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

const extractive = () => new ExtractiveAnswerer({ embeddings: new FakeEmbeddings() });

describe("genera ask", () => {
  it("prints the answer, then the cited sources", async () => {
    const out = new Capture();
    const result = await runAsk("When was the Aurora Lab founded?", {
      retriever: corpusRetriever(),
      llm: extractive(),
      out,
    });
    expect(out.text).toContain("1987");
    expect(out.text).toMatch(/\nSources:\n\[1\] aurora-lab\.md \(Aurora Lab\)\n/);
    expect(result.sources[0]?.source).toBe("aurora-lab.md");
  });

  it("--json prints exactly one JSON object", async () => {
    const out = new Capture();
    await runAsk("How long is the Velora River?", { retriever: corpusRetriever(), llm: extractive(), json: true, out });
    const lines = out.text.trim().split("\n");
    expect(lines).toHaveLength(1);
    const parsed = JSON.parse(lines[0] as string);
    expect(parsed.answer).toContain("820 kilometres");
    expect(parsed.sources[0]).toMatchObject({ index: 1, source: "velora-river.md" });
    expect(typeof parsed.sources[0].score).toBe("number");
    expect(parsed.sources[0].text).toContain("Velora");
  });

  it("with a generator, lists only the cited passages", async () => {
    const out = new Capture();
    const llm = new FakeListChatModel({ responses: ["Its budget is 12 million kroner [2]."] });
    const result = await runAsk("What is the budget of the Aurora Lab?", { retriever: corpusRetriever(3), llm, out });
    expect(result.sources.map((s) => s.index)).toEqual([2]);
    expect(out.text).toMatch(
      /Its budget is 12 million kroner \[2\]\.\n\nSources:\n\[2\] aurora-lab\.md \(Aurora Lab.*\)\n$/,
    );
  });
});

describe("genera chat", () => {
  it("keeps history, shows sources, resets and exits", async () => {
    const input = new PassThrough();
    const out = new Capture();
    const done = runChat({ retriever: corpusRetriever(), llm: extractive(), input, output: out });
    input.write("Tell me about the Aurora Lab\n");
    input.write("When was it founded?\n");
    input.write("/sources\n");
    input.write("/reset\n");
    input.write("/sources\n");
    input.write("/exit\n");
    input.write("ignored after exit\n");
    expect(await done).toBe(2);
    expect(out.text).toContain("1987");
    expect(out.text).toMatch(/Sources:\n\[1\] aurora-lab\.md/);
    expect(out.text).toContain("(conversation cleared)");
    expect(out.text).toContain("(no sources yet)");
  });
});

describe("genera summarize / translate", () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it("summarises a file with a generator", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-cli-"));
    const file = join(dir, "a.md");
    writeFileSync(file, "# Notes\n\nThe pump runs at night. It stops at dawn.");
    const out = new Capture();
    const summary = await runSummarize(file, {
      llm: new FakeListChatModel({ responses: ["Pump runs nightly."] }),
      out,
    });
    expect(summary).toBe("Pump runs nightly.");
    expect(out.text).toBe("Pump runs nightly.\n");
  });

  it("translates text or a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-cli-"));
    const file = join(dir, "t.txt");
    writeFileSync(file, "Good morning");
    const out = new Capture();
    const llm = new FakeListChatModel({ responses: ["Guten Morgen"] });
    expect(await runTranslate(file, { llm, to: "German", out })).toBe("Guten Morgen");
    expect(
      await runTranslate("Good night", { llm: new FakeListChatModel({ responses: ["Gute Nacht"] }), to: "de" }),
    ).toBe("Gute Nacht");
  });

  it("without a generator: a clear message and exit code 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-cli-"));
    const file = join(dir, "a.md");
    writeFileSync(file, "Some text.");
    const saved = process.env.GENERA_LLM_PROVIDER;
    process.env.GENERA_LLM_PROVIDER = "extractive";
    const errors: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      errors.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      for (const argv of [
        ["summarize", file],
        ["translate", "--to", "de", "hello"],
      ]) {
        process.exitCode = undefined;
        const program = new Command("genera").option("-c, --config <file>").exitOverride();
        registerSummarize(program);
        registerTranslate(program);
        await program.parseAsync(argv, { from: "user" });
        expect(process.exitCode).toBe(EXIT_NO_GENERATOR);
      }
    } finally {
      process.stderr.write = write;
      if (saved === undefined) delete process.env.GENERA_LLM_PROVIDER;
      else process.env.GENERA_LLM_PROVIDER = saved;
    }
    expect(errors.join("")).toMatch(/Summarising needs a generative model.*\[NO_GENERATOR\]/);
    expect(errors.join("")).toMatch(/Translating needs a generative model/);
  });
});

describe("genera eval", () => {
  function qaFile(lines: string[]): string {
    const dir = mkdtempSync(join(tmpdir(), "genera-eval-"));
    const file = join(dir, "qa.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    return file;
  }

  it("scores retrieval and answers; --json prints one object", async () => {
    const file = qaFile([
      JSON.stringify({ question: "When was the Aurora Lab founded?", answer: "1987", sources: ["aurora-lab.md"] }),
      JSON.stringify({
        question: "How long is the Velora River?",
        answer: "820 kilometres",
        sources: ["velora-river.md"],
      }),
      "",
      JSON.stringify({ question: "Which Node version is required?", sources: ["install.md"] }),
    ]);
    const out = new Capture();
    const report = await runEval(file, { retriever: corpusRetriever(3), llm: extractive(), k: 3, json: true, out });
    expect(out.text.trim().split("\n")).toHaveLength(1);
    const parsed = JSON.parse(out.text);
    expect(parsed.retrieval.questions).toBe(3);
    expect(parsed.retrieval.recall["3"]).toBe(1);
    expect(parsed.retrieval.mrr).toBe(1);
    expect(report.answers?.withAnswer).toBe(2);
    expect(report.answers?.containsAnswer).toBe(1);
    expect(report.answers?.f1).toBeGreaterThan(0);
    expect(report.details[0]?.answer).toContain("1987");

    const table = new Capture();
    await runEval(file, { retriever: corpusRetriever(3), k: 3, out: table });
    expect(table.text).toMatch(/\| recall@3 +\| 1\.000 \|/);
    expect(table.text).toMatch(/\| MRR +\| 1\.000 \|/);
    expect(table.text).toMatch(/\| nDCG@3 +\| 1\.000 \|/);
  });

  it("names the bad line of a QA file", async () => {
    const file = qaFile([JSON.stringify({ question: "ok?" }), "{not json"]);
    await expect(runEval(file, { retriever: corpusRetriever(3), k: 3, out: new Capture() })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      message: expect.stringContaining("qa.jsonl:2"),
    });
  });
});

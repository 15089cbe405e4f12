import { describe, expect, it } from "vitest";
import { htmlToText } from "../../loaders/htmlToText.js";
import { splitText } from "../../loaders/splitter.js";

const page = (body: string) => htmlToText(`<html><head><title>T</title></head><body>${body}</body></html>`).text;

describe("htmlToText: structure that keeps a chunk readable on its own", () => {
  it("a DocBook Q&A set: each question is a heading under its section, its answer stays paragraphs, the question index is dropped", () => {
    const text = page(`
      <h1>Project FAQ</h1>
      <div class="qandaset"><dl>
        <dt>1. <a href="faq.html#basics">Basics</a></dt>
        <dd>1.1. <a href="faq.html#name">Where does the name come from?</a></dd>
        <dd>1.2. <a href="faq.html#say">How do you say it?</a></dd>
      </dl>
      <table summary="Q and A Div">
        <tr class="qandadiv"><td colspan="2"><h3 class="title">1. Basics</h3></td></tr>
        <tr class="toc"><td colspan="2">1.1. <a href="faq.html#name">Where does the name come from?</a><br></td></tr>
        <tr class="question"><td><b>1.1.</b></td><td><b>Where does the name come from?</b></td></tr>
        <tr class="answer"><td></td><td><p>From Nordic mythology.</p><p>It is not short for anything.</p></td></tr>
        <tr class="question"><td><b>1.2.</b></td><td><b>How do you say it?</b></td></tr>
        <tr class="answer"><td></td><td><p>Like the word "value".</p></td></tr>
      </table></div>`);
    expect(text).toBe(
      [
        "# Project FAQ",
        "### 1. Basics",
        "#### 1.1. Where does the name come from?",
        "From Nordic mythology.",
        "It is not short for anything.",
        "#### 1.2. How do you say it?",
        'Like the word "value".',
      ].join("\n\n"),
    );
    const chunks = splitText(text, { chunkSize: 60, chunkOverlap: 0, markdown: true });
    const answer = chunks.find((c) => c.text.includes("not short"));
    expect(answer?.headings).toEqual(["Project FAQ", "1. Basics", "1.1. Where does the name come from?"]);
  });

  it("an FAQ written as a definition list: a question term over an answer of paragraphs is its heading", () => {
    const text = page(`<h2>Installing</h2><dl>
      <dt>How do I install it?</dt><dd><p>Run the installer.</p><p>Then restart.</p></dd>
      <dt>Is it free?</dt><dd><p>Yes.</p></dd>
      <dt>Licence</dt><dd>MIT</dd></dl>`);
    expect(text).toBe(
      "## Installing\n\n### How do I install it?\n\nRun the installer.\n\nThen restart.\n\n### Is it free?\n\nYes.\n\nLicence: MIT",
    );
  });

  it("drops a page's table of contents and headings' permalink marks", () => {
    const text = page(`
      <div class="toc"><p><b>Table of Contents</b></p><dl><dt><a href="#a">1. Setup</a></dt></dl></div>
      <h2>1. Setup<a class="headerlink" href="#a" title="Permalink">¶</a></h2>
      <p>Install it. See <a href="#b">the next step</a> and <a href="other.html#c">the reference</a>.</p>`);
    expect(text).toBe("## 1. Setup\n\nInstall it. See the next step and the reference.");
  });

  it("a list item that opens with a paragraph keeps its bullet", () => {
    expect(page("<ul><li><p>Wing IDE</p></li><li><p>PyCharm</p></li></ul>")).toBe("- Wing IDE\n\n- PyCharm");
    expect(page("<ul><li>One</li><li>Two <b>bold</b></li></ul>")).toBe("- One\n- Two bold");
  });

  it("data rows name their fields: under a header row, and a <th> naming the row's field", () => {
    const types = page(`<table><thead><tr><th>Name</th><th>Storage Size</th><th>Description</th></tr></thead>
      <tbody><tr><td>bigint</td><td>8 bytes</td><td>large-range integer</td></tr>
      <tr><td>real</td><td></td><td>inexact</td></tr></tbody></table>`);
    expect(types).toBe(
      "Name | Storage Size | Description\n\nName: bigint | Storage Size: 8 bytes | Description: large-range integer\nName: real | Description: inexact",
    );
    expect(page("<table><tr><th>Symbol</th><td>Fe</td></tr><tr><th>Atomic number:</th><td>26</td></tr></table>")).toBe(
      "Symbol: Fe\nAtomic number: 26",
    );
    // Seven columns: labelling every cell would bury the values.
    const wide = page(
      `<table><tr>${"ABCDEFG"
        .split("")
        .map((h) => `<th>${h}</th>`)
        .join("")}</tr><tr>${"1234567"
        .split("")
        .map((v) => `<td>${v}</td>`)
        .join("")}</tr></table>`,
    );
    expect(wide).toContain("\n1 | 2 | 3 | 4 | 5 | 6 | 7");
  });

  it("a table used for layout renders its cells' paragraphs and code as blocks", () => {
    expect(page("<table><tr><td><p>First.</p><pre>make check</pre></td><td><p>Second.</p></td></tr></table>")).toBe(
      "First.\n\n```\nmake check\n```\n\nSecond.",
    );
    // A data cell that wraps its text in one paragraph (as Word's tables do) is still a data cell.
    expect(
      page(
        "<table><tr><td><p>Name</p></td><td><p>Size</p></td></tr><tr><td><p>bigint</p></td><td><p>8 bytes</p></td></tr></table>",
      ),
    ).toBe("Name | Size\nbigint | 8 bytes");
  });

  it("definition lists: a short definition joins its term, a longer one stays below it", () => {
    expect(page("<dl><dt>Default</dt><dd>100</dd><dt>Unit</dt><dd>connections</dd></dl>")).toBe(
      "Default: 100\nUnit: connections",
    );
    expect(
      page(
        "<dl><dt>--num-callers=&lt;number&gt; [default: 12]</dt><dd><p>Specifies the maximum number of entries shown in stack traces.</p></dd></dl>",
      ),
    ).toBe("--num-callers=<number> [default: 12]\n\nSpecifies the maximum number of entries shown in stack traces.");
  });
});

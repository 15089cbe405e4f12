import { describe, expect, it } from "vitest";
import { analyzeText } from "../../vectorstores/KeywordIndex.js";
import { nameCoverage, termLineNames } from "../../vectorstores/termLines.js";

describe("termLineNames", () => {
  it("reads the name of an option or setting standing alone above its paragraph", () => {
    const text = [
      "Options that change how the widget spins.",
      "",
      "--spin-rate=<rpm> [default: 40]",
      "",
      "How fast the widget turns, in turns a minute.",
      "",
      "--colours=red|green|blue [default: red]",
      "",
      "Which paint the widget wears.",
      "",
      "wobble_limit (integer)",
      "",
      "The most wobble tolerated before the widget stops.",
    ].join("\n");
    expect(termLineNames(text)).toEqual(["--spin-rate", "--colours", "wobble_limit"]);
  });

  it("reads every alternative of a quoted list term", () => {
    const text = "- `-q, --quiet`: Print nothing.\n\n- `-v, --verbose level`: Print more, up to level.";
    expect(termLineNames(text)).toEqual(["-q", "--quiet", "-v", "--verbose"]);
  });

  it("skips prose, headings, table rows, code and a term with nothing under it", () => {
    const text = [
      "# Widget settings",
      "",
      "The widget spins. It also hums.",
      "",
      "| spin | fast |",
      "",
      "```",
      "--not-a-term",
      "```",
      "",
      "A sentence that ends here.",
      "",
      "--hum-level=<n> [default: 2]",
    ].join("\n");
    expect(termLineNames(text)).toEqual([]);
  });

  it("needs a blank line on both sides of a bare term line", () => {
    expect(termLineNames("--glued=<n>\nExplained on the very next line.")).toEqual([]);
    expect(termLineNames("Before it.\n--glued=<n>\n\nAfter it.")).toEqual([]);
  });
});

describe("nameCoverage", () => {
  const cover = (name: string, question: string) => nameCoverage(analyzeText(name), analyzeText(question));

  it("is the share of the name's words the question has", () => {
    expect(cover("wobble_limit", "What is the wobble limit?")).toBe(1);
    expect(cover("--spin-rate", "How fast does the widget spin?")).toBe(0.5);
    expect(cover("--colours", "Which sizes exist?")).toBe(0);
  });

  it("lets an abbreviated or run-together name word match the question's longer words", () => {
    // "undef" abbreviates "undefined", "sim" abbreviates "simulation"; "stacktraces" runs two words together.
    expect(cover("--undef-value-errors", "How do I hide undefined value errors?")).toBe(1);
    expect(cover("--branch-sim", "How do I turn on branch simulation?")).toBe(1);
    expect(cover("--keep-stacktraces", "Which stack traces does it keep?")).toBe(1);
  });

  it("matches words shorter than the prefix length only exactly", () => {
    expect(nameCoverage(["ab"], ["abc"])).toBe(0);
    expect(nameCoverage(["ab"], ["ab"])).toBe(1);
  });

  it("ignores compounds and options the analyser keeps whole, and names with no plain word", () => {
    expect(nameCoverage(["--spin-rate", "spin-rate", "spin", "rate"], ["rate"])).toBe(0.5);
    expect(nameCoverage(["-q"], ["-q", "quiet"])).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { cleanHeadingText, markdownStructure, underlinedHeadings } from "../../loaders/markdownStructure.js";

describe("heading text", () => {
  it("keeps underscores inside words and code; removes paired emphasis, links and tags", () => {
    expect(cleanHeadingText("Why divide by the square root of d_k")).toBe("Why divide by the square root of d_k");
    expect(cleanHeadingText("snake_case_name and x_1")).toBe("snake_case_name and x_1");
    expect(cleanHeadingText("**Bold** [link](url) `code`")).toBe("Bold link code");
    expect(cleanHeadingText("`__init__` is _special_ and __very__ ***so***")).toBe("__init__ is special and very so");
    expect(cleanHeadingText("5 * 3 <b>html</b>")).toBe("5 * 3 html");
  });

  it("is what markdownStructure reports for ATX and setext headings", () => {
    const { headings } = markdownStructure("# Attention\n\n## Scaling by √d_k\n\nText.\n\nQ_i and K_j\n---\n");
    expect(headings.map((h) => h.text)).toEqual(["Attention", "Scaling by √d_k", "Q_i and K_j"]);
  });
});

describe("underlinedHeadings (plain text)", () => {
  it("reads reStructuredText-style headings, levels in the order their styles appear", () => {
    const text = [
      "===============",
      "Programming FAQ",
      "===============",
      "",
      "General Questions",
      "=================",
      "",
      "Is there a debugger?",
      "--------------------",
      "",
      "Yes.",
      "",
      "Core Language",
      "=============",
      "",
      "Why am I getting an UnboundLocalError?",
      "~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~",
      "It can be a surprise.",
    ].join("\n");
    const headings = underlinedHeadings(text);
    expect(headings.map((h) => [h.level, h.text])).toEqual([
      [1, "Programming FAQ"],
      [2, "General Questions"],
      [3, "Is there a debugger?"],
      [2, "Core Language"],
      [4, "Why am I getting an UnboundLocalError?"],
    ]);
    // A heading spans its overline and underline, so the splitter keeps it whole.
    expect(text.slice(headings[0]?.start, headings[0]?.end)).toBe(
      "===============\nProgramming FAQ\n===============\n",
    );
  });

  it("a rule under a paragraph's last line, a list item or a table row, or a short rule under a long line, is no heading", () => {
    const text = [
      "A paragraph of two",
      "lines above a rule.",
      "-------------------",
      "",
      "- a list item",
      "-------------",
      "",
      "name | size",
      "-----------",
      "",
      "A long line of prose that a short rule follows.",
      "-----",
    ].join("\n");
    expect(underlinedHeadings(text)).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { cleanHeadingText, markdownStructure } from "../../loaders/markdownStructure.js";

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

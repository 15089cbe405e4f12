import { describe, expect, it } from "vitest";
import { cardinalWord, DATE_FORMATS, makeDateDataset, ordinalSuffix, ordinalWord } from "../../examples/dateData.js";

describe("date dataset", () => {
  it("spells ordinals and cardinals", () => {
    expect([1, 2, 3, 11, 12, 20, 22, 30, 31].map(ordinalWord)).toEqual([
      "first",
      "second",
      "third",
      "eleventh",
      "twelfth",
      "twentieth",
      "twenty-second",
      "thirtieth",
      "thirty-first",
    ]);
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23].map(ordinalSuffix)).toEqual([
      "1st",
      "2nd",
      "3rd",
      "4th",
      "11th",
      "12th",
      "13th",
      "21st",
      "22nd",
      "23rd",
    ]);
    expect(cardinalWord(25)).toBe("twenty-five");
    expect(DATE_FORMATS["the-ordinal-word-of-month"](25, 12, 2023)).toBe("the twenty-fifth of December 2023");
    expect(DATE_FORMATS["abbr-day-comma"](25, 12, 2023)).toBe("Dec 25, 2023");
    expect(DATE_FORMATS["slash-dmy"](25, 12, 2023)).toBe("25/12/2023");
    expect(DATE_FORMATS["month-the-ordinal"](25, 12, 2023)).toBe("December the 25th, 2023");
  });

  it("produces valid ISO targets and a held-out set disjoint from training", () => {
    const { train, test } = makeDateDataset({ train: 3000, test: 500, seed: 4 });
    expect(train).toHaveLength(3000);
    expect(test).toHaveLength(500);
    const testSources = new Set(test.map((p) => p.source));
    expect(train.some((p) => testSources.has(p.source))).toBe(false);
    for (const p of [...train, ...test]) {
      expect(p.target).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      const d = new Date(`${p.target}T00:00:00Z`);
      expect(d.toISOString().slice(0, 10)).toBe(p.target); // a real calendar date (no 31 June)
    }
    expect(makeDateDataset({ train: 10, test: 5, seed: 4 }).test).toEqual(test.slice(0, 5));
  });
});

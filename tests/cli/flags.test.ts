import { Document } from "@langchain/core/documents";
import { describe, expect, it } from "vitest";
import { matchesQuery, relativeScores } from "../../src/cli/commands/search.js";
import { choiceFlag, kFlag, modeFlag, numberFlag, portFlag, queueFlag, requireText } from "../../src/cli/flags.js";
import { loadConfig } from "../../src/config.js";

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return `${(error as { code?: string }).code}: ${(error as Error).message}`;
  }
  return "no error";
}

describe("flag parsers", () => {
  it("name the flag the user typed, not the config path", () => {
    expect(messageOf(() => kFlag("abc"))).toBe('INVALID_INPUT: --k must be an integer ≥ 1, got "abc"');
    expect(messageOf(() => kFlag("0"))).toMatch(/^INVALID_INPUT: --k /);
    expect(messageOf(() => kFlag("2.5"))).toMatch(/--k must be an integer/);
    expect(messageOf(() => modeFlag("fuzzy"))).toBe(
      'INVALID_INPUT: --mode must be one of hybrid, keyword, dense, got "fuzzy"',
    );
    expect(messageOf(() => portFlag("70000"))).toBe(
      'INVALID_INPUT: --port must be an integer from 0 to 65535, got "70000"',
    );
    expect(messageOf(() => numberFlag("--x")(" "))).toMatch(/--x must be a number, got " "/);
    expect(messageOf(() => queueFlag("localhost:6379"))).toBe(
      'INVALID_INPUT: --queue must be a redis:// or rediss:// URL, got "localhost:6379"',
    );
    expect(kFlag("3")).toBe(3);
    expect(portFlag("0")).toBe(0);
    expect(choiceFlag("--tokenizer", ["char", "bpe"])("bpe")).toBe("bpe");
  });

  it("accept exactly what the configuration accepts", () => {
    for (const mode of ["hybrid", "keyword", "dense"]) {
      expect(loadConfig({ env: {}, overrides: { retrieval: { mode: modeFlag(mode) } } }).retrieval.mode).toBe(mode);
    }
    expect(loadConfig({ env: {}, overrides: { server: { port: portFlag("65535") } } }).server.port).toBe(65535);
    const url = queueFlag("rediss://cache.example:6380/2");
    expect(loadConfig({ env: {}, overrides: { queue: { url } } }).queue.url).toBe(url);
  });

  it("an empty query or question is an error that says so", () => {
    expect(messageOf(() => requireText("query", "  \n", 'genera search "x"'))).toMatch(
      /^INVALID_INPUT: The query is empty/,
    );
    expect(requireText("query", "tea", "")).toBe("tea");
  });
});

const doc = (score: number, keywordScore: number | null) =>
  new Document({ pageContent: "x", metadata: { source: "a.md", score, keywordScore, denseScore: 0.3 } });

describe("search results as shown", () => {
  it("a hybrid list in which no chunk contains a query word is no match; dense mode lists neighbours", () => {
    expect(matchesQuery([doc(0.7, null), doc(0.5, null)], "hybrid")).toBe(false);
    expect(matchesQuery([doc(0.7, null), doc(0.5, 3.2)], "hybrid")).toBe(true);
    expect(matchesQuery([doc(0.7, null)], "dense")).toBe(true);
    expect(matchesQuery([], "keyword")).toBe(false);
  });

  it("scores are relative to the query's best match, in [0, 1]", () => {
    expect(relativeScores([doc(5.77, 1), doc(0.887, 1), doc(0, 1)])).toEqual([1, 0.887 / 5.77, 0]);
    // One candidate: its z-score is 0, and it is the best match.
    expect(relativeScores([doc(0, 1)])).toEqual([1]);
    expect(relativeScores([])).toEqual([]);
  });
});

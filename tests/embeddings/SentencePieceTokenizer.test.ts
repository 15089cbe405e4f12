import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  normalizeForSentencePiece,
  SentencePieceTokenizer,
  type SentencePieceVocabulary,
} from "../../src/embeddings/SentencePieceTokenizer.js";
import { defaultUseModelDir } from "../../src/embeddings/useLiteAssets.js";
import { isGeneraError } from "../../src/errors.js";

// A toy unigram vocabulary: ids 0-5 are reserved like USE-lite's.
const toy: SentencePieceVocabulary = [
  ["\uFFFD", 0],
  ["<s>", 0],
  ["</s>", 0],
  ["extra_token_id_1", 0],
  ["extra_token_id_2", 0],
  ["extra_token_id_3", 0],
  ["▁", -2],
  ["▁a", -1],
  ["▁ç", -2],
  ["a", -3],
  [".", -1],
  ["▁I", -1],
  ["▁like", -1],
  ["▁it", -1],
  ["I", -2],
  ["like", -2],
  ["it", -2],
  ["l", -3],
  ["i", -3],
  ["k", -3],
  ["e", -3],
  ["t", -3],
];

describe("SentencePieceTokenizer (toy vocabulary)", () => {
  const tokenizer = new SentencePieceTokenizer(toy);

  it("picks the highest-scoring segmentation", () => {
    // "▁I"+"like"+"it"+"." scores -6; splitting "like" into letters would score far lower.
    expect(tokenizer.encode("Ilikeit.")).toEqual([11, 15, 16, 10]);
  });

  it("marks word starts with the boundary piece", () => {
    expect(tokenizer.encode("I like it.")).toEqual([11, 12, 13, 10]);
  });

  it("collapses runs of whitespace, newlines included, and trims", () => {
    expect(tokenizer.encode("  I \n\t like   it. ")).toEqual(tokenizer.encode("I like it."));
  });

  it("applies NFKC so composed and decomposed text match", () => {
    expect(tokenizer.encode("ça")).toEqual(tokenizer.encode("c\u0327a"));
    expect(tokenizer.encode("ça")[0]).toBe(8);
  });

  it("keeps case (the vocabulary is cased)", () => {
    expect(tokenizer.encode("I")).toEqual([11]);
    expect(tokenizer.encode("i")).toEqual([6, 18]);
  });

  it("merges consecutive unknown characters into one unknown id", () => {
    expect(tokenizer.encode("a😹😹")).toEqual([7, 0]);
    expect(tokenizer.encode("😹")).toEqual([6, 0]);
  });

  it("returns no tokens for empty or whitespace-only text", () => {
    expect(tokenizer.encode("")).toEqual([]);
    expect(tokenizer.encode(" \n\t ")).toEqual([]);
    expect(normalizeForSentencePiece("  ")).toBe("");
  });

  it("truncates to maxTokens", () => {
    expect(tokenizer.encode("I like it. I like it.", 3)).toEqual([11, 12, 13]);
  });

  it("rejects a malformed vocabulary", () => {
    let error: unknown;
    try {
      new SentencePieceTokenizer([["a", 0]] as SentencePieceVocabulary);
    } catch (e) {
      error = e;
    }
    expect(isGeneraError(error) && error.code).toBe("INVALID_INPUT");
  });
});

describe("SentencePieceTokenizer (USE-lite vocabulary)", () => {
  const vocab = JSON.parse(readFileSync(join(defaultUseModelDir(), "vocab.json"), "utf8")) as SentencePieceVocabulary;
  const tokenizer = new SentencePieceTokenizer(vocab);
  const pieces = (text: string) => tokenizer.encode(text).map((id) => vocab[id]?.[0]);

  it("segments common English into whole-word pieces", () => {
    expect(pieces("the cat is on the table")).toEqual(["▁the", "▁cat", "▁is", "▁on", "▁the", "▁table"]);
  });

  it("splits rare words into sub-word pieces that spell the word", () => {
    const split = pieces("antidisestablishmentarianism");
    expect(split.length).toBeGreaterThan(1);
    expect(split.join("")).toBe("▁antidisestablishmentarianism");
  });

  it("treats the null-scored user symbols (':') as ordinary pieces", () => {
    expect(pieces("time: now")).toContain(":");
  });

  it("bounds the work on very long input", () => {
    const long = "word ".repeat(200_000);
    const ids = tokenizer.encode(long, 256);
    expect(ids).toHaveLength(256);
    expect(ids).toEqual(tokenizer.encode(long.slice(0, 5_000)).slice(0, 256));
  });
});

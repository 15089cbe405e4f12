import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BPETokenizer, CharTokenizer, loadTokenizer, TokenStreamDecoder } from "../../src/engine/tokenizers/index.js";

const dir = mkdtempSync(join(tmpdir(), "genera-tok-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const corpus = [
  "the cat sat on the mat. the cat ate the rat.",
  "The theory of the thermal thing: there, then, these!",
  "Numbers 123 and 4567 and 2023-12-25; it's what we'll do, they're sure.",
  "Ünïcödé: naïve café — 東京 and emoji 🙂🚀 too.",
]
  .join("\n")
  .repeat(20);

const samples = [
  "",
  "hello world",
  "  leading and trailing spaces  \n\n\ttabs",
  "never seen: ÆØÅ ǅ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 👩‍👩‍👧 \u0000 \uFFFD",
  "the cat<|endoftext|>the mat",
  "mixed 東京タワー and 🙂🚀🙂",
];

describe("CharTokenizer", () => {
  const tok = CharTokenizer.fromCorpus(corpus);

  it("round-trips corpus text and keeps astral characters whole", () => {
    const text = "café 🙂 東京";
    const ids = tok.encode(text);
    expect(ids).toHaveLength([...text].length);
    expect(tok.decode(ids)).toBe(text);
  });

  it("maps unknown characters to <unk> or throws when asked to", () => {
    const unk = tok.tokenToId("<unk>")!;
    expect(tok.encode("cat€")).toEqual([...tok.encode("cat"), unk]);
    const strict = CharTokenizer.fromCorpus("abc", { specialTokens: [], unknown: "error" });
    expect(() => strict.encode("abz")).toThrow(/"z".*not in the tokenizer's vocabulary/);
  });

  it("saves and loads tokenizer.json", () => {
    const path = join(dir, "char.json");
    tok.save(path);
    const loaded = loadTokenizer(path);
    expect(loaded.kind).toBe("char");
    expect(loaded.vocabSize).toBe(tok.vocabSize);
    expect(loaded.encode(corpus.slice(0, 300))).toEqual(tok.encode(corpus.slice(0, 300)));
  });
});

describe("BPETokenizer", () => {
  const tok = BPETokenizer.train(corpus, { vocabSize: 256 + 60 + 4 });

  it("learns the frequent merges first", () => {
    expect(tok.vocabSize).toBe(320);
    expect(tok.merges.length).toBe(60);
    // " the" (with GPT-2's leading space) is the most common word, so it becomes one token.
    const theId = tok.tokenToId("Ġthe");
    expect(theId).toBeGreaterThanOrEqual(256);
    expect(tok.encode(" the")).toEqual([theId]);
    // Merges never cross pre-token boundaries: "t the" → "t" + " the".
    expect(tok.encode("t the")).toEqual([116, theId]);
    // The first merge is the most frequent byte pair of the corpus: check by counting.
    const [a, b] = tok.merges[0];
    const counts = new Map<string, number>();
    for (const m of corpus.matchAll(/'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu)) {
      const bytes = new TextEncoder().encode(m[0]);
      for (let i = 0; i + 1 < bytes.length; i++) {
        const k = `${bytes[i]},${bytes[i + 1]}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    const best = Math.max(...counts.values());
    expect(counts.get(`${a},${b}`)).toBe(best);
  });

  it("round-trips any UTF-8 text, including text never seen in training", () => {
    for (const s of samples) expect(tok.decode(tok.encode(s))).toBe(s);
    // Random code points across the BMP and astral planes (lone surrogates excluded: not valid UTF-8).
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let s = "";
    for (let i = 0; i < 2000; i++) {
      let cp = Math.floor(rnd() * 0x1ffff);
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
      s += String.fromCodePoint(cp);
    }
    expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it("compresses the corpus compared with raw bytes", () => {
    const ids = tok.encode(corpus);
    expect(ids.length).toBeLessThan(new TextEncoder().encode(corpus).length * 0.7);
  });

  it("encodes special tokens as one id, or as text when specials are disallowed", () => {
    const eot = tok.tokenToId("<|endoftext|>")!;
    expect(eot).toBe(316);
    expect(tok.encode("a<|endoftext|>b")).toEqual([97, eot, 98]);
    expect(tok.encode("a<|endoftext|>b", { allowSpecial: false })).not.toContain(eot);
    expect(tok.decode([97, eot, 98], { skipSpecialTokens: true })).toBe("ab");
  });

  it("saves a Hugging Face-like tokenizer.json and loads it back identically", () => {
    const path = join(dir, "bpe.json");
    tok.save(path);
    const json = JSON.parse(readFileSync(path, "utf8"));
    expect(json.model.type).toBe("BPE");
    expect(json.pre_tokenizer.type).toBe("ByteLevel");
    expect(json.model.vocab[String.fromCharCode(0x120)]).toBe(32); // byte 0x20 is stored as "Ġ"
    expect(json.model.merges).toHaveLength(60);
    expect(json.added_tokens.map((t: { content: string }) => t.content)).toEqual([
      "<|endoftext|>",
      "<pad>",
      "<bos>",
      "<eos>",
    ]);
    const loaded = loadTokenizer(path) as BPETokenizer;
    expect(loaded.merges).toEqual(tok.merges);
    for (const s of samples) expect(loaded.encode(s)).toEqual(tok.encode(s));
  });

  it("streams text only at character boundaries", () => {
    const text = "東京 🙂 café";
    const ids = tok.encode(text);
    const dec = new TokenStreamDecoder(tok);
    const pieces = ids.map((id) => dec.push(id));
    pieces.push(dec.flush());
    expect(pieces.join("")).toBe(text);
    for (const p of pieces) expect(p).not.toContain("\uFFFD");
    // Multi-byte characters are split across byte tokens here, so some pushes yield nothing.
    expect(pieces.filter((p) => p === "").length).toBeGreaterThan(0);
  });

  it("trains on ~1 MB of text in a few seconds", () => {
    // Words from skewed letter frequencies: many distinct words and pairs, like real prose.
    const syl = [..."etaoinshrdlucmfwypvbgkjqxzéü"];
    let seed = 1;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const parts: string[] = [];
    let len = 0;
    while (len < 1_000_000) {
      const n = 1 + Math.floor(rnd() * 8);
      let w = "";
      for (let i = 0; i < n; i++) w += syl[Math.floor(rnd() * rnd() * syl.length)];
      if (rnd() < 0.1) w += ".";
      parts.push(w);
      len += w.length + 1;
    }
    const big = parts.join(" ");
    const big1 = BPETokenizer.train(big, { vocabSize: 1000 });
    expect(big1.merges.length).toBeGreaterThan(300);
  });
});

describe("loadTokenizer errors", () => {
  it("names the file and the reason", () => {
    expect(() => loadTokenizer(join(dir, "missing.json"))).toThrow(/does not exist/);
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "{ not json");
    expect(() => loadTokenizer(bad)).toThrow(/not valid JSON/);
    writeFileSync(bad, JSON.stringify({ model: { type: "BPE", vocab: { a: 0 }, merges: [] } }));
    expect(() => loadTokenizer(bad)).toThrow(/lacks the single byte/);
  });
});

describe("Hugging Face interoperability", () => {
  it("transformers.js loads our tokenizer.json and produces the same ids", async () => {
    const { PreTrainedTokenizer } = await import("@huggingface/transformers");
    const tok = BPETokenizer.train(corpus, { vocabSize: 400 });
    // biome-ignore lint/suspicious/noExplicitAny: transformers.js types the JSON loosely
    const hf = new PreTrainedTokenizer(tok.toJSON() as any, {});
    for (const s of [...samples.filter(Boolean), corpus.slice(0, 500)]) {
      expect(hf.encode(s, { add_special_tokens: false })).toEqual(tok.encode(s));
      expect(hf.decode(tok.encode(s))).toBe(s);
    }
  });
});

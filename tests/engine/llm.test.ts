import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { PromptTemplate } from "@langchain/core/prompts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../../src/engine/checkpoints/checkpoint.js";
import { ENCODER_DECODER_TINY, EncoderDecoder } from "../../src/engine/models/encoderDecoder.js";
import { StopSequenceFilter } from "../../src/engine/models/generateStream.js";
import { GPT } from "../../src/engine/models/gpt.js";
import { BPETokenizer, CharTokenizer } from "../../src/engine/tokenizers/index.js";
import { trainGPT } from "../../src/engine/training/trainGPT.js";
import { TransformerLLM } from "../../src/llms/TransformerLLM.js";
import { syntheticCorpus, TINY_CONFIG } from "./helpers/corpus.js";

const dir = mkdtempSync(join(tmpdir(), "genera-llm-"));
const charModel = join(dir, "char");
const bpeModel = join(dir, "bpe");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await trainGPT({
    corpus: syntheticCorpus(),
    outDir: charModel,
    preset: "tiny",
    config: { ...TINY_CONFIG, blockSize: 32 },
    steps: 80,
    batchSize: 8,
    lr: 1e-2,
    evalEvery: 80,
    evalBatches: 1,
  });
  // An untrained byte-level model: its random byte tokens exercise partial UTF-8 in streams.
  const text = "naïve café 東京 🙂 ".repeat(50);
  const tok = BPETokenizer.train(text, { vocabSize: 256 + 20 + 4 });
  const config = { ...TINY_CONFIG, vocabSize: tok.vocabSize };
  saveCheckpoint(bpeModel, { model: new GPT(config, 5), modelType: "gpt", config, tokenizer: tok });
}, 60_000);

describe("TransformerLLM", () => {
  it("identifies itself and generates text with invoke", async () => {
    const llm = new TransformerLLM({ modelPath: charModel, maxTokens: 40, seed: 1 });
    expect(llm._llmType()).toBe("genera-transformer");
    const out = await llm.invoke("the cat ");
    expect(typeof out).toBe("string");
    expect(out.length).toBeGreaterThan(10);
    // Only characters of the training corpus come out (special tokens such as <unk> are not shown).
    const chars = new Set(syntheticCorpus());
    for (const ch of out) expect(chars.has(ch)).toBe(true);
    // Same seed → same text.
    expect(await llm.invoke("the cat ")).toBe(out);
  });

  it("streams token by token, and the stream equals invoke's text", async () => {
    const llm = new TransformerLLM({ modelPath: charModel, maxTokens: 30, seed: 7, temperature: 1 });
    const chunks: string[] = [];
    for await (const c of await llm.stream("a dog ")) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.join("")).toBe(await llm.invoke("a dog "));
  });

  it("works inside a LangChain chain (PromptTemplate → LLM → parser)", async () => {
    const llm = new TransformerLLM({ modelPath: charModel, maxTokens: 20, seed: 3 });
    const chain = PromptTemplate.fromTemplate("{subject} likes ").pipe(llm).pipe(new StringOutputParser());
    const out = await chain.invoke({ subject: "my friend" });
    expect(out.length).toBeGreaterThan(0);
    const streamed: string[] = [];
    for await (const c of await chain.stream({ subject: "my friend" })) streamed.push(c);
    expect(streamed.join("")).toBe(out);
  });

  it("cuts the output at a stop sequence, in invoke and in streams", async () => {
    const llm = new TransformerLLM({ modelPath: charModel, maxTokens: 60, temperature: 0 });
    const full = await llm.invoke("the model ");
    expect(full.length).toBeGreaterThan(20);
    const stop = full.slice(10, 13);
    const expected = full.slice(0, full.indexOf(stop));
    expect(await llm.invoke("the model ", { stop: [stop] })).toBe(expected);
    const chunks: string[] = [];
    for await (const c of await llm.stream("the model ", { stop: [stop, "zzzz-never"] })) chunks.push(c);
    expect(chunks.join("")).toBe(expected);
    const bound = new TransformerLLM({ modelPath: charModel, maxTokens: 60, temperature: 0, stop: [stop] });
    expect(await bound.invoke("the model ")).toBe(expected);
  });

  it("streams whole characters from a byte-level BPE model", async () => {
    const llm = new TransformerLLM({ modelPath: bpeModel, maxTokens: 40, seed: 2, temperature: 1.5 });
    const chunks: string[] = [];
    for await (const c of await llm.stream("café ")) chunks.push(c);
    expect(chunks.join("")).toBe(await llm.invoke("café "));
    // No chunk starts with a UTF-8 continuation that was split off its character.
    for (const c of chunks) expect(c.codePointAt(0)! < 0xdc00 || c.codePointAt(0)! > 0xdfff).toBe(true);
  });

  it("decodes greedily from an encoder-decoder checkpoint, treating the prompt as the source", async () => {
    const tok = CharTokenizer.fromCorpus("0123456789-abc ", { specialTokens: ["<pad>", "<bos>", "<eos>"] });
    const config = { ...ENCODER_DECODER_TINY, srcVocabSize: tok.vocabSize, tgtVocabSize: tok.vocabSize, maxLen: 16 };
    const path = join(dir, "seq2seq");
    saveCheckpoint(path, {
      model: new EncoderDecoder(config, 3),
      modelType: "encoder-decoder",
      config,
      tokenizer: tok,
    });
    const llm = new TransformerLLM({ modelPath: path, maxTokens: 8 });
    const out = await llm.invoke("abc 12");
    expect(out.length).toBeLessThanOrEqual(8);
    for (const ch of out) expect("0123456789-abc ").toContain(ch);
    const chunks: string[] = [];
    for await (const c of await llm.stream("abc 12")) chunks.push(c);
    expect(chunks.join("")).toBe(out);
  });

  it("reports a missing checkpoint folder clearly", async () => {
    const llm = new TransformerLLM({ modelPath: join(dir, "nothing-here") });
    await expect(llm.invoke("hi")).rejects.toThrow(/does not exist/);
  });
});

describe("StopSequenceFilter", () => {
  it("holds back a possible stop prefix and releases it when it is not one", () => {
    const f = new StopSequenceFilter(["END"]);
    expect(f.push("abc E")).toBe("abc ");
    expect(f.push("N")).toBe("");
    expect(f.push("x")).toBe("ENx");
    expect(f.push("yy EN")).toBe("yy ");
    expect(f.push("D tail")).toBe("");
    expect(f.stopped).toBe(true);
    expect(f.flush()).toBe("");
  });
});

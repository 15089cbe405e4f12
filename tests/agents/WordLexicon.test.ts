import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RequestVocabulary, tokenizeRequest } from "../../src/agents/toolModel/requestTokens.js";
import { ToolCallTagger } from "../../src/agents/toolModel/ToolCallTagger.js";
import { batchRequests, ToolModel } from "../../src/agents/toolModel/ToolModel.js";
import {
  CLASS_BITS,
  WORD_CLASS_IDS,
  WORDNET_LICENSE_FILE,
  WordLexicon,
} from "../../src/agents/toolModel/WordLexicon.js";
import { GeneraError } from "../../src/errors.js";

// A handful of lemmas stand in for WordNet, except where WordNet itself is the point.
const lexicon = new WordLexicon({
  noun: "search image note year",
  verb: "search write describe note",
  adj: "written quick",
  adv: "also quickly",
  verbForms: "written wrote",
});
const { noun: NOUN, verb: VERB, adj: ADJ, adv: ADV } = CLASS_BITS;
const id = (bits: number) => 2 + bits;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("WordLexicon", () => {
  it("gives each word its classes, inflected forms included, and none to names, numbers and paths", () => {
    expect(lexicon.classId("image")).toBe(id(NOUN));
    expect(lexicon.classId("Images")).toBe(id(NOUN)); // regular plural, any case
    expect(lexicon.classId("search")).toBe(id(NOUN | VERB));
    expect(lexicon.classId("described")).toBe(id(VERB)); // regular form of a verb lemma
    expect(lexicon.classId("describing")).toBe(id(VERB));
    expect(lexicon.classId("written")).toBe(id(VERB | ADJ)); // irregular form, also an adjective
    expect(lexicon.classId("also")).toBe(id(ADV));
    expect(lexicon.classId("note-year")).toBe(id(NOUN)); // a hyphenated word reads as its last part
    for (const t of ["HNSW", "42", "notes/todo.md", "?"]) expect(lexicon.classId(t), t).toBe(id(0));
    expect(lexicon.classIds(tokenizeRequest("also search"))).toEqual([1, id(ADV), id(NOUN | VERB)]);
    for (const w of ["image", "search", "written", "also", "zzz"])
      expect(lexicon.classId(w)).toBeLessThan(WORD_CLASS_IDS);
  });

  it("round-trips through its gzipped file, and a missing file is MODEL_NOT_FOUND", () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-lexicon-"));
    dirs.push(dir);
    lexicon.save(join(dir, "lexicon.json.gz"));
    expect(readFileSync(join(dir, WORDNET_LICENSE_FILE), "utf8")).toMatch(/WordNet 3.0 Copyright 2006 by Princeton/);
    const loaded = WordLexicon.load(join(dir, "lexicon.json.gz"));
    for (const w of ["image", "search", "described", "written", "also", "HNSW"]) {
      expect(loaded.classId(w)).toBe(lexicon.classId(w));
    }
    expect(() => WordLexicon.load(join(dir, "nope.json.gz"))).toThrow(
      expect.objectContaining({ code: "MODEL_NOT_FOUND" }) as GeneraError,
    );
  });

  it("reads WordNet: held-out frame words are verbs and adverbs, topics nouns", () => {
    const wordNet = WordLexicon.fromWordNet();
    const has = (w: string, bit: number) => ((wordNet.classId(w) - 2) & bit) !== 0;
    for (const w of ["written", "described", "saying", "drawn"]) expect(has(w, VERB), w).toBe(true);
    expect(has("also", ADV)).toBe(true);
    for (const w of ["distillation", "government", "captions"]) expect(has(w, NOUN), w).toBe(true);
    expect(() => WordLexicon.fromWordNet(tmpdir())).toThrow(/WordNet is not at/);
  });

  it("is a tool model input: saved with the checkpoint, loaded with it, required when the model reads it", async () => {
    const texts = ["search the notes for adam", "what is also written", "hello there"];
    const vocab = RequestVocabulary.build(texts, 1, lexicon);
    const config = {
      vocabSize: vocab.size,
      maxLen: 16,
      dModel: 16,
      nHeads: 2,
      nLayers: 1,
      dFF: 32,
      dropout: 0,
      wordClasses: true,
    };
    const model = new ToolModel(new ToolCallTagger(config, 3), vocab);
    const batch = batchRequests(texts.map((t) => model.encode(t)));
    expect(Array.from(batch.classes?.subarray(0, 6) ?? [])).toEqual([
      1,
      id(NOUN | VERB),
      id(0),
      id(NOUN | VERB),
      id(0),
      id(0),
    ]);
    const dir = mkdtempSync(join(tmpdir(), "genera-lexicon-model-"));
    dirs.push(dir);
    model.save(dir);
    const loaded = ToolModel.load(dir);
    expect(await loaded.predictBatch(texts)).toEqual(await model.predictBatch(texts));
    // Without its classes the tagger refuses the batch; a model and a vocabulary that disagree are refused.
    expect(() => model.tagger.forward({ ...batch, classes: undefined })).toThrow(/word-class ids/);
    expect(() => new ToolModel(new ToolCallTagger(config, 3), new RequestVocabulary(vocab.words))).toThrow(
      /reads word classes but has no lexicon/,
    );
    writeFileSync(join(dir, "word-classes.json.gz"), "");
    expect(() => ToolModel.load(dir)).toThrow(expect.objectContaining({ code: "MODEL_MISMATCH" }) as GeneraError);
  });
});

import { describe, expect, it } from "vitest";
import { wordNetSynonyms } from "../../examples/agent/frameSynonyms.js";
import {
  FRAME_NOUNS,
  generateToolDataset,
  heldOutOnlyWords,
  holdOutDev,
  phrasingGuard,
  TOPICS,
  trainingFamilyFrames,
} from "../../examples/agent/toolData.js";
import { wordNetClasses } from "../../examples/agent/wordClasses.js";
import { encodeRequest, RequestVocabulary, tokenizeRequest } from "../../src/agents/toolModel/requestTokens.js";
import {
  chooseIntent,
  constrainSpans,
  countFromWord,
  decodeSpans,
  digitFromWord,
  INTENTS,
  mathFromWords,
  operationFromWords,
  planCalls,
  repairTags,
  TAGS,
  type Tag,
} from "../../src/agents/toolModel/toolPlan.js";
import { evaluateExpression } from "../../src/agents/tools/calculator.js";

describe("request tokens", () => {
  it("keep paths and file names whole and numbers apart from operators", () => {
    expect(tokenizeRequest("read notes/todo.md and 2025-q3.csv").map((t) => t.text)).toEqual([
      "read",
      "notes/todo.md",
      "and",
      "2025-q3.csv",
    ]);
    expect(tokenizeRequest("3-4*12/4").map((t) => t.text)).toEqual(["3", "-", "4", "*", "12", "/", "4"]);
  });

  it("read unknown words as UNK, digits as one word", () => {
    const vocab = RequestVocabulary.build(["what is 12 plus 7", "what is 3 plus 4"]);
    const row = encodeRequest("what is 999 plus zebra", vocab, 16);
    expect(row.words[0]).toBe(vocab.id("<cls>"));
    expect(row.words[3]).toBe(vocab.id("12"));
    expect(row.words[5]).toBe(vocab.id("<unk>"));
  });
});

describe("plans", () => {
  it("cut arguments from the request text, exactly", () => {
    const text = "Search for Multi-Head attention and the KV cache?";
    const tokens = tokenizeRequest(text);
    const tags: Tag[] = ["O", "O", "B-Q", "I-Q", "O", "B-Q", "I-Q", "I-Q", "O"];
    const plan = planCalls("search", decodeSpans(text, tokens, tags), text);
    expect(plan.calls).toEqual([
      { name: "search_documents", args: { query: "Multi-Head attention" } },
      { name: "search_documents", args: { query: "the KV cache" } },
    ]);
  });

  it.each([
    ["12 times 7", "12 * 7", 84],
    ["the square root of 81", "sqrt(81)", 9],
    ["15 percent of 240", "15% of 240", 36],
    ["1,250 minus 300", "1250 - 300", 950],
    ["2 to the power of 8", "2 ^ 8", 256],
    ["(3+4)*12", "(3 + 4) * 12", 84],
    ["7 squared", "7 ^ 2", 49],
  ])("turn %j into the calculator's %j", (words, symbols, value) => {
    expect(mathFromWords(words)).toBe(symbols);
    expect(evaluateExpression(mathFromWords(words))).toBe(value);
  });

  it.each([
    ["multiply it by 4", "* 4"],
    ["divide that by 8", "/ 8"],
    ["add 12% to it", "+ 12%"],
    ["double it", "* 2"],
    ["halve it", "/ 2"],
    ["square it", "^ 2"],
  ])("read the operation %j as %j", (words, op) => {
    expect(operationFromWords(words)).toBe(op);
  });

  it("keep only what the calculator parses of an expression span (constrained to the tool's grammar)", () => {
    const e = (text: string) => ({ kind: "E" as const, text });
    expect(planCalls("calculate", [e("(124 + 359) * 847 come to")], "").calls).toEqual([
      { name: "calculator", args: { expression: "(124 + 359) * 847" } },
    ]);
    expect(planCalls("calculate", [e("717 over 258"), e("to")], "").calls).toEqual([
      { name: "calculator", args: { expression: "717 / 258" } },
    ]);
    expect(
      planCalls("search_calculate", [{ kind: "Q", text: "the batch size" }, e("so times 12 ok")], "").operation,
    ).toBe("* 12");
  });

  it("grow a text argument only over unknown words it leaves dangling on a function word", () => {
    // A query never ends on "of": the unknown word after it is its end.
    expect(
      repairTags(["B-Q", "I-Q", "O", "O"], [false, false, true, false], ["layers", "of", "BERT-Large", "in"]),
    ).toEqual(["B-Q", "I-Q", "I-Q", "O"]);
    // Unknown words around a span are frame words as often as argument words: left as tagged.
    expect(repairTags(["O", "B-Q", "I-Q"], [true, false, false], ["explain", "the", "planner"])).toEqual([
      "O",
      "B-Q",
      "I-Q",
    ]);
    expect(repairTags(["B-Q", "O", "B-Q"], [false, true, false], ["cats", "versus", "dogs"])).toEqual([
      "B-Q",
      "O",
      "B-Q",
    ]);
    expect(repairTags(["O", "B-P"], [true, false], ["load", "x.md"])).toEqual(["O", "B-P"]);
  });

  it("begin a span the intent needs at the likeliest token when the tags hold none", () => {
    const text = "Open the document intro.md now";
    const tokens = tokenizeRequest(text);
    const scores = tokens.map((t) => {
      const row = new Float32Array(TAGS.length);
      row[TAGS.indexOf("O")] = 1;
      if (t.text === "intro.md") row[TAGS.indexOf("B-D")] = 0.8;
      return row;
    });
    const tags = constrainSpans(
      "read_document",
      tokens.map(() => "O" as Tag),
      scores,
    );
    expect(planCalls("read_document", decodeSpans(text, tokens, tags), text).calls).toEqual([
      { name: "read_document", args: { id: "intro.md" } },
    ]);
  });

  it("keep arguments to what the tool's schema accepts (a file-like path, a count that is a number)", () => {
    const tagged = (text: string, likely: Record<string, Tag>) => {
      const tokens = tokenizeRequest(text);
      const scores = tokens.map((t) => {
        const row = new Float32Array(TAGS.length);
        row[TAGS.indexOf("O")] = 1;
        const tag = likely[t.text];
        if (tag) row[TAGS.indexOf(tag)] = 2;
        return row;
      });
      const argmax = tokens.map((t) => likely[t.text] ?? ("O" as Tag));
      return { tokens, scores, argmax, words: tokens.map((t) => t.text) };
    };
    // The model tags the verb as the path and the file as a document: the file is still read.
    const file = tagged("type out chair.txt", { type: "B-P", "chair.txt": "B-D" });
    const read = constrainSpans("read_file", file.argmax, file.scores, file.words);
    expect(planCalls("read_file", decodeSpans("type out chair.txt", file.tokens, read), "").calls).toEqual([
      { name: "read_file", args: { path: "chair.txt" } },
    ]);
    // A count must read as a number: "handwritten" is never one.
    const image = tagged("draw a handwritten six", { handwritten: "B-N", six: "B-K" });
    const drawn = constrainSpans("generate_image", image.argmax, image.scores, image.words);
    expect(planCalls("generate_image", decodeSpans("draw a handwritten six", image.tokens, drawn), "").calls).toEqual([
      { name: "generate_image", args: { digit: 6 } },
    ]);
  });

  it("read a number as a count only before its plural noun; otherwise as its likeliest allowed tag", () => {
    const plan = (text: string, likely: Record<string, Array<[Tag, number]>>) => {
      const tokens = tokenizeRequest(text);
      const scores = tokens.map((t) => {
        const row = new Float32Array(TAGS.length);
        row[TAGS.indexOf("O")] = 1;
        for (const [tag, score] of likely[t.text] ?? []) row[TAGS.indexOf(tag)] = score;
        return row;
      });
      const argmax = tokens.map((_t, i) => TAGS[scores[i]?.indexOf(Math.max(...(scores[i] ?? []))) ?? 0] as Tag);
      const tags = constrainSpans(
        "generate_image",
        argmax,
        scores,
        tokens.map((t) => t.text),
      );
      return planCalls("generate_image", decodeSpans(text, tokens, tags), text).calls[0]?.args;
    };
    const number: Record<string, Array<[Tag, number]>> = {
      eight: [
        ["B-N", 3],
        ["B-K", 2],
      ],
      gan: [["B-M", 3]],
    };
    expect(plan("an image of the number eight using the gan", number)).toEqual({ model: "gan", digit: 8 });
    expect(plan("draw eight sevens using the gan", { ...number, sevens: [["B-K", 3]] })).toEqual({
      model: "gan",
      n: 8,
      digit: 7,
    });
    expect(plan("make 20 neat 7s", { "20": [["B-N", 3]], "7s": [["B-K", 3]] })).toEqual({ n: 20, digit: 7 });
  });

  it("choose the intent together with the spans its tools can take", () => {
    const text = "show me 33 samples from the vae";
    const tokens = tokenizeRequest(text);
    const scores = tokens.map((t) => {
      const row = new Float32Array(TAGS.length);
      row[TAGS.indexOf("O")] = 2;
      if (t.text === "33") row[TAGS.indexOf("B-N")] = 6;
      if (t.text === "vae") row[TAGS.indexOf("B-M")] = 6;
      return row;
    });
    const words = tokens.map((t) => t.text);
    // The intent head leans to read_document, but the tagger sees a count and a generator.
    const logits = INTENTS.map((i) => (i === "read_document" ? 3 : i === "generate_image" ? 2 : 0));
    expect(chooseIntent(logits, scores, words)).toBe("generate_image");
    // Without argument evidence the head's choice stands.
    const plain = tokens.map(() => Float32Array.from(TAGS, (t) => (t === "O" ? 2 : 0)));
    expect(chooseIntent(logits, plain, words)).toBe("read_document");
  });

  it("read generate_image's model, count and digit from their spans", () => {
    const plan = planCalls(
      "generate_image",
      [
        { kind: "N", text: "three" },
        { kind: "K", text: "sevens" },
        { kind: "M", text: "GAN" },
      ],
      "",
    );
    expect(plan.calls).toEqual([{ name: "generate_image", args: { model: "gan", n: 3, digit: 7 } }]);
    expect([digitFromWord("6"), digitFromWord("sixes"), digitFromWord("7s"), digitFromWord("cat")]).toEqual([
      6,
      6,
      7,
      undefined,
    ]);
    expect([countFromWord("12"), countFromWord("ten"), countFromWord("0"), countFromWord("many")]).toEqual([
      12,
      10,
      undefined,
      undefined,
    ]);
  });

  it('drop a query of function words alone (a frame\'s "the" or "anything" searches for nothing)', () => {
    const q = (text: string) => ({ kind: "Q" as const, text });
    expect(planCalls("search", [q("anything"), q("the release schedule"), q("the")], "").calls).toEqual([
      { name: "search_documents", args: { query: "the release schedule" } },
    ]);
  });

  it("ask for a path rather than guess one", () => {
    expect(planCalls("read_file", [], "read the file").intent).toBe("reply");
  });
});

describe("the generated dataset", () => {
  it("holds out phrasings and values: no held-out request appears in training", () => {
    const train = generateToolDataset("train", 4000);
    const test = generateToolDataset("test", 1000);
    const trainTexts = new Set(train.map((e) => e.text.toLowerCase()));
    expect(test.filter((e) => trainTexts.has(e.text.toLowerCase())).length).toBe(0);
    const trainQueries = new Set(train.flatMap((e) => e.calls.map((c) => JSON.stringify(c.args))));
    const shared = test.filter((e) => e.calls.some((c) => trainQueries.has(JSON.stringify(c.args))));
    // Only argument-free calls (current_date, list_files of the root) and generate_image's
    // closed sets (the shipped generators, the ten digits) may repeat; its counts may not.
    const closed = (c: { name: string; args: Record<string, unknown> }) =>
      c.name === "current_date" || c.args.path === "." || (c.name === "generate_image" && c.args.n === undefined);
    expect(shared.every((e) => e.calls.every(closed))).toBe(true);
  });

  it("keeps its training phrasing families away from the held-out frames", () => {
    const guard = phrasingGuard();
    const families = trainingFamilyFrames();
    for (const [pool, frames] of Object.entries(families)) {
      expect(frames.length, pool).toBeGreaterThan(50);
      expect(
        frames.filter((f) => guard(f) !== undefined),
        pool,
      ).toEqual([]);
    }
    // The guard itself: a held-out frame's own word, phrase or near-copy is refused.
    const heldOut = generateToolDataset("test", 300);
    const readDoc = heldOut.find((e) => e.intent === "read_document");
    expect(readDoc).toBeDefined();
    expect(guard("{q} versus {b}")).toMatch(/only held-out frames use/);
    expect(guard("show {d} from the knowledge base")).toMatch(/copies|one edit/);
    // Training requests use the families (here about half of those intents' requests).
    const all = Object.values(families).flat();
    const train = generateToolDataset("train", 400);
    expect(train.some((e) => all.some((f) => e.text.toLowerCase().includes(f.split("{")[0] as string)))).toBe(true);
  }, 30_000);

  it("holds a dev quarter out of training on request, leaving the held-out set as it was", () => {
    const heldOut = generateToolDataset("test", 200);
    expect(() => generateToolDataset("dev", 10)).toThrow(/holdOutDev/);
    holdOutDev(true);
    try {
      const dev = generateToolDataset("dev", 600);
      const train = generateToolDataset("train", 3000);
      const trainTexts = new Set(train.map((e) => e.text.toLowerCase()));
      expect(dev.filter((e) => trainTexts.has(e.text.toLowerCase())).length).toBe(0);
      expect(new Set(dev.map((e) => e.intent)).size).toBe(INTENTS.length);
      // The dev frames' own words stay out of the training families too.
      expect(phrasingGuard()("explain {q}")).toMatch(/"explain", a word only held-out frames use/);
    } finally {
      holdOutDev(false);
    }
    expect(phrasingGuard()("explain {q}") ?? "").not.toMatch(/only held-out frames use/);
    expect(generateToolDataset("test", 200)).toEqual(heldOut);
  }, 30_000);

  it("makes up topics as noun phrases, and frame words that stay outside the spans", () => {
    const classes = wordNetClasses();
    for (const w of ["attention", "kitchens", "pipeline"]) expect(classes.isTopicNoun(w), w).toBe(true);
    // Frame words of every kind: verbs, their forms (regular and irregular), adverbs, prepositions.
    for (const w of ["explain", "saying", "described", "written", "works", "hopefully", "versus", "according"]) {
      expect(classes.isTopicNoun(w), w).toBe(false);
    }
    expect(classes.isModifier("strong")).toBe(true);
    expect(classes.isModifier("said")).toBe(false);
    expect(classes.isFrameWord("reportedly")).toBe(true);
    expect(classes.isFrameWord("pipeline")).toBe(false);
    expect(classes.isVerb("install")).toBe(true);
    expect(classes.isVerb("ship")).toBe(false); // a noun too: the listed errands cover such verbs
    // No made-up topic word (held-out or training) is a verb form or an adverb, and every
    // query is exactly the value it was built from.
    const searches = [...generateToolDataset("test", 600), ...generateToolDataset("train", 1500)].filter(
      (e) => e.intent === "search",
    );
    const listed = new Set([...TOPICS, ...FRAME_NOUNS].flatMap((t) => t.toLowerCase().split(/[\s-]+/)));
    // Acronyms ("HAS") are initials, not the words they happen to spell.
    const madeUp = searches.flatMap((e) =>
      e.spans.flatMap((s) => s.text.split(/[\s-]+/).filter((w) => !/^[A-Z]{2,}$/.test(w))).map((w) => w.toLowerCase()),
    );
    expect(madeUp.filter((w) => !listed.has(w) && classes.isFrameWord(w))).toEqual([]);
    for (const e of searches) expect(e.calls.map((c) => c.args.query)).toEqual(e.spans.map((s) => s.text));
    // Training topics may hold nouns that are also verbs ("design review"), never a held-out value's word.
    const heldOutWords = new Set(
      generateToolDataset("test", 600).flatMap((e) => e.spans.flatMap((s) => s.text.toLowerCase().split(/[\s-]+/))),
    );
    const verbal = generateToolDataset("train", 1500)
      .filter((e) => e.intent === "search")
      .flatMap((e) => e.spans.flatMap((s) => s.text.toLowerCase().split(/[\s-]+/)))
      .filter((w) => !listed.has(w) && classes.isVerbalNoun(w));
    expect(verbal.length).toBeGreaterThan(10);
    expect(verbal.filter((w) => heldOutWords.has(w))).toEqual([]);
  }, 30_000);

  it("swaps some training frame words for WordNet synonyms, never an argument or a held-out word", () => {
    const synonyms = wordNetSynonyms();
    expect(synonyms("show")).toEqual(expect.arrayContaining(["demonstrate", "exhibit"]));
    expect(synonyms("pictures")).toContain("images"); // a plural noun keeps its number
    expect(synonyms("xyzzy")).toEqual([]);
    for (const dev of [false, true]) {
      holdOutDev(dev);
      try {
        const plain = generateToolDataset("train", 800);
        const swapped = generateToolDataset("train", 800, 1, { frameSynonyms: true });
        const blocked = heldOutOnlyWords();
        const heldOutValues = new Set(
          [...generateToolDataset("test", 400), ...(dev ? generateToolDataset("dev", 400) : [])].flatMap((e) =>
            e.spans.flatMap((s) => tokenizeRequest(s.text.toLowerCase()).map((t) => t.text)),
          ),
        );
        let changed = 0;
        swapped.forEach((e, i) => {
          const p = plain[i] as (typeof plain)[number];
          // Same request, spans, tags and calls; only frame words may differ.
          expect({ ...e, text: "" }).toEqual({ ...p, text: "" });
          const [a, b] = [tokenizeRequest(e.text), tokenizeRequest(p.text)];
          expect(a.length).toBe(e.tags.length);
          a.forEach((t, j) => {
            if (t.text === b[j]?.text) return;
            changed++;
            expect(e.tags[j]).toBe("O");
            expect(blocked.has(t.text.toLowerCase()), t.text).toBe(false);
            expect(e.intent).not.toBe("refuse");
            expect(heldOutValues.has(t.text.toLowerCase()), t.text).toBe(false);
          });
          expect(planCalls(e.intent, e.spans, e.text).calls).toEqual(e.calls);
        });
        expect(changed).toBeGreaterThan(50);
      } finally {
        holdOutDev(false);
      }
    }
  }, 60_000);

  it("is deterministic and covers every intent", () => {
    const a = generateToolDataset("train", 500);
    expect(generateToolDataset("train", 500)).toEqual(a);
    expect(new Set(a.map((e) => e.intent)).size).toBe(INTENTS.length);
  });
});

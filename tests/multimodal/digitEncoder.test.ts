import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadMnist } from "../../src/images/mnist.js";
import { DigitImageEmbeddings } from "../../src/multimodal/digits/DigitImageEmbeddings.js";
import { HELD_OUT_TEMPLATES, TRAIN_TEMPLATES } from "../../src/multimodal/digits/digitCaptions.js";
import { digitPrecisionAtK } from "../../src/multimodal/digits/digitPrecision.js";
import { hashedTextFeatures } from "../../src/multimodal/digits/textFeatures.js";
import { ImageIndex } from "../../src/multimodal/ImageIndex.js";
import { cosineSimilarity } from "../../src/util/cosineSimilarity.js";

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "genera-digits-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes MNIST test digits [from, from + perDigit·10) as `<label>-<index>.png`, perDigit of each class. */
async function writeDigits(dir: string, from: number, perDigit: number): Promise<string[]> {
  const test = loadMnist("test");
  mkdirSync(dir, { recursive: true });
  const counts = new Array<number>(10).fill(0);
  const names: string[] = [];
  const size = test.rows * test.cols;
  for (let i = from; i < test.count && counts.some((c) => c < perDigit); i++) {
    const label = test.labels[i] as number;
    if ((counts[label] as number) >= perDigit) continue;
    counts[label] = (counts[label] as number) + 1;
    const grey = Buffer.from(Array.from(test.images.subarray(i * size, (i + 1) * size), (v) => Math.round(v * 255)));
    const name = `${label}-${i}.png`;
    await sharp(grey, { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(join(dir, name));
    names.push(name);
  }
  return names;
}

describe("hashed text features", () => {
  it("are unit length, stable, and put plurals and numerals with suffixes next to their word", () => {
    const seven = hashedTextFeatures("seven", 2048);
    expect(Math.hypot(...seven)).toBeCloseTo(1, 5);
    expect(hashedTextFeatures("seven", 2048)).toEqual(seven);
    expect(cosineSimilarity(hashedTextFeatures("sevens", 2048), seven)).toBeGreaterThan(0.99);
    expect(cosineSimilarity(hashedTextFeatures("7s", 2048), hashedTextFeatures("7", 2048))).toBeGreaterThan(0.5);
    expect(cosineSimilarity(hashedTextFeatures("the digit three", 2048), seven)).toBeLessThan(0.3);
    expect(hashedTextFeatures("", 64).every((v) => v === 0)).toBe(true);
  });
});

describe("the digit dual encoder", () => {
  it("as shipped, finds each digit by text with precision@10 ≥ 0.9 for phrasings never seen in training", async () => {
    // Digits from the second half of the MNIST test set: neither trained on nor in examples/digits.
    const dir = join(root, "unseen-digits");
    const names = await writeDigits(dir, 5000, 25);
    const index = await ImageIndex.open(join(root, "image-index"), new DigitImageEmbeddings());
    const summary = await index.indexFiles(names.map((name) => ({ absPath: join(dir, name), relPath: name })));
    expect(summary.added).toBe(250);
    const heldOut = await digitPrecisionAtK(index, HELD_OUT_TEMPLATES);
    for (const row of heldOut)
      expect(row.mean, `digit ${row.digit}, worst "${row.worstQuery}"`).toBeGreaterThanOrEqual(0.9);
    const hits = await index.search("a handwritten seven", 10);
    expect(hits.filter((h) => h.source.startsWith("7-")).length).toBeGreaterThanOrEqual(9);
    // The training phrasings, for comparison, are at least as good on average.
    const seen = await digitPrecisionAtK(index, TRAIN_TEMPLATES.slice(0, 5));
    expect(seen.reduce((s, r) => s + r.mean, 0) / 10).toBeGreaterThanOrEqual(0.9);
  });

  it("reads dark-on-light and odd-sized images the way it reads MNIST", async () => {
    const e = new DigitImageEmbeddings();
    const test = loadMnist("test", { limit: 1 });
    const grey = Buffer.from(Array.from(test.images, (v) => Math.round(v * 255)));
    const mnist = await sharp(grey, { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toBuffer();
    const inverted = await sharp(Buffer.from(grey.map((v) => 255 - v)), { raw: { width: 28, height: 28, channels: 1 } })
      .resize(112, 112)
      .png()
      .toBuffer();
    const [a, b] = await e.embedImages([mnist, inverted]);
    expect(cosineSimilarity(a as number[], b as number[])).toBeGreaterThan(0.9);
    await expect(e.embedImages([Buffer.from("no image here")])).rejects.toMatchObject({ code: "FILE_UNREADABLE" });
  });
});

describe("ImageIndex", () => {
  it("indexes only what changed, reports a corrupt image and goes on, drops deleted images, and reopens", async () => {
    const dir = join(root, "folder");
    const names = await writeDigits(dir, 0, 2);
    writeFileSync(join(dir, "corrupt.png"), "this is not a png");
    const files = [...names, "corrupt.png"].map((name) => ({ absPath: join(dir, name), relPath: name, root: dir }));
    const store = join(root, "incremental");
    const index = await ImageIndex.open(store, new DigitImageEmbeddings());
    const first = await index.indexFiles(files, {
      removeMissingUnder: [dir],
      describe: async (file) => ({ caption: `a scanned digit from ${file.relPath}` }),
    });
    expect(first).toMatchObject({ added: 20, failed: 1 });
    expect(first.failures[0]).toMatchObject({ path: join(dir, "corrupt.png"), code: "FILE_UNREADABLE" });
    await index.save();

    const reopened = await ImageIndex.open(store, new DigitImageEmbeddings());
    expect(reopened.size).toBe(20);
    const again = await reopened.indexFiles(files.slice(1), { removeMissingUnder: [dir] });
    expect(again).toMatchObject({ added: 0, unchanged: 19, deleted: 1, failed: 1 });
    const [hit] = await reopened.search("a digit", 1);
    expect(hit?.document.pageContent).toMatch(/^a scanned digit from /);
    await expect(reopened.search("  ")).rejects.toMatchObject({ code: "INVALID_INPUT" });
    class OtherEmbeddings extends DigitImageEmbeddings {
      override readonly modelId = "another-model";
    }
    await expect(ImageIndex.open(store, new OtherEmbeddings())).rejects.toMatchObject({ code: "MODEL_MISMATCH" });
  });
});

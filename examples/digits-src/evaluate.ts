/**
 * Measures text-to-image search over examples/digits with the shipped digit encoder:
 * precision@10 per digit for phrasings never seen in training (HELD_OUT_TEMPLATES × every
 * name of the digit), and, as a baseline, for the training phrasings. Writes
 * docs/digits-search.png: for each digit, the top ten images for "a handwritten <digit>".
 *
 * Run: npm run build:digits && npm run eval:digits
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp, { type OverlayOptions } from "sharp";
import { DigitImageEmbeddings } from "../../src/multimodal/digits/DigitImageEmbeddings.js";
import { DIGIT_NAMES, HELD_OUT_TEMPLATES, TRAIN_TEMPLATES } from "../../src/multimodal/digits/digitCaptions.js";
import { digitOfSource, digitPrecisionAtK } from "../../src/multimodal/digits/digitPrecision.js";
import { ImageIndex } from "../../src/multimodal/ImageIndex.js";

const here = dirname(fileURLToPath(import.meta.url));
const digitsDir = join(here, "..", "digits");
const files = readdirSync(digitsDir)
  .filter((name) => digitOfSource(name) !== undefined)
  .map((name) => ({ absPath: join(digitsDir, name), relPath: name }));
if (files.length === 0) throw new Error(`no <label>-<index>.png files in ${digitsDir}: run npm run build:digits`);

const tmp = mkdtempSync(join(tmpdir(), "genera-digits-eval-"));
try {
  const index = await ImageIndex.open(tmp, new DigitImageEmbeddings());
  await index.indexFiles(files);
  const heldOut = await digitPrecisionAtK(index, HELD_OUT_TEMPLATES);
  const seen = await digitPrecisionAtK(index, TRAIN_TEMPLATES);
  process.stdout.write(
    `${files.length} images; precision@10 per digit (mean over queries; worst query)\n\n` +
      "| digit | held-out phrasings | worst held-out query | training phrasings |\n|---|---|---|---|\n",
  );
  for (const row of heldOut) {
    process.stdout.write(
      `| ${row.digit} | ${row.mean.toFixed(3)} (${row.queries} queries) | ${row.worstQuery ? `${row.min.toFixed(1)} "${row.worstQuery}"` : "1.0 (all)"} | ${seen[row.digit]?.mean.toFixed(3)} |\n`,
    );
  }
  const meanOf = (rows: typeof heldOut) => rows.reduce((s, r) => s + r.mean, 0) / rows.length;
  process.stdout.write(`| all | ${meanOf(heldOut).toFixed(3)} | | ${meanOf(seen).toFixed(3)} |\n`);

  // A picture of the results: row d holds the top ten for "a handwritten <name of d>".
  const cell = 28;
  const gap = 4;
  const composites: OverlayOptions[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const hits = await index.search(`a handwritten ${DIGIT_NAMES[digit]?.[1]}`, 10);
    hits.forEach((hit, col) => {
      composites.push({
        input: join(digitsDir, hit.source),
        left: gap + col * (cell + gap),
        top: gap + digit * (cell + gap),
      });
    });
  }
  const side = gap + 10 * (cell + gap);
  const out = join(here, "..", "..", "docs", "digits-search.png");
  await sharp({ create: { width: side, height: side, channels: 3, background: "#808080" } })
    .composite(composites)
    .png()
    .toFile(out);
  process.stdout.write(`\nwrote ${out}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

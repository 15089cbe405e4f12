/**
 * Writes examples/digits/: the first PER_DIGIT digits of each class from the MNIST test
 * set (never seen in training), as 28×28 grey PNGs named `<label>-<index>.png`, where
 * index is the digit's place in the test set.
 *
 * Run: npm run build:digits
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { loadMnist } from "../../src/images/mnist.js";

const PER_DIGIT = 30;
const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "digits");

const test = loadMnist("test");
mkdirSync(outDir, { recursive: true });
// Only our own PNGs are replaced; anything else in the folder stays.
for (const name of readdirSync(outDir)) if (/^\d-\d+\.png$/.test(name)) rmSync(join(outDir, name));
const counts = new Array<number>(10).fill(0);
const size = test.rows * test.cols;
for (let i = 0; i < test.count && counts.some((c) => c < PER_DIGIT); i++) {
  const label = test.labels[i] as number;
  if ((counts[label] as number) >= PER_DIGIT) continue;
  counts[label] = (counts[label] as number) + 1;
  const grey = Buffer.from(Array.from(test.images.subarray(i * size, (i + 1) * size), (v) => Math.round(v * 255)));
  await sharp(grey, { raw: { width: test.cols, height: test.rows, channels: 1 } })
    .png({ compressionLevel: 9 })
    .toFile(join(outDir, `${label}-${i}.png`));
}
process.stdout.write(`wrote ${counts.reduce((a, b) => a + b, 0)} digits to ${outDir}\n`);

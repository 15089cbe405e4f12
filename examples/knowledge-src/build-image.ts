/**
 * Renders knowledge-src/attention-slide.txt into knowledge/attention-slide.png, a lecture
 * slide whose only content is text, so that OCR is the one way to index it.
 *
 * Source format: first line is the slide title, second line a formula, then "- " bullets.
 * Large black DejaVu Sans on white keeps the text within what PaddleOCR reads reliably.
 *
 * Run: node --import ./scripts/ts.mjs examples/knowledge-src/build-image.ts
 * Needs /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf (Debian: apt-get install fonts-dejavu-core).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createCanvas, GlobalFonts } from "@napi-rs/canvas";

const here = dirname(fileURLToPath(import.meta.url));
const sourcePath = join(here, "attention-slide.txt");
const outputPath = join(here, "..", "knowledge", "attention-slide.png");
const FONT_DIR = "/usr/share/fonts/truetype/dejavu";
const WIDTH = 1200;
const HEIGHT = 700;

function registerFont(file: string, alias: string): void {
  const path = join(FONT_DIR, file);
  if (!existsSync(path) || !GlobalFonts.registerFromPath(path, alias)) {
    throw new Error(`font ${path} is missing or unreadable (install fonts-dejavu-core)`);
  }
}

async function build(): Promise<void> {
  const lines = readFileSync(sourcePath, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  if (lines.length < 3) throw new Error(`${sourcePath}: expected a title, a formula and at least one bullet`);
  const [title, formula, ...bullets] = lines;

  registerFont("DejaVuSans.ttf", "SlideSans");
  registerFont("DejaVuSans-Bold.ttf", "SlideSansBold");

  const canvas = createCanvas(WIDTH, HEIGHT);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, WIDTH, HEIGHT);
  ctx.fillStyle = "#000000";
  ctx.textBaseline = "alphabetic";

  ctx.font = "52px SlideSansBold";
  ctx.fillText(title, 70, 110);
  ctx.fillRect(70, 135, WIDTH - 140, 4);

  ctx.font = "40px SlideSans";
  ctx.fillText(formula, 70, 225);

  const FIRST_BULLET_Y = 330;
  const BULLET_STEP = 82;
  if (FIRST_BULLET_Y + (bullets.length - 1) * BULLET_STEP > HEIGHT - 30) {
    throw new Error(`${sourcePath}: ${bullets.length} bullets do not fit on one ${WIDTH}x${HEIGHT} slide`);
  }

  ctx.font = "34px SlideSans";
  let y = FIRST_BULLET_Y;
  for (const bullet of bullets.map((b) => b.replace(/^- /, ""))) {
    ctx.beginPath();
    ctx.arc(88, y - 11, 7, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillText(bullet, 115, y);
    y += BULLET_STEP;
  }

  const png = await canvas.encode("png");
  writeFileSync(outputPath, png);
  console.log(`wrote ${outputPath}: ${WIDTH}x${HEIGHT}, ${png.length} bytes`);
}

await build();

/// <reference lib="dom" />
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { DigitImageEmbeddings } from "../../src/multimodal/digits/DigitImageEmbeddings.js";
import { ImageIndex } from "../../src/multimodal/ImageIndex.js";
import { imageDescriber, rememberingCaptioner } from "../../src/multimodal/imageDescriber.js";
import { TransformersJsCaptioner } from "../../src/multimodal/TransformersJsCaptioner.js";
import { TransformersJsTranscriber } from "../../src/multimodal/TransformersJsTranscriber.js";
import { type RunningServer, startServer } from "../../src/server/startServer.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { PdfWriter } from "../helpers/pdfWriter.js";
import { concat, tone, wav } from "../multimodal/fixtures/audio.js";
import { writeTinyCaptionModel } from "../multimodal/fixtures/tinyCaptionModel.js";
import { writeTinyWhisperModel } from "../multimodal/fixtures/tinyWhisperModel.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let dir: string;
let browser: Browser;
let running: RunningServer;
let kb: KnowledgeBase;
let captioner: TransformersJsCaptioner;
let transcriber: TransformersJsTranscriber;

/** A report whose one page has a line of text and a dark picture. */
async function reportPdf(): Promise<Uint8Array> {
  const pdf = new PdfWriter();
  const page = pdf.addPage(400, 300);
  page.text("The field report lists the lighthouse keepers.", { x: 20, y: 270, size: 11 });
  const dark = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#050505" } })
    .png()
    .toBuffer();
  page.image(dark, { x: 20, y: 40, width: 64, height: 64 });
  return pdf.save();
}

// A real server over a knowledge base holding a recording (quiet, then loud from 2.5 s) and a PDF
// with a picture; generated tiny Whisper and captioning models; Chromium whose microphone plays a loud tone.
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run installs Debian's chromium`);
  dir = mkdtempSync(join(tmpdir(), "genera-webui-multimodal-"));
  const docs = join(dir, "docs");
  mkdirSync(docs);
  // Quiet, then a loud tone from 2.5 s: cut into windows of at most 3 s at quiet moments, the
  // second window (from just before 2.5 s) is heard as "loud sound rings from the bell".
  writeFileSync(join(docs, "talk.wav"), wav(concat(tone(2.5, 16000, 0), tone(2.5, 16000, 0.8)), 16000));
  writeFileSync(join(docs, "report.pdf"), await reportPdf());
  const whisper = writeTinyWhisperModel(join(dir, "whisper"), { tail: ["rings", "from", "the", "bell"] });
  transcriber = new TransformersJsTranscriber({ model: whisper.dir });
  captioner = new TransformersJsCaptioner({ model: writeTinyCaptionModel(join(dir, "captioner")).dir });
  const shared = rememberingCaptioner(captioner);
  const images = await ImageIndex.open(join(dir, "index", "images"), new DigitImageEmbeddings(), {
    describe: imageDescriber({ captioner: shared }),
    caption: (bytes, label) => shared.caption(bytes, label),
  });
  kb = await KnowledgeBase.open({
    dir: join(dir, "index"),
    embeddings: new HashEmbeddings(),
    audio: { transcriber, windowSeconds: 3 },
    image: images.loadOptions(),
  });
  const summary = await kb.index([docs]);
  expect(summary.failures).toEqual([]);
  const config = loadConfig({
    env: {},
    cwd: dir,
    overrides: {
      dataDir: dir,
      server: { port: 0, folders: [] },
      multimodal: { speechModel: whisper.dir },
    },
  });
  running = await startServer({ config, kb, images, log: () => {} });
  const microphone = join(dir, "question.wav");
  writeFileSync(microphone, wav(tone(3, 48000, 0.8), 48000));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--autoplay-policy=no-user-gesture-required",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${microphone}`,
    ],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await running?.close();
  await kb?.close();
  await captioner?.close();
  await transcriber?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function ask(page: import("playwright-core").Page, question: string) {
  await page.fill("#question", question);
  await page.click("#send");
  await page.waitForFunction(() => !document.querySelector(".message.streaming"));
  await page.waitForFunction(() => document.querySelector(".message.assistant .sources li") !== null);
  return page.locator(".message.assistant").last();
}

describe("multimodal citations in the web UI (real Chromium)", () => {
  it("shows the picture a text question's answer cites, from inside a PDF", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const consoleErrors: string[] = [];
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    await page.goto(running.url);
    const answer = await ask(page, "Which picture is dark?");
    const cited = answer.locator(".sources li", { hasText: "report.pdf (p. 1 · image 1)" });
    await cited.waitFor();
    const img = cited.locator("img.cited-image");
    await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBe(64);
    expect(await img.getAttribute("src")).toBe("/api/images/file?source=report.pdf&image=1");
    // The citation opens the passage with the picture above its caption.
    await cited.locator("button").click();
    await expect.poll(() => page.locator("#passage-text").textContent()).toBe("a dark picture");
    await expect
      .poll(() => page.locator("#passage-media img").evaluate((el: HTMLImageElement) => el.naturalWidth))
      .toBe(64);
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it("plays a cited recording from the time its words are said", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(running.url);
    const answer = await ask(page, "What rings from the bell with a loud sound?");
    expect(await answer.locator(".answer").textContent()).toMatch(/loud sound rings from the bell/);
    const cited = answer.locator(".sources li", { hasText: "talk.wav (t=00:02–00:05)" });
    await cited.waitFor();
    const start = Number(await cited.locator("audio").getAttribute("data-start"));
    expect(start).toBeGreaterThan(2);
    expect(start).toBeLessThan(2.5);
    expect(await cited.locator("audio").getAttribute("src")).toBe(`/api/audio/file?source=talk.wav#t=${start}`);
    await cited.locator("button").click();
    const player = page.locator("#passage-media audio");
    // Opening the citation plays the recording from where "loud sound" begins.
    await expect
      .poll(
        () =>
          player.evaluate((el: HTMLAudioElement, at) => ({ from: el.currentTime >= at, playing: !el.paused }), start),
        { timeout: 15_000 },
      )
      .toEqual({ from: true, playing: true });
    // The recording is served with byte ranges, so the player can seek.
    const range = await fetch(`${running.url}/api/audio/file?source=talk.wav`, { headers: { Range: "bytes=44-99" } });
    expect(range.status).toBe(206);
    expect(range.headers.get("content-type")).toBe("audio/wav");
    await page.close();
  });

  it("asks a recorded question: the microphone's words are transcribed and answered", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const consoleErrors: string[] = [];
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    await page.goto(running.url);
    await page.click("#record");
    await expect.poll(() => page.locator("#record").getAttribute("aria-pressed")).toBe("true");
    await page.waitForTimeout(1500);
    await page.click("#record");
    // The fake microphone plays a loud tone, which the tiny Whisper model hears as "loud sound rings from the bell".
    await expect
      .poll(() => page.locator(".message.user .answer").last().textContent(), { timeout: 30_000 })
      .toBe("loud sound rings from the bell");
    await page.waitForFunction(() => document.querySelector(".message.assistant .sources li") !== null);
    await page.waitForFunction(() => !document.querySelector(".message.streaming"));
    expect(await page.locator(".message.assistant .sources").last().textContent()).toContain("talk.wav");
    expect(consoleErrors).toEqual([]);
    await page.close();
  });
});

/// <reference lib="dom" />
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, removeDir, startHarness } from "./serverHarness.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Screenshots of each run land here (git-ignored); docs/screenshots holds the README copy.
const SCREENSHOT_DIR = "test-results/screenshots";

let h: Harness;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run installs Debian's chromium`);
  h = await startHarness();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  if (h) removeDir(h.dataDir);
});

describe("web UI in a real Chromium", () => {
  it("streams an answer with sources, opens a citation, and learns an uploaded file", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const consoleErrors: string[] = [];
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    await page.goto(h.running.url);
    await expect(page.title()).resolves.toMatch(/genera/);
    await page.locator("#documents li").first().waitFor();

    await page.fill("#question", "What are the default betas of Adam?");
    await page.click("#send");
    const answer = page.locator(".message.assistant").last();
    await expect.poll(() => answer.locator(".answer").textContent(), { timeout: 20_000 }).toMatch(/0\.999/);
    await answer.locator(".sources li").first().waitFor();
    expect(await answer.locator(".sources").textContent()).toMatch(/optimizers\.md/);
    await page.waitForFunction(() => !document.querySelector(".message.streaming"));

    // A citation opens the cited passage.
    await answer.locator(".answer .cite").first().click();
    await expect.poll(() => page.locator("#passage-text").textContent()).toMatch(/betas/);
    await page.keyboard.press("Escape");

    // The session appears in the list.
    await expect.poll(() => page.locator("#sessions li").count()).toBeGreaterThan(0);

    // Upload a file through the file input (the drop zone's browse link), then ask about it.
    const file = join(h.dataDir, "okapi.md");
    writeFileSync(file, "# Okapi\n\nThe okapi is a forest giraffe from the Congo whose legs have zebra stripes.\n");
    await page.setInputFiles("#file-input", file);
    await page.locator('#uploads li[data-done="true"]').waitFor({ timeout: 20_000 });
    await page.fill("#question", "What is the okapi, the animal with zebra stripes on its legs?");
    await page.click("#send");
    const second = page.locator(".message.assistant").last();
    await expect.poll(() => second.locator(".answer").textContent(), { timeout: 20_000 }).toMatch(/okapi/i);
    await page.waitForFunction(() => !document.querySelector(".message.streaming"));
    expect(await second.locator(".sources").textContent()).toMatch(/okapi\.md/);

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, "chat.png"), fullPage: true });

    // An error from the server shows up in the error line.
    await page.route("**/api/chat/stream", (route) =>
      route.fulfill({
        status: 429,
        contentType: "application/json",
        body: JSON.stringify({ error: { code: "RATE_LIMITED", message: "Too many requests; slow down" } }),
      }),
    );
    await page.fill("#question", "Anything?");
    await page.click("#send");
    await expect.poll(() => page.locator("#error").textContent()).toMatch(/Too many requests/);
    expect(consoleErrors.filter((e) => !/429/.test(e))).toEqual([]);
    await page.close();
  });

  it("fits a phone screen", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 800 } });
    await page.goto(h.running.url);
    const box = await page.locator("#composer").boundingBox();
    expect(box && box.width <= 390).toBe(true);
    await page.click("#open-sidebar");
    await expect.poll(() => page.locator("#sidebar").evaluate((el) => el.classList.contains("open"))).toBe(true);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, "chat-mobile.png") });
    await page.close();
  });
});

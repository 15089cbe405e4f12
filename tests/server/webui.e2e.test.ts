/// <reference lib="dom" />
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, removeDir, startHarness } from "./serverHarness.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Screenshots of each run land here (git-ignored); docs/screenshots holds the README copy.
const SCREENSHOT_DIR = "test-results/screenshots";

const SCALING_MD = [
  "# Scaling",
  "",
  "## Why divide by √d_k",
  "",
  "The dot products grow with **d_k**, so they are *divided* by `sqrt(d_k)` before the softmax.",
  "",
  "- keeps the softmax soft",
  "- keeps gradients useful",
  "",
  '<img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> [run](javascript:window.__pwned=3)',
  "",
].join("\n");

let h: Harness;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run installs Debian's chromium`);
  h = await startHarness();
  // A Markdown passage with a heading that has an underscore, inline Markdown, a list, and
  // markup that must stay text: the citation dialog renders the first and escapes the rest.
  writeFileSync(join(h.dataDir, "docs", "scaling.md"), SCALING_MD);
  await h.kb.index([join(h.dataDir, "docs")]);
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

    await expect.poll(() => page.locator("#chat-title").textContent()).toBe("New chat");
    await page.fill("#question", "What are the default betas of Adam?");
    await page.click("#send");
    // The header names the chat after its first question, not "New chat", from the moment it is asked.
    await expect.poll(() => page.locator("#chat-title").textContent()).toBe("What are the default betas of Adam?");
    const answer = page.locator(".message.assistant").last();
    await expect.poll(() => answer.locator(".answer").textContent(), { timeout: 20_000 }).toMatch(/0\.999/);
    await answer.locator(".sources li").first().waitFor();
    expect(await answer.locator(".sources").textContent()).toMatch(/optimizers\.md/);
    await page.waitForFunction(() => !document.querySelector(".message.streaming"));
    expect(await page.locator("#chat-title").textContent()).toBe("What are the default betas of Adam?");
    expect(await page.title()).toMatch(/^What are the default betas of Adam\? — genera$/);

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

    // "New chat" starts over, and says so in the header.
    await page.click("#new-chat");
    await expect.poll(() => page.locator("#chat-title").textContent()).toBe("New chat");

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

  it("renders a cited Markdown passage, keeps d_k in headings, and never runs markup from a document", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const consoleErrors: string[] = [];
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    await page.goto(h.running.url);
    await page.fill("#question", "Why are the dot products divided by sqrt(d_k) before the softmax?");
    await page.click("#send");
    await page.waitForFunction(() => document.querySelector(".message.assistant .sources li") !== null);
    await page.waitForFunction(() => !document.querySelector(".message.streaming"));
    const source = page.locator(".message.assistant .sources button", { hasText: "scaling.md" }).first();
    // The heading path keeps its underscore (it used to read "Why divide by √dk").
    expect(await source.textContent()).toContain("Scaling › Why divide by √d_k");
    await source.click();

    const body = page.locator("#passage-text");
    await expect.poll(() => body.locator("h5").textContent()).toBe("Why divide by √d_k");
    await expect.poll(() => body.locator("h4").textContent()).toBe("Scaling");
    await expect.poll(() => body.locator("strong").textContent()).toBe("d_k");
    await expect.poll(() => body.locator("em").textContent()).toBe("divided");
    await expect.poll(() => body.locator("code").textContent()).toBe("sqrt(d_k)");
    await expect
      .poll(() => body.locator("li").allTextContents())
      .toEqual(["keeps the softmax soft", "keeps gradients useful"]);
    expect(await page.locator("#passage-where").textContent()).toContain("√d_k");
    const text = (await body.textContent()) ?? "";
    expect(text).not.toMatch(/\*\*|^#|## /m);
    // Markup in the document is shown as text: no element, no handler, no javascript: link.
    expect(text).toContain('<img src=x onerror="window.__pwned=1">');
    expect(text).toContain("<script>");
    expect(await body.locator("img, script, iframe, [onerror]").count()).toBe(0);
    expect(await body.locator("a").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, "passage.png") });
    await page.keyboard.press("Escape");
    expect(consoleErrors).toEqual([]);
    await page.close();
  });

  it("fits a phone screen: the closed drawer is gone, the open one dims the page and closes on a tap beside it", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true });
    await page.goto(h.running.url);
    const box = await page.locator("#composer").boundingBox();
    expect(box && box.width <= 390).toBe(true);

    // Closed: nothing of the drawer shows (its shadow used to leave a grey strip at the left edge).
    const sidebar = page.locator("#sidebar");
    await expect.poll(() => sidebar.isVisible()).toBe(false);
    expect(await sidebar.evaluate((el) => getComputedStyle(el).boxShadow)).toBe("none");
    await expect.poll(() => page.locator("#scrim").isVisible()).toBe(false);
    const leftEdge = await page.evaluate(() => document.elementFromPoint(2, 400)?.closest("#sidebar"));
    expect(leftEdge).toBeNull();

    await page.click("#open-sidebar");
    await expect.poll(() => sidebar.isVisible()).toBe(true);
    await expect.poll(() => sidebar.evaluate((el) => el.getBoundingClientRect().left)).toBe(0);
    expect(await page.locator("#open-sidebar").getAttribute("aria-expanded")).toBe("true");
    // Open: the page behind is dimmed by a scrim over the whole screen, beside the drawer included.
    const scrim = page.locator("#scrim");
    await expect.poll(() => scrim.isVisible()).toBe(true);
    expect(await scrim.boundingBox()).toEqual({ x: 0, y: 0, width: 390, height: 800 });
    expect(await scrim.evaluate((el) => getComputedStyle(el).backgroundColor)).toMatch(/rgba\(0, 0, 0, 0\.\d+\)/);
    expect(await page.evaluate(() => document.elementFromPoint(380, 400)?.id)).toBe("scrim");
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, "chat-mobile.png") });

    await page.mouse.click(380, 400);
    await expect.poll(() => sidebar.isVisible()).toBe(false);
    await expect.poll(() => scrim.isVisible()).toBe(false);
    await page.click("#open-sidebar");
    await expect.poll(() => sidebar.isVisible()).toBe(true);
    await page.keyboard.press("Escape");
    await expect.poll(() => sidebar.isVisible()).toBe(false);
    await page.close();
  });
});

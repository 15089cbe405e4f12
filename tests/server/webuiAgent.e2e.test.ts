/// <reference lib="dom" />
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, removeDir, startHarness } from "./serverHarness.js";

const POLL = { timeout: 30_000 };

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT_DIR = "test-results/screenshots";

let h: Harness;
let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}; .ci/run installs Debian's chromium`);
  h = await startHarness();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  if (h) removeDir(h.dataDir);
});

describe("web UI agent mode in a real Chromium", () => {
  it("runs a task with tools and folds its steps under the answer", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const consoleErrors: string[] = [];
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    await page.goto(h.running.url);
    await page.check("#agent-mode");
    await page.fill("#question", "search the documents for the Adam optimizer");
    await page.click("#send");
    const answer = page.locator(".message.assistant.agent").last();
    // expect.poll gives up after 1 s by default; an agent run on a loaded machine takes longer.
    await expect.poll(() => answer.evaluate((el) => el.classList.contains("streaming")), POLL).toBe(false);
    await expect(answer.locator(".answer").textContent()).resolves.toMatch(/betas are 0\.9 and 0\.999/);
    await expect(answer.locator(".answer .cite").count()).resolves.toBeGreaterThan(0);
    const steps = answer.locator("details.steps");
    await expect(steps.evaluate((el) => (el as HTMLDetailsElement).open)).resolves.toBe(false);
    await expect(steps.locator("summary").textContent()).resolves.toBe("2 steps");
    // The header names the conversation after its first task (not "New chat" beside an answer).
    expect(await page.locator("#chat-title").textContent()).toBe("search the documents for the Adam optimizer");
    await steps.locator("summary").click();
    await expect(steps.locator("li.step").first().textContent()).resolves.toContain("search_documents");
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, "agent.png") });

    await page.fill("#question", "What is 15% of 240?");
    await page.click("#send");
    const second = page.locator(".message.assistant.agent").last();
    await expect.poll(() => second.locator(".answer").textContent(), POLL).toBe("15% of 240 = 36.");
    expect(await page.locator("#chat-title").textContent()).toBe("search the documents for the Adam optimizer");
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});

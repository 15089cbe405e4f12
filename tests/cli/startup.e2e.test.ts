import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PdfWriter } from "../helpers/pdfWriter.js";

/**
 * What start-up loads, by name rather than by time (time is bench:cli's): each run records every
 * module it loads (ESM through a loader hook, CommonJS through Module._load), and the tests say
 * which libraries a command must not pay for before it needs them.
 */
const exec = promisify(execFile);
const ROOT = resolve(".");
let dir: string;
let hooks: string[];

/** The server, the model runtimes, SQLite, HNSW, document parsers: loaded only when used. */
const HEAVY = [
  "express",
  "onnxruntime-node",
  "@huggingface/transformers",
  "@gutenye/ocr-node",
  "sharp",
  "better-sqlite3",
  "hnswlib-node",
  "mammoth",
  "yaml",
  "langchain",
  "@langchain/langgraph",
];
/** The image stack: the image encoder, OCR and captioning. */
const IMAGE_STACK = ["@huggingface/transformers", "@gutenye/ocr-node", "sharp", "/multimodal/digits/"];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Packages (by name) and genera's own compiled files (dist/…) that were loaded. */
  loaded: string[];
}

async function traced(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const log = join(dir, `loads-${Math.random().toString(36).slice(2)}.txt`);
  const options = {
    cwd: ROOT,
    env: { ...process.env, ...env, GENERA_TRACE_LOADS: log },
    maxBuffer: 8 << 20,
  };
  let result: { code: number; stdout: string; stderr: string };
  try {
    result = { code: 0, ...(await exec(process.execPath, [...hooks, ...args], options)) };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    result = { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
  const lines = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
  const loaded = new Set<string>();
  for (const line of lines) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(line)?.[1];
    if (pkg) loaded.add(pkg);
    else if (line.includes("/dist/")) loaded.add(`dist/${line.split("/dist/")[1]}`);
  }
  return { ...result, loaded: [...loaded] };
}

const anyOf = (loaded: string[], names: string[]) =>
  loaded.filter((m) => names.some((n) => (n.includes("/multimodal/") ? m.includes(n) : m === n)));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "genera-startup-"));
  writeFileSync(
    join(dir, "hook.mjs"),
    `import { appendFileSync } from "node:fs";
export async function load(url, context, next) {
  appendFileSync(process.env.GENERA_TRACE_LOADS, url + "\\n");
  return next(url, context);
}
`,
  );
  writeFileSync(
    join(dir, "register.mjs"),
    `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hook.mjs")).href)});\n`,
  );
  writeFileSync(
    join(dir, "cjs.cjs"),
    `const Module = require("node:module");
const { appendFileSync } = require("node:fs");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (...args) {
  const file = resolve.apply(this, args);
  appendFileSync(process.env.GENERA_TRACE_LOADS, file + "\\n");
  return file;
};
`,
  );
  hooks = ["--require", join(dir, "cjs.cjs"), "--import", pathToFileURL(join(dir, "register.mjs")).href];
  mkdirSync(join(dir, "text"));
  writeFileSync(join(dir, "text", "tea.md"), "# Tea\n\nGreen tea is steeped at about 80 degrees.\n");
  writeFileSync(join(dir, "text", "coffee.txt"), "An espresso is brewed at 9 bars of pressure.\n");
  mkdirSync(join(dir, "pictures"));
  const dark = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#050505" } })
    .png()
    .toBuffer();
  writeFileSync(join(dir, "pictures", "moon.png"), dark);
  const pdf = new PdfWriter();
  pdf.addPage(300, 200).image(dark, { x: 20, y: 20, width: 64, height: 64 });
  writeFileSync(join(dir, "pictures", "report.pdf"), await pdf.save());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("start-up loads only what the command needs", () => {
  it("importing the root export loads no server, model runtime, SQLite, HNSW or document parser", async () => {
    const run = await traced(["--input-type=module", "-e", 'await import("genera")']);
    expect(run.code).toBe(0);
    expect(run.loaded).toContain("dist/src/index.js");
    expect(anyOf(run.loaded, HEAVY)).toEqual([]);
  });

  it("a flag error is reported before LangChain, the stores or the server load", async () => {
    for (const args of [
      ["search", "x", "--k", "abc"],
      ["index", join(dir, "text"), "--chunk-size", "abc"],
      ["serve", "--port", "abc"],
    ]) {
      const run = await traced(["bin/genera.js", ...args], { GENERA_DATA_DIR: join(dir, "data-flags") });
      expect(run.code, args.join(" ")).toBe(1);
      expect(run.stderr).toMatch(/--(k|chunk-size|port) /);
      expect(anyOf(run.loaded, [...HEAVY, "@langchain/core"]), args.join(" ")).toEqual([]);
    }
  });

  it("`genera index` over text files leaves the image stack unloaded and creates no image index", {
    timeout: 120_000,
  }, async () => {
    const data = join(dir, "data-text");
    const run = await traced(["bin/genera.js", "index", join(dir, "text"), "--json"], {
      GENERA_DATA_DIR: data,
      GENERA_EMBEDDINGS_WORKERS: "1",
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ added: 2, failed: 0 });
    expect(anyOf(run.loaded, IMAGE_STACK)).toEqual([]);
    expect(existsSync(join(data, "index", "images"))).toBe(false);
  });

  it("opens the image index at the first image: stand-alone and inside a PDF, then searchable", {
    timeout: 300_000,
  }, async () => {
    const env = { GENERA_DATA_DIR: join(dir, "data-pictures"), GENERA_EMBEDDINGS_WORKERS: "1" };
    const run = await traced(["bin/genera.js", "index", join(dir, "pictures"), "--json"], env);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { images: { added: number; failed: number } };
    expect(summary.images).toMatchObject({ added: 1, failed: 0 });
    expect(run.loaded.some((m) => m.includes("/multimodal/digits/"))).toBe(true);

    const search = await traced(["bin/genera.js", "search", "a dark picture", "--images", "--json"], env);
    expect(search.code, search.stderr).toBe(0);
    const sources = (JSON.parse(search.stdout) as { results: Array<{ source: string }> }).results.map((r) => r.source);
    // The PNG by its path, the PDF's picture through the copy the index keeps.
    expect(sources).toEqual(expect.arrayContaining(["moon.png", "report.pdf"]));
  });
});

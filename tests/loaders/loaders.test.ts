import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DirectoryLoader, type WalkedFile, walkFiles } from "../../loaders/DirectoryLoader.js";
import { decodeText } from "../../loaders/decodeText.js";
import { loadFile } from "../../loaders/loadFile.js";
import { isGeneraError } from "../../src/errors.js";
import { writeTree } from "./fixtures.js";

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "genera-loaders-"));
  await writeTree(dir);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function failureOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isGeneraError(error)) return error;
    throw error;
  }
  throw new Error("expected a GeneraError");
}

describe("walkFiles", () => {
  it("lists every loadable file, skipping hidden, node_modules, binary and loops", async () => {
    const skipped: Array<[string, string]> = [];
    const files: WalkedFile[] = [];
    for await (const f of walkFiles([dir], { onSkip: (p, r) => skipped.push([p, r]) })) files.push(f);
    const rel = files.map((f) => f.relPath);
    expect(rel).toContain("notes/attention.md");
    expect(rel).toContain("reports/quarterly.pdf");
    expect(rel).toContain("loop/inner.txt");
    expect(rel).toContain("text/utf16.txt");
    expect(rel.some((p) => p.includes(".hidden") || p.includes(".draft"))).toBe(false);
    expect(rel.some((p) => p.includes("node_modules"))).toBe(false);
    expect(rel).not.toContain("bin/blob.dat");
    // The loop folder is reached once; its links back to itself and to the root are cut.
    expect(rel.filter((p) => p.endsWith("inner.txt"))).toHaveLength(1);
    expect(skipped.some(([p, r]) => p.endsWith("blob.dat") && r === "binary")).toBe(true);
    expect(skipped.some(([p, r]) => p.endsWith("again") && r.includes("already visited"))).toBe(true);
    const md = files.find((f) => f.relPath === "notes/attention.md") as WalkedFile;
    expect(md.root).toBe(dir);
    expect(md.size).toBeGreaterThan(100);
    expect(md.mtimeMs).toBeGreaterThan(0);
  });

  it("applies include/exclude patterns and glob roots", async () => {
    const collect = async (roots: string[], opts = {}) => {
      const out: string[] = [];
      for await (const f of walkFiles(roots, opts)) out.push(f.relPath);
      return out;
    };
    expect(await collect([dir], { include: ["*.md"] })).toEqual(["notes/attention.md"]);
    const noReports = await collect([dir], { exclude: ["reports", "data/*.csv"] });
    expect(noReports.some((p) => p.startsWith("reports/"))).toBe(false);
    expect(noReports).not.toContain("data/people.csv");
    expect(noReports).toContain("data/events.jsonl");
    expect(await collect([`${dir}/data/*.csv`])).toEqual(["people.csv"]);
    expect(await collect([join(dir, "src/util.ts")])).toEqual(["util.ts"]);
    writeFileSync(join(dir, "src/pic.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
    expect(await collect([join(dir, "src")])).toEqual(["pic.png", "util.ts"]);
    expect(await collect([join(dir, "src")], { images: false })).toEqual(["util.ts"]);
    rmSync(join(dir, "src/pic.png"));
  });

  it("throws NOT_FOUND for a missing root", async () => {
    const error = await failureOf(walkFiles([join(dir, "nope")]).next());
    expect(error.code).toBe("NOT_FOUND");
  });
});

describe("loadFile", () => {
  const load = (rel: string, opts = {}) => loadFile(join(dir, rel), { root: dir, ...opts });

  it("Markdown: front matter becomes metadata, headings stay in the text", async () => {
    const [doc] = await load("notes/attention.md");
    expect(doc?.metadata).toMatchObject({
      source: "notes/attention.md",
      title: "Attention Notes",
      format: "markdown",
      tags: ["ml", "transformers"],
      date: "2024-03-01T00:00:00.000Z",
      line: 7,
    });
    expect(doc?.pageContent.startsWith("# Attention\n")).toBe(true);
    expect(doc?.pageContent).toContain("## Scaled dot-product");
    expect(doc?.pageContent).not.toContain("title: Attention Notes");
  });

  it("Markdown without front matter takes the first # heading, else the file name", async () => {
    writeFileSync(join(dir, "plain.md"), "Intro line.\n\n# Real Title\n\nText.");
    writeFileSync(join(dir, "untitled.md"), "Just text.");
    expect((await load("plain.md"))[0]?.metadata.title).toBe("Real Title");
    expect((await load("untitled.md"))[0]?.metadata.title).toBe("untitled");
  });

  it("MDX: import/export lines are blanked, keeping line numbers", async () => {
    writeFileSync(
      join(dir, "page.mdx"),
      'import Chart from "./Chart"\n\n# Charts\n\n<Chart />\n\n```js\nimport x from "y";\n```\n',
    );
    const [doc] = await load("page.mdx");
    expect(doc?.pageContent.startsWith("\n\n# Charts")).toBe(true);
    expect(doc?.pageContent).toContain('import x from "y";');
    expect(doc?.metadata.title).toBe("Charts");
  });

  it("HTML: main text only, headings as # lines, title from <title>", async () => {
    const [doc] = await load("web/guide.html");
    const text = doc?.pageContent ?? "";
    expect(doc?.metadata).toMatchObject({ title: "Genera Guide", description: "How to use genera", lang: "en" });
    expect(text).toContain("# Installing genera");
    expect(text).toContain("## Requirements");
    expect(text).toContain("Run the installer and wait.");
    expect(text).toContain("- Node 20");
    expect(text).toContain("```bash\nnpm install genera\ngenera index ./docs\n```");
    expect(text).toContain("Flag: --watch | Meaning: re-index on change");
    for (const dropped of [
      "secretScript",
      "inlineScript",
      "Navigation link",
      "Sidebar advert",
      "Copyright footer",
      "banner",
    ]) {
      expect(text).not.toContain(dropped);
    }
  });

  it("PDF: one document per page with page numbers and the PDF title", async () => {
    const docs = await load("reports/quarterly.pdf");
    expect(docs).toHaveLength(2);
    expect(docs[0]?.metadata).toMatchObject({ page: 1, totalPages: 2, title: "Quarterly Report", format: "pdf" });
    expect(docs[0]?.pageContent).toContain("revenue growth");
    expect(docs[1]?.metadata.page).toBe(2);
    expect(docs[1]?.pageContent).toContain("hire five engineers");
  });

  it("PDF: encrypted and corrupt files fail with FILE_UNREADABLE and a reason", async () => {
    const locked = await failureOf(load("reports/locked.pdf"));
    expect(locked.code).toBe("FILE_UNREADABLE");
    expect(locked.details?.reason).toMatch(/^encrypted/);
    expect(locked.message).toContain("locked.pdf");
    const broken = await failureOf(load("reports/broken.pdf"));
    expect(broken.code).toBe("FILE_UNREADABLE");
    expect(String(broken.details?.reason)).toMatch(/corrupt PDF/);
  });

  it("DOCX: heading styles become # lines", async () => {
    const [doc] = await load("docs/handbook.docx");
    expect(doc?.metadata).toMatchObject({ title: "Employee Handbook", format: "docx" });
    expect(doc?.pageContent).toBe(
      "# Employee Handbook\n\nWelcome to the company.\n\n## Holidays\n\nEveryone gets twenty-five days of holiday.",
    );
  });

  it("CSV: one document per row with header names, row index and start line", async () => {
    const docs = await load("data/people.csv");
    expect(docs).toHaveLength(2);
    expect(docs[0]?.pageContent).toBe("name: Ada\nrole: engineer\nbio: Wrote the first\nprogram");
    expect(docs[0]?.metadata).toMatchObject({ row: 0, line: 2, fields: { name: "Ada", role: "engineer" } });
    expect(docs[1]?.metadata).toMatchObject({ row: 1, line: 4 });
  });

  it("CSV: semicolon delimiter is sniffed; TSV uses tabs", async () => {
    writeFileSync(join(dir, "semi.csv"), "a;b\n1;2\n");
    writeFileSync(join(dir, "tabs.tsv"), "x\ty\n3\t4\n");
    expect((await load("semi.csv"))[0]?.pageContent).toBe("a: 1\nb: 2");
    expect((await load("tabs.tsv"))[0]?.pageContent).toBe("x: 3\ny: 4");
  });

  it("JSONL: text field, scalar fields as metadata, line numbers", async () => {
    const docs = await load("data/events.jsonl");
    expect(docs.map((d) => d.pageContent)).toEqual(["The launch happened on Monday.", "The review was on Friday."]);
    expect(docs[0]?.metadata).toMatchObject({ id: 1, kind: "launch", line: 1, textField: "text" });
    expect(docs[1]?.metadata).toMatchObject({ id: 2, kind: "review", line: 3, textField: "body" });
    expect(docs[1]?.metadata.nested).toBeUndefined();
  });

  it("JSON: arrays give one document per element; textField is configurable; bad JSON fails", async () => {
    writeFileSync(
      join(dir, "items.json"),
      JSON.stringify([
        { title: "First", summary: "Short", description: "A long description of the first item in the list." },
        { title: "Second", summary: "Another", description: "" },
        "a bare string element",
      ]),
    );
    const docs = await load("items.json");
    expect(docs.map((d) => d.pageContent)).toEqual([
      "A long description of the first item in the list.",
      "title: Second\nsummary: Another",
      "a bare string element",
    ]);
    expect(docs[0]?.metadata).toMatchObject({ title: "First", index: 0, summary: "Short" });
    const bySummary = await load("items.json", { json: { textField: "summary" } });
    expect(bySummary[0]?.pageContent).toBe("Short");
    writeFileSync(join(dir, "bad.jsonl"), '{"text": "ok"}\n{not json}\n');
    const error = await failureOf(load("bad.jsonl"));
    expect(error.details?.reason).toMatch(/line 2/);
  });

  it("code: language metadata and the file name as title", async () => {
    const [doc] = await load("src/util.ts");
    expect(doc?.metadata).toMatchObject({ format: "code", language: "js", title: "util.ts", line: 1 });
    expect(doc?.pageContent).toContain("export class Counter");
  });

  it("text: UTF-16 with BOM decodes; Latin-1 decodes; what is none of them is an unknown encoding", async () => {
    const [doc] = await load("text/utf16.txt");
    expect(doc?.pageContent).toBe("Grüße aus UTF-16 — café\n");
    expect(doc?.metadata.encoding).toBe("utf-16le");
    const [latin1] = await load("text/latin1.txt");
    expect(latin1?.pageContent).toMatch(/^café crème brûlée à la française, très élégant/);
    expect(latin1?.metadata.encoding).toBe("iso-8859-1");
  });

  it("decodeText reads Latin-1 and Windows-1252 and refuses other legacy encodings", () => {
    // Windows-1252: the euro sign and curly quotes sit in 0x80–0x9F, where Latin-1 has controls.
    const cp1252 = Buffer.from([
      ...Buffer.from("Price: ", "latin1"),
      0x80,
      ...Buffer.from(" 12, ", "latin1"),
      0x93,
      ...Buffer.from("d\xe9j\xe0 vu", "latin1"),
      0x94,
      ...Buffer.from(" \x96 na\xefve co\xf6peration\n", "latin1"),
    ]);
    expect(decodeText(cp1252, "x")).toEqual({
      text: "Price: € 12, “déjà vu” – naïve coöperation\n",
      encoding: "windows-1252",
    });
    // One accented letter in a long ASCII file is still Latin-1, not UTF-8 with a hole in it.
    const sparse = Buffer.from(`${"plain ascii words ".repeat(200)}Zürich\n`, "latin1");
    expect(decodeText(sparse, "x")).toMatchObject({ encoding: "iso-8859-1" });
    expect(decodeText(sparse, "x").text).toContain("Zürich");
    // UTF-8 with one damaged byte stays UTF-8.
    const damaged = Buffer.concat([
      Buffer.from("naïve café ".repeat(20), "utf8"),
      Buffer.from([0xff]),
      Buffer.from(" end"),
    ]);
    expect(decodeText(damaged, "x").encoding).toBe("utf-8");
    // Shift-JIS (日本語のテキスト) and KOI8-R Russian are not Western text: refused, not garbled.
    const sjis = Buffer.from([
      0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x82, 0xcc, 0x83, 0x65, 0x83, 0x4c, 0x83, 0x58, 0x83, 0x67,
    ]);
    const koi8 = Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4, 0x20, 0xcd, 0xc9, 0xd2, 0x0a]);
    for (const bytes of [sjis, koi8]) {
      expect(() => decodeText(Buffer.concat([bytes, bytes, bytes]), "x")).toThrow(/unknown encoding/);
    }
  });

  it("decodeText handles UTF-8 BOM, UTF-16 BE and BOM-less UTF-16", () => {
    expect(decodeText(Buffer.from("\ufeffhi", "utf8"), "x")).toEqual({ text: "hi", encoding: "utf-8-bom" });
    const be = Buffer.from("hello", "utf16le").swap16();
    expect(decodeText(Buffer.concat([Buffer.from([0xfe, 0xff]), be]), "x").text).toBe("hello");
    expect(decodeText(Buffer.from("plain ascii text", "utf16le"), "x")).toEqual({
      text: "plain ascii text",
      encoding: "utf-16le",
    });
  });

  it("CRLF line ends are normalised so Markdown structure is still seen", async () => {
    writeFileSync(join(dir, "windows.md"), "---\r\ntitle: Win\r\n---\r\n# Head\r\n\r\nBody line.\r\n");
    const [doc] = await load("windows.md");
    expect(doc?.pageContent).toBe("# Head\n\nBody line.\n");
    expect(doc?.metadata).toMatchObject({ title: "Win", line: 4 });
  });

  it("plain text: the title is the first top-level underlined heading, else the file's name", async () => {
    writeFileSync(
      join(dir, "faq.rst"),
      ":tocdepth: 2\n\n===========\nGeneral FAQ\n===========\n\nWhat is it?\n-----------\n\nA language.\n",
    );
    writeFileSync(join(dir, "notes.txt"), "Some notes.\n\nMore notes.\n");
    expect((await load("faq.rst"))[0]?.metadata.title).toBe("General FAQ");
    expect((await load("notes.txt"))[0]?.metadata.title).toBe("notes");
  });

  it("HTML without <main>: a single <article> is the main text and keeps its own header", async () => {
    writeFileSync(
      join(dir, "post.html"),
      "<html><body><header>Site name</header><article><header><h1>Post title</h1></header><p>Post body.</p><footer>Tags: a, b</footer></article><footer>(c) site</footer></body></html>",
    );
    const [doc] = await load("post.html");
    expect(doc?.pageContent).toBe("# Post title\n\nPost body.\n\nTags: a, b");
    expect(doc?.metadata.title).toBe("Post title");
  });

  it("uses bytes the caller already read instead of reading again", async () => {
    const [doc] = await load("src/util.ts", { bytes: Buffer.from("export const fromBytes = 1;\n") });
    expect(doc?.pageContent).toBe("export const fromBytes = 1;\n");
    expect((await failureOf(load("src/util.ts", { bytes: Buffer.alloc(20), maxFileBytes: 10 }))).code).toBe(
      "TOO_LARGE",
    );
  });

  it("too large, missing, unsupported binary and empty files", async () => {
    const big = await failureOf(load("notes/attention.md", { maxFileBytes: 10 }));
    expect(big.code).toBe("TOO_LARGE");
    expect(big.details?.path).toBe(join(dir, "notes/attention.md"));
    expect((await failureOf(load("missing.txt"))).details?.reason).toBe("file not found");
    expect((await failureOf(load("bin/blob.dat"))).code).toBe("UNSUPPORTED_FILE");
    expect(await load("empty.txt")).toEqual([]);
  });
});

describe("DirectoryLoader", () => {
  it("loads every format, records failures and goes on", async () => {
    const loader = new DirectoryLoader(dir);
    const docs = await loader.load();
    expect(docs.every((d) => d instanceof Document)).toBe(true);
    const sources = new Set(docs.map((d) => d.metadata.source));
    for (const s of [
      "notes/attention.md",
      "web/guide.html",
      "reports/quarterly.pdf",
      "docs/handbook.docx",
      "data/people.csv",
      "data/events.jsonl",
      "src/util.ts",
      "text/utf16.txt",
      "text/latin1.txt",
      "loop/inner.txt",
    ]) {
      expect(sources).toContain(s);
    }
    const failures = Object.fromEntries(loader.failures.map((f) => [f.path, f]));
    expect(failures["reports/locked.pdf"]).toMatchObject({ code: "FILE_UNREADABLE" });
    expect(failures["reports/locked.pdf"]?.reason).toMatch(/encrypted/);
    expect(failures["reports/broken.pdf"]).toMatchObject({ code: "FILE_UNREADABLE" });
    expect(failures["text/latin1.txt"]).toBeUndefined();
    expect(loader.filesLoaded).toBeGreaterThanOrEqual(9);
  });
});

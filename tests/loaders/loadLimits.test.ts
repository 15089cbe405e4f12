import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateRawSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { walkFiles } from "../../loaders/DirectoryLoader.js";
import { loadFile } from "../../loaders/loadFile.js";
import { loadFailure as failure } from "./fixtures.js";

// Issue 13 item 1 and issue 12 item 4: what a file may inflate to or produce is bounded,
// whatever its size on disk; compressed text is indexed.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "genera-limits-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bounded loaders", () => {
  it("refuses an image whose header promises too many pixels before decoding it", async () => {
    const png = Buffer.alloc(64);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(png, 0);
    png.writeUInt32BE(13, 8);
    png.write("IHDR", 12, "latin1");
    png.writeUInt32BE(100_000, 16);
    png.writeUInt32BE(100_000, 20);
    const path = join(dir, "huge.png");
    writeFileSync(path, png);
    const { code, reason } = await failure(loadFile(path));
    expect(code).toBe("TOO_LARGE");
    expect(reason).toMatch(/100000 × 100000 pixels/);
  });
});

describe("gzip-compressed text", () => {
  it("loads .gz files by their inner name and keeps the .gz path as source", async () => {
    const md = join(dir, "notes.md.gz");
    writeFileSync(md, gzipSync("# Release notes\n\nThe gzip loader reads compressed Markdown.\n"));
    const [doc] = await loadFile(md, { root: dir });
    expect(doc?.metadata).toMatchObject({ source: "notes.md.gz", format: "markdown", title: "Release notes" });
    const plain = join(dir, "changelog.gz");
    writeFileSync(plain, gzipSync("version 2.0: compressed changelogs are indexed too\n"));
    expect((await loadFile(plain))[0]?.pageContent).toMatch(/compressed changelogs/);
  });

  it("refuses a gzip bomb and damaged gzip data with clear codes", async () => {
    const bomb = join(dir, "bomb.txt.gz");
    writeFileSync(bomb, gzipSync(Buffer.alloc(100 * 1024 * 1024, "a"), { level: 9 }));
    const big = await failure(loadFile(bomb));
    expect(big.code).toBe("TOO_LARGE");
    expect(big.reason).toMatch(/inflates to more than 64 MiB/);
    const broken = join(dir, "broken.txt.gz");
    writeFileSync(broken, Buffer.concat([gzipSync("hello world ".repeat(100)).subarray(0, 20), deflateRawSync("x")]));
    expect((await failure(loadFile(broken))).code).toBe("FILE_UNREADABLE");
  });

  it("the walker lists .gz files and passes over compressed archives, saying why", async () => {
    const tree = join(dir, "tree");
    mkdirSync(tree);
    writeFileSync(join(tree, "README.gz"), gzipSync("read me\n"));
    writeFileSync(join(tree, "bundle.tar.gz"), gzipSync(Buffer.alloc(1024)));
    writeFileSync(join(tree, "bundle.tgz"), gzipSync(Buffer.alloc(1024)));
    const skipped: string[] = [];
    const listed: string[] = [];
    for await (const file of walkFiles(tree, { onSkip: (path, reason) => skipped.push(`${path}: ${reason}`) })) {
      listed.push(file.relPath);
    }
    expect(listed).toEqual(["README.gz"]);
    expect(skipped.join("\n")).toMatch(/bundle\.tar\.gz: compressed archive/);
    expect(skipped.join("\n")).toMatch(/bundle\.tgz: compressed archive/);
  });
});

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFileTools } from "../../src/agents/tools/fileTools.js";

const base = mkdtempSync(join(tmpdir(), "genera-files-"));
const root = join(base, "root");

beforeAll(() => {
  mkdirSync(join(root, "notes"), { recursive: true });
  writeFileSync(join(root, "notes", "a.md"), "# A\nhello");
  writeFileSync(join(root, "big.txt"), "x".repeat(5000));
  writeFileSync(join(base, "secret.txt"), "top secret");
  symlinkSync(join(base, "secret.txt"), join(root, "link-out.txt"));
  symlinkSync(base, join(root, "dir-out"));
  symlinkSync(join(root, "notes", "a.md"), join(root, "link-in.md"));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("list_files / read_file", () => {
  it("list and read inside the root", async () => {
    const { listFiles, readFile } = createFileTools({ roots: [root] });
    const listing = await listFiles.invoke({ path: "." });
    expect(listing).toContain("notes/");
    expect(listing).toContain("big.txt");
    expect(await readFile.invoke({ path: "notes/a.md" })).toContain("hello");
    expect(await readFile.invoke({ path: "link-in.md" })).toContain("hello");
  });

  it("cut files at the size limit", async () => {
    const { readFile } = createFileTools({ roots: [root], maxReadBytes: 100 });
    const text = await readFile.invoke({ path: "big.txt" });
    expect(text).toContain("first 100 of 5000 bytes");
    expect(text.length).toBeLessThan(300);
  });

  it.each([
    ["../secret.txt", /leads out of the root/],
    ["notes/../../secret.txt", /leads out of the root/],
    [join(base, "secret.txt"), /absolute paths/],
    ["/etc/passwd", /absolute paths/],
    ["notes/a.md\0.txt", /NUL/],
    ["link-out.txt", /link that points out/],
    ["dir-out/secret.txt", /link that points out/],
  ])("refuse %j", async (path, why) => {
    const { readFile, listFiles } = createFileTools({ roots: [root] });
    await expect(readFile.invoke({ path })).rejects.toThrow(why);
    await expect(listFiles.invoke({ path })).rejects.toThrow(why);
  });

  it("say NOT_FOUND for missing files", async () => {
    const { readFile } = createFileTools({ roots: [root] });
    await expect(readFile.invoke({ path: "nope.md" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

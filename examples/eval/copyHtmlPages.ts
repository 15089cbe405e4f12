/**
 * What the eval sets built from a Debian package's HTML folder share: every page copied unmodified
 * into the set's corpus/, the way a user would index the folder, with a clear error naming the
 * package when it is not installed.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

export function copyHtmlPages(fromDir: string, debianPackage: string, outDir: string): string[] {
  if (!existsSync(fromDir)) {
    throw new Error(`${fromDir} is missing: install the Debian package ${debianPackage}`);
  }
  const pages = readdirSync(fromDir)
    .filter((f) => f.endsWith(".html"))
    .sort();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const page of pages) copyFileSync(join(fromDir, page), join(outDir, page));
  return pages;
}

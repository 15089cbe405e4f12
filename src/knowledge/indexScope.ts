import { statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import picomatch from "picomatch";
import { compileGlobs } from "../../loaders/DirectoryLoader.js";

/**
 * What one `index` run looked at: a stored file is in scope when the same paths, globs and
 * include/exclude filters would have listed it. Cleanup removes only in-scope files the walk
 * did not find, so `genera index docs/one.md` never touches docs/two.md, and
 * `--include "*.md"` never touches the .txt files it filtered out.
 */
export function indexScope(
  paths: string[],
  filters: { include?: string[]; exclude?: string[] },
): (absPath: string) => boolean {
  const include = compileGlobs(filters.include);
  const exclude = compileGlobs(filters.exclude);
  const roots = paths.map((input) => {
    const scan = picomatch.scan(input);
    const abs = resolve(scan.isGlob ? scan.base || "." : input);
    let isFile = false;
    try {
      isFile = !scan.isGlob && statSync(abs).isFile();
    } catch {
      // A path that is gone covers nothing: the walk already refused it.
    }
    return { abs, isFile, glob: scan.isGlob ? picomatch(scan.glob, { dot: true }) : undefined };
  });
  return (absPath) =>
    roots.some((root) => {
      if (root.isFile) return absPath === root.abs;
      const rel = relative(root.abs, absPath);
      if (!rel || rel.startsWith("..") || isAbsolute(rel)) return false;
      const posix = rel.split(sep).join("/");
      const parts = posix.split("/");
      // The walk never enters hidden entries or node_modules, nor folders the exclude globs drop.
      if (parts.some((part) => part.startsWith(".") || part === "node_modules")) return false;
      for (let i = 1; i < parts.length; i++) if (exclude?.(parts.slice(0, i).join("/"))) return false;
      if (root.glob && !root.glob(posix)) return false;
      if (include && !include(posix)) return false;
      return !exclude?.(posix);
    });
}

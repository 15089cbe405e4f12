import { open, readdir, realpath, stat } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { GeneraError } from "../../errors.js";

export interface FileToolsOptions {
  /** Folders the tools may read; nothing outside them is reachable. */
  roots: string[];
  /** read_file returns at most this many bytes of a file (default 64 KiB). */
  maxReadBytes?: number;
  /** list_files returns at most this many entries (default 200). */
  maxEntries?: number;
}

/**
 * Paths the model gives are relative to a root ("notes/a.md", or "docs:notes/a.md" to
 * name the root when there are several). The path is resolved, then its real path
 * (symlinks followed) must still lie inside the root's real path: `..`, absolute
 * paths, NUL bytes and links that point out are refused with the same error.
 */
export class FileRoots {
  private readonly roots: Array<{ name: string; dir: string }>;

  constructor(roots: string[]) {
    if (roots.length === 0) throw new GeneraError("CONFIG_INVALID", "File tools need at least one root folder");
    const names = new Map<string, number>();
    this.roots = roots.map((dir) => {
      const abs = resolve(dir);
      const base = abs.split(sep).filter(Boolean).pop() ?? "root";
      const seen = names.get(base) ?? 0;
      names.set(base, seen + 1);
      return { name: seen ? `${base}${seen + 1}` : base, dir: abs };
    });
  }

  get names(): string[] {
    return this.roots.map((r) => r.name);
  }

  /** The real absolute path inside a root; INVALID_INPUT for a path that leaves it, NOT_FOUND for none. */
  async resolve(path: string): Promise<{ abs: string; display: string }> {
    if (typeof path !== "string") throw new GeneraError("INVALID_INPUT", "The path must be a string");
    if (path.includes("\0")) throw outside(path, "it contains a NUL byte");
    let root = this.roots[0] as { name: string; dir: string };
    let rest = path.trim() === "" ? "." : path.trim();
    const named = /^([^:/\\]+):(.*)$/.exec(rest);
    if (named && this.roots.some((r) => r.name === named[1])) {
      root = this.roots.find((r) => r.name === named[1]) as { name: string; dir: string };
      rest = named[2] === "" ? "." : (named[2] as string);
    }
    if (isAbsolute(rest) || /^[A-Za-z]:[\\/]/.test(rest) || rest.startsWith("\\")) {
      throw outside(path, "absolute paths are not allowed; give a path relative to a root");
    }
    const candidate = resolve(root.dir, rest);
    if (!inside(root.dir, candidate)) throw outside(path, "it leads out of the root folder");
    let real: string;
    let rootReal: string;
    try {
      rootReal = await realpath(root.dir);
      real = await realpath(candidate);
    } catch {
      // A dangling link reads as a missing file: where it points is not the model's business.
      throw new GeneraError("NOT_FOUND", `No file or folder "${path}" under the allowed roots`, { details: { path } });
    }
    if (!inside(rootReal, real)) throw outside(path, "it is a link that points out of the root folder");
    const display = relative(rootReal, real) || ".";
    return { abs: real, display: this.roots.length > 1 ? `${root.name}:${display}` : display };
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

function outside(path: string, why: string): GeneraError {
  return new GeneraError(
    "INVALID_INPUT",
    `The path "${path.replace(/\0/g, "\\0").slice(0, 200)}" is not allowed: ${why}`,
    {
      details: { path: path.replace(/\0/g, "\\0").slice(0, 200) },
    },
  );
}

export function createFileTools(options: FileToolsOptions) {
  const roots = new FileRoots(options.roots);
  const maxReadBytes = options.maxReadBytes ?? 64 * 1024;
  const maxEntries = options.maxEntries ?? 200;
  const rootHint = roots.names.length > 1 ? ` Roots: ${roots.names.join(", ")} (prefix a path with "root:").` : "";

  const listFiles = tool(
    async ({ path }) => {
      const { abs, display } = await roots.resolve(path ?? ".");
      const info = await stat(abs);
      if (!info.isDirectory()) return `${display} is a file of ${info.size} bytes`;
      const entries = (await readdir(abs, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
      const lines = entries.slice(0, maxEntries).map((e) => (e.isDirectory() ? `${e.name}/` : e.name));
      const more = entries.length > maxEntries ? `\n… and ${entries.length - maxEntries} more` : "";
      return `${display === "." ? "(root)" : display}:\n${lines.join("\n") || "(empty)"}${more}`;
    },
    {
      name: "list_files",
      description: `Lists the files and folders in a folder under the allowed roots.${rootHint}`,
      schema: z.object({ path: z.string().optional().describe('A folder relative to the root; "." for the root') }),
    },
  );

  const readFile = tool(
    async ({ path }) => {
      const { abs, display } = await roots.resolve(path);
      const info = await stat(abs);
      if (info.isDirectory()) {
        throw new GeneraError("INVALID_INPUT", `${display} is a folder; use list_files to see what it holds`);
      }
      const handle = await open(abs, "r");
      try {
        const buffer = Buffer.alloc(Math.min(info.size, maxReadBytes));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        const bytes = buffer.subarray(0, bytesRead);
        if (bytes.includes(0)) return `${display} is a binary file of ${info.size} bytes`;
        const cut = info.size > maxReadBytes ? `\n… (first ${maxReadBytes} of ${info.size} bytes)` : "";
        return `${display}:\n${bytes.toString("utf8")}${cut}`;
      } finally {
        await handle.close();
      }
    },
    {
      name: "read_file",
      description: `Reads a text file under the allowed roots (the first ${Math.round(maxReadBytes / 1024)} KiB).${rootHint}`,
      schema: z.object({ path: z.string().describe("A file path relative to the root") }),
    },
  );

  return { listFiles, readFile, roots };
}

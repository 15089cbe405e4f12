import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative } from "node:path";
import { GeneraError } from "../../errors.js";

export interface CorpusFile {
  path: string;
  text: string;
}

const TEXT_EXTENSIONS = new Set([".md", ".txt", ".markdown"]);

/**
 * Read a training corpus: a single file, or every .md/.txt file under a folder
 * (sorted by path, so the token stream and hence the validation split are the
 * same on every run). Hidden folders and node_modules are skipped.
 */
export function readCorpusFiles(path: string): CorpusFile[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (error) {
    throw new GeneraError("NOT_FOUND", `corpus ${path} does not exist`, { cause: error, details: { path } });
  }
  if (st.isFile()) return [{ path, text: readText(path) }];
  const out: CorpusFile[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && TEXT_EXTENSIONS.has(extname(entry.name).toLowerCase()))
        out.push({ path: p, text: readText(p) });
    }
  };
  walk(path);
  if (out.length === 0) {
    throw new GeneraError("INVALID_INPUT", `corpus folder ${path} contains no .md or .txt files`, {
      details: { path },
    });
  }
  return out.map((f) => ({ ...f, path: relative(process.cwd(), f.path) || f.path }));
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new GeneraError("FILE_UNREADABLE", `cannot read corpus file ${path}: ${(error as Error).message}`, {
      cause: error,
      details: { path },
    });
  }
}

/** The whole corpus as one text, files separated by a blank line. */
export function readCorpus(path: string): string {
  return readCorpusFiles(path)
    .map((f) => f.text.trim())
    .join("\n\n");
}

import { basename, extname } from "node:path";
import { Document } from "@langchain/core/documents";
import { decodeText } from "./decodeText.js";
import { type FileContext, fileMetadata } from "./FileContext.js";

/**
 * Extension → language name. Where LangChain's RecursiveCharacterTextSplitter knows the
 * language, its name is used ("js", "python", "cpp"…) so the splitter can ask for its
 * separators; the rest get a descriptive name and generic line-based splitting.
 */
export const CODE_LANGUAGES: Readonly<Record<string, string>> = {
  ".ts": "js",
  ".tsx": "js",
  ".mts": "js",
  ".cts": "js",
  ".js": "js",
  ".jsx": "js",
  ".mjs": "js",
  ".cjs": "js",
  ".py": "python",
  ".pyi": "python",
  ".go": "go",
  ".rs": "rust",
  ".java": "java",
  ".kt": "kotlin",
  ".scala": "scala",
  ".swift": "swift",
  ".c": "cpp",
  ".h": "cpp",
  ".cc": "cpp",
  ".cpp": "cpp",
  ".cxx": "cpp",
  ".hpp": "cpp",
  ".hh": "cpp",
  ".cs": "csharp",
  ".rb": "ruby",
  ".php": "php",
  ".proto": "proto",
  ".sol": "sol",
  ".tex": "latex",
  ".sh": "shell",
  ".bash": "shell",
  ".zsh": "shell",
  ".ps1": "powershell",
  ".css": "css",
  ".scss": "css",
  ".less": "css",
  ".sql": "sql",
  ".yaml": "yaml",
  ".yml": "yaml",
  ".toml": "toml",
  ".ini": "ini",
  ".cfg": "ini",
  ".xml": "xml",
  ".lua": "lua",
  ".r": "r",
  ".pl": "perl",
  ".dart": "dart",
  ".vue": "html",
  ".svelte": "html",
};

/** Extension-less files that are code by convention. */
const CODE_FILE_NAMES: Readonly<Record<string, string>> = {
  Makefile: "make",
  Dockerfile: "docker",
  Jenkinsfile: "groovy",
};

export function languageForPath(path: string): string | undefined {
  const name = basename(path);
  return CODE_LANGUAGES[extname(name).toLowerCase()] ?? CODE_FILE_NAMES[name];
}

/** Source code: one document with `language`, titled by file name (with extension: `utils.ts` ≠ `utils.py`). */
export function loadCode(bytes: Uint8Array, ctx: FileContext, language: string): Document[] {
  const { text, encoding } = decodeText(bytes, ctx.absPath);
  if (!text.trim()) return [];
  return [
    new Document({
      pageContent: text,
      metadata: { ...fileMetadata(ctx, "code", basename(ctx.relPath || ctx.absPath)), language, encoding, line: 1 },
    }),
  ];
}

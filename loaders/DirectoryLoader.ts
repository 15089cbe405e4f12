import type { Dirent } from "node:fs";
import { open, readdir, realpath, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { BaseDocumentLoader } from "@langchain/core/document_loaders/base";
import type { Document } from "@langchain/core/documents";
import { isBinaryFile } from "isbinaryfile";
import picomatch from "picomatch";
import { GeneraError, type GeneraErrorCode, isGeneraError } from "../src/errors.js";
import { BINARY_FORMAT_EXTENSIONS, formatForPath, type LoadFileOptions, loadFile } from "./loadFile.js";
import { IMAGE_EXTENSIONS } from "./loadImage.js";

export interface WalkOptions {
  /** Globs a file's path (relative to its root) must match, any of them; none = every file. */
  include?: string[];
  /** Globs that drop files and whole folders. A pattern without "/" matches a name at any depth. */
  exclude?: string[];
  /** Passed along to the loader; the walker still lists bigger files so they are reported, not silently lost. */
  maxFileBytes?: number;
  /** List images (read by OCR, about a second each on one core). Default true. */
  images?: boolean;
  /** Told about every file or folder passed over (hidden, node_modules, binary, excluded, loop…). */
  onSkip?: (path: string, reason: string) => void;
}

export interface WalkedFile {
  absPath: string;
  /** Relative to `root`, POSIX slashes. */
  relPath: string;
  /** The folder this file was found under (for a file given directly: its folder). */
  root: string;
  size: number;
  mtimeMs: number;
}

type Matcher = (path: string) => boolean;

/**
 * Patterns without a slash match the base name at any depth ("*.md", "drafts");
 * the others match the whole relative path ("docs/**\/*.md").
 */
export function compileGlobs(patterns: string[] | undefined): Matcher | undefined {
  if (!patterns?.length) return undefined;
  const matchers = patterns.map((p) => {
    const pattern = p.replace(/^\.\//, "");
    const isMatch = picomatch(pattern, { dot: true });
    return pattern.includes("/") ? isMatch : (path: string) => isMatch(path.slice(path.lastIndexOf("/") + 1));
  });
  return (path) => matchers.some((m) => m(path));
}

interface RootPlan {
  input: string;
  abs: string;
  /** The glob part of a root such as "docs/**\/*.md", matched against paths relative to `abs`. */
  glob?: Matcher;
  isFile: boolean;
}

/**
 * Lists the files under the given folders, files or globs, one at a time: each folder
 * is read when the walk reaches it, so memory grows with the depth and the largest
 * single folder, not with the tree. Within a folder, files come before sub-folders,
 * each in name order. Skips hidden entries, node_modules and binary
 * files (except the binary formats a loader reads: PDF, DOCX, images). Follows
 * symbolic links, remembering the real path of every folder (and file) already seen,
 * so a link loop ends and a file reachable twice is listed once.
 *
 * A root that does not exist throws NOT_FOUND before anything is listed.
 */
export async function* walkFiles(roots: string | string[], options: WalkOptions = {}): AsyncGenerator<WalkedFile> {
  const include = compileGlobs(options.include);
  const exclude = compileGlobs(options.exclude);
  const skip = options.onSkip ?? (() => {});
  const plans: RootPlan[] = [];
  for (const input of Array.isArray(roots) ? roots : [roots]) {
    const scan = picomatch.scan(input);
    const base = scan.isGlob ? scan.base || "." : input;
    const abs = resolve(base);
    let isFile = false;
    try {
      const info = await stat(abs);
      isFile = info.isFile();
      if (!isFile && !info.isDirectory()) {
        throw new GeneraError("INVALID_INPUT", `${input} is neither a file nor a folder`, { details: { path: input } });
      }
    } catch (error) {
      if (isGeneraError(error)) throw error;
      throw new GeneraError("NOT_FOUND", `Path not found: ${input}`, { cause: error, details: { path: input } });
    }
    plans.push({ input, abs, isFile, glob: scan.isGlob ? picomatch(scan.glob, { dot: true }) : undefined });
  }

  const seenDirs = new Set<string>();
  const seenFiles = new Set<string>();

  /**
   * Everything about one file that needs the disk (link target, size, binary sniff),
   * or undefined when it is passed over. `real` is its path with no links in it.
   */
  async function inspectFile(
    absPath: string,
    relPath: string,
    real: string | undefined,
    glob: Matcher | undefined,
  ): Promise<{ file: Omit<WalkedFile, "root">; real: string } | undefined> {
    if ((include && !include(relPath)) || (glob && !glob(relPath))) return undefined;
    if (exclude?.(relPath)) {
      skip(absPath, "excluded");
      return undefined;
    }
    const ext = extname(absPath).toLowerCase();
    if (ARCHIVE_NAME.test(absPath)) {
      skip(absPath, "compressed archive (.tar.gz, .tgz): unpack it to index its files");
      return undefined;
    }
    if (options.images === false && IMAGE_EXTENSIONS.includes(ext)) {
      skip(absPath, "image (OCR turned off)");
      return undefined;
    }
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(absPath);
      real ??= await realpath(absPath);
    } catch {
      skip(absPath, "broken symbolic link");
      return undefined;
    }
    if (!info.isFile()) {
      skip(absPath, "not a regular file");
      return undefined;
    }
    if (needsSniff(absPath, ext) && (await looksBinary(absPath))) {
      skip(absPath, "binary");
      return undefined;
    }
    return { file: { absPath, relPath, size: Number(info.size), mtimeMs: Number(info.mtimeMs) }, real };
  }

  /**
   * One folder: its files first (inspected a batch at a time, since the disk work
   * overlaps well), then its sub-folders, each in name order so runs are repeatable.
   * `realDir` is the folder's link-free path: a child that is not itself a link has
   * the real path realDir/name, so only links cost a realpath call.
   */
  async function* walkDir(
    root: string,
    dir: string,
    realDir: string,
    relDir: string,
    glob?: Matcher,
  ): AsyncGenerator<WalkedFile> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      skip(dir, `cannot read folder (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const files: Dirent[] = [];
    const dirs: Array<{ entry: Dirent; real?: string }> = [];
    for (const entry of entries) {
      const absPath = join(dir, entry.name);
      if (entry.name.startsWith(".")) skip(absPath, "hidden");
      else if (entry.name === "node_modules") skip(absPath, "node_modules");
      else if (entry.isDirectory()) dirs.push({ entry, real: join(realDir, entry.name) });
      else if (entry.isFile()) files.push(entry);
      else if (entry.isSymbolicLink()) {
        try {
          if ((await stat(absPath)).isDirectory()) dirs.push({ entry });
          else files.push(entry);
        } catch {
          skip(absPath, "broken symbolic link");
        }
      } else skip(absPath, "not a regular file");
    }

    for (let i = 0; i < files.length; i += INSPECT_BATCH) {
      const batch = files.slice(i, i + INSPECT_BATCH);
      const inspected = await Promise.all(
        batch.map((entry) =>
          inspectFile(
            join(dir, entry.name),
            relDir ? `${relDir}/${entry.name}` : entry.name,
            entry.isSymbolicLink() ? undefined : join(realDir, entry.name),
            glob,
          ),
        ),
      );
      for (const item of inspected) {
        if (!item) continue;
        if (seenFiles.has(item.real)) {
          skip(item.file.absPath, "already listed through another path");
          continue;
        }
        seenFiles.add(item.real);
        yield { ...item.file, root };
      }
    }

    for (const { entry, real: known } of dirs) {
      const absPath = join(dir, entry.name);
      const relPath = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (exclude?.(relPath)) {
        skip(absPath, "excluded");
        continue;
      }
      let real = known;
      try {
        real ??= await realpath(absPath);
      } catch {
        skip(absPath, "broken symbolic link");
        continue;
      }
      if (seenDirs.has(real)) {
        skip(absPath, "folder already visited (symbolic link loop or duplicate)");
        continue;
      }
      seenDirs.add(real);
      yield* walkDir(root, absPath, real, relPath, glob);
    }
  }

  for (const plan of plans) {
    const real = await realpath(plan.abs);
    if (plan.isFile) {
      // A file named explicitly is always listed: if it cannot be loaded, the user should hear why.
      if (seenFiles.has(real)) continue;
      seenFiles.add(real);
      const info = await stat(plan.abs);
      yield {
        absPath: plan.abs,
        relPath: basename(plan.abs),
        root: dirname(plan.abs),
        size: Number(info.size),
        mtimeMs: Number(info.mtimeMs),
      };
      continue;
    }
    if (seenDirs.has(real)) continue;
    seenDirs.add(real);
    yield* walkDir(plan.abs, plan.abs, real, "", plan.glob);
  }
}

/** Archives hold many files of any kind: the walker passes over them (plain `.gz` files are loaded). */
const ARCHIVE_NAME = /\.(tar\.gz|tgz)$/i;

/** Files inspected at once in a folder: enough to keep the disk busy, few enough to bound open handles. */
const INSPECT_BATCH = 16;

/**
 * Prose and data formats are never binary by convention, so a surprise there is
 * reported by the loader (as an encoding failure) rather than skipped; code extensions
 * are sniffed because some clash with binary formats (`.ts` is also MPEG transport stream).
 */
function needsSniff(absPath: string, ext: string): boolean {
  if (BINARY_FORMAT_EXTENSIONS.includes(ext)) return false;
  const format = formatForPath(absPath);
  return format === undefined || format === "code";
}

/**
 * Binary sniff on the first 4 KiB. A file with a text extension whose head has no NUL
 * byte is kept even if it looks binary (Latin-1, Shift-JIS): the loader then reports
 * its encoding instead of the walk hiding it. Unreadable files are kept for the same reason.
 */
async function looksBinary(absPath: string): Promise<boolean> {
  let head: Buffer;
  try {
    const handle = await open(absPath, "r");
    try {
      const buffer = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
  if (!head.length || !(await isBinaryFile(head, head.length))) return false;
  return formatForPath(absPath) === undefined || head.includes(0);
}

export interface LoadFailure {
  /** Path relative to its root, as in `metadata.source`. */
  path: string;
  absPath: string;
  reason: string;
  code: GeneraErrorCode;
}

export interface DirectoryLoaderOptions extends WalkOptions, Omit<LoadFileOptions, "relPath" | "root"> {}

/**
 * LangChain document loader over folders, files and globs: walks them with
 * {@link walkFiles} and loads each file with {@link loadFile}. A file that fails is
 * recorded in `failures` and the walk goes on; `failures` is reset by each load.
 */
export class DirectoryLoader extends BaseDocumentLoader {
  readonly paths: string[];
  readonly options: DirectoryLoaderOptions;
  failures: LoadFailure[] = [];
  /** Files that produced at least one document in the last load. */
  filesLoaded = 0;

  constructor(paths: string | string[], options: DirectoryLoaderOptions = {}) {
    super();
    this.paths = Array.isArray(paths) ? paths : [paths];
    this.options = options;
  }

  async load(): Promise<Document[]> {
    const docs: Document[] = [];
    for await (const doc of this.loadAsync()) docs.push(doc);
    return docs;
  }

  async *loadAsync(): AsyncGenerator<Document> {
    this.failures = [];
    this.filesLoaded = 0;
    const { include, exclude, onSkip, images, ...loadOptions } = this.options;
    for await (const file of walkFiles(this.paths, { include, exclude, onSkip, images })) {
      let docs: Document[];
      try {
        docs = await loadFile(file.absPath, { ...loadOptions, relPath: file.relPath, root: file.root });
      } catch (error) {
        this.failures.push({
          path: file.relPath,
          absPath: file.absPath,
          code: isGeneraError(error) ? error.code : "FILE_UNREADABLE",
          reason: isGeneraError(error)
            ? String(error.details?.reason ?? error.message)
            : error instanceof Error
              ? error.message
              : String(error),
        });
        continue;
      }
      if (docs.length) this.filesLoaded++;
      yield* docs;
    }
  }
}

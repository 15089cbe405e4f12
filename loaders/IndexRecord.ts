import { existsSync, readFileSync } from "node:fs";
import { GeneraError } from "../src/errors.js";
import { atomicWriteFileSync } from "../src/util/atomicWrite.js";

/** What the index holds for one source file. */
export interface IndexRecordEntry {
  /** sha256 of the file's bytes. */
  hash: string;
  size: number;
  mtimeMs: number;
  chunkIds: string[];
  /** The root the file was indexed from (absolute), so a later run knows which roots it owns. */
  root: string;
  indexedAt: string;
}

interface IndexRecordFile {
  format: "genera-index-record";
  version: 1;
  modelId: string;
  entries: Record<string, IndexRecordEntry>;
}

/**
 * The record of what is indexed: source → content hash and chunk ids, plus the
 * embedding model id. It is what lets `index` skip unchanged files, replace the
 * chunks of changed ones and clean up deleted ones (LangChain's indexing API with
 * cleanup "full"). Saved as one atomic JSON file beside the indexes.
 */
export class IndexRecord {
  readonly entries = new Map<string, IndexRecordEntry>();

  constructor(readonly modelId: string) {}

  static load(path: string, modelId: string): IndexRecord {
    const record = new IndexRecord(modelId);
    if (!existsSync(path)) return record;
    let parsed: IndexRecordFile;
    try {
      parsed = JSON.parse(readFileSync(path, "utf8")) as IndexRecordFile;
    } catch (error) {
      throw new GeneraError("INDEX_CORRUPT", `Index record ${path} is not valid JSON`, {
        cause: error,
        details: { path },
      });
    }
    if (parsed?.format !== "genera-index-record" || parsed.version !== 1 || typeof parsed.entries !== "object") {
      throw new GeneraError("INDEX_CORRUPT", `Index record ${path} has an unknown format`, { details: { path } });
    }
    if (parsed.modelId !== modelId) {
      throw new GeneraError(
        "MODEL_MISMATCH",
        `The index at ${path} was built with embedding model "${parsed.modelId}", not "${modelId}"; re-index into a new --store or use that model`,
        { details: { path, expected: parsed.modelId, actual: modelId } },
      );
    }
    for (const [source, entry] of Object.entries(parsed.entries)) record.entries.set(source, entry);
    return record;
  }

  save(path: string): void {
    const file: IndexRecordFile = {
      format: "genera-index-record",
      version: 1,
      modelId: this.modelId,
      entries: Object.fromEntries(this.entries),
    };
    atomicWriteFileSync(path, JSON.stringify(file));
  }

  get chunkCount(): number {
    let n = 0;
    for (const entry of this.entries.values()) n += entry.chunkIds.length;
    return n;
  }
}

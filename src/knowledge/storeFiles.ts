import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** The embedded store's files in its folder: one SQLite database and the HNSW graph beside it. */
export const STORE_FILE = "store.sqlite";
export const GRAPH_FILE = /^graph-(\d+)\.hnsw$/;

/** Bytes the embedded store takes in `dir` (the database with its WAL, and the graph). */
export function storeSizeBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    if (name.startsWith(STORE_FILE) || GRAPH_FILE.test(name)) total += statSync(join(dir, name)).size;
  }
  return total;
}

export interface StoreSummary {
  documents: number;
  chunks: number;
  model: string | undefined;
  dimension: number | undefined;
  indexBytes: number;
  dir: string;
}

/**
 * What `genera stats` shows, read from the database alone: opening the store would load the
 * graph and the keyword postings, which costs seconds on a large index. Undefined when `dir`
 * holds no store yet.
 */
export async function readStoreSummary(dir: string): Promise<StoreSummary | undefined> {
  const path = join(dir, STORE_FILE);
  if (!existsSync(path)) return undefined;
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const meta = new Map(
      (db.prepare("SELECT key, value FROM meta").all() as Array<{ key: string; value: string }>).map((r) => [
        r.key,
        r.value,
      ]),
    );
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      documents: count("sources"),
      chunks: count("chunks"),
      model: meta.get("modelId"),
      dimension: meta.has("dimension") ? Number(meta.get("dimension")) : undefined,
      indexBytes: storeSizeBytes(dir),
      dir,
    };
  } finally {
    db.close();
  }
}

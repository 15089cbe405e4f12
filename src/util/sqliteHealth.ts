import type Database from "better-sqlite3";

/**
 * SQLite result codes that mean the file itself is damaged (rather than busy, locked
 * or read-only): a truncated or overwritten database, or one that is no database at all.
 */
const DAMAGE_CODES = /^SQLITE_(CORRUPT|NOTADB|IOERR_SHORT_READ)/;

/** Whether an error thrown by better-sqlite3 says the database file is damaged. */
export function isDamagedDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && DAMAGE_CODES.test(code);
}

/**
 * SQLite's quick_check (page structure and record format, O(file size), no index
 * cross-check): undefined when the file is sound, else the first problems it found.
 * A file too damaged to check at all throws the damage error instead.
 */
export function quickCheck(db: Database.Database): string | undefined {
  const rows = db.pragma("quick_check(5)") as Array<{ quick_check: string }>;
  const problems = rows.map((r) => r.quick_check).filter((line) => line !== "ok");
  return problems.length ? problems.join("; ") : undefined;
}

/** The message of a damage error or quick_check finding, for people. */
export function damageDetail(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === "string" ? `${code}: ${message}` : message;
}

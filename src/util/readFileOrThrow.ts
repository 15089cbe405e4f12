import { readFileSync } from "node:fs";
import { GeneraError } from "../errors.js";

/**
 * Reads a file, turning failures into GeneraErrors that name what the file was for and
 * where it is: NOT_FOUND when it is missing, FILE_UNREADABLE for anything else.
 */
export function readFileOrThrow(path: string, what: string): Buffer;
export function readFileOrThrow(path: string, what: string, encoding: "utf8"): string;
export function readFileOrThrow(path: string, what: string, encoding?: "utf8"): Buffer | string {
  try {
    return encoding ? readFileSync(path, encoding) : readFileSync(path);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new GeneraError(
      missing ? "NOT_FOUND" : "FILE_UNREADABLE",
      missing ? `${what} ${path} does not exist` : `cannot read ${what} ${path}: ${(error as Error).message}`,
      { cause: error, details: { path } },
    );
  }
}

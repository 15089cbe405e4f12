import { GeneraError, type GeneraErrorCode } from "../src/errors.js";

export type FileErrorCode = Extract<GeneraErrorCode, "FILE_UNREADABLE" | "UNSUPPORTED_FILE" | "TOO_LARGE">;

/**
 * The one shape every loader failure takes, so the directory walker and the CLI can
 * report `{ path, reason, code }` without parsing messages.
 */
export function fileError(code: FileErrorCode, path: string, reason: string, cause?: unknown): GeneraError {
  return new GeneraError(code, `Cannot load ${path}: ${reason}`, { cause, details: { path, reason } });
}

/** Wraps an unexpected parser error as FILE_UNREADABLE, passing GeneraErrors through untouched. */
export function asFileError(error: unknown, path: string, what: string): GeneraError {
  if (error instanceof GeneraError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return fileError("FILE_UNREADABLE", path, `${what}: ${message}`, error);
}

/**
 * Every user-facing failure in genera is a GeneraError with a stable `code`, so
 * callers (CLI, server, library users) can branch on the code and show the message.
 *
 * Codes in use (add new ones here, in UPPER_SNAKE_CASE):
 * - INVALID_INPUT       a value passed by the caller is malformed (wrong type, NaN, wrong dimension…)
 * - NOT_FOUND           a named thing (id, file, session, model) does not exist
 * - MODEL_NOT_FOUND     an embedding / generation model could not be found where we looked
 * - MODEL_MISMATCH      an index was built with another embedding model or dimension
 * - INDEX_CORRUPT       an index / record / checkpoint file is damaged or of an unknown format
 * - UNSUPPORTED_FILE    a file type no loader handles
 * - FILE_UNREADABLE     a file exists but cannot be read (corrupt, encrypted, encoding, too large)
 * - CONFIG_INVALID      configuration failed validation
 * - PROVIDER_UNAVAILABLE a configured model provider / server cannot be reached
 * - NO_GENERATOR        the operation needs a generative model and none is configured
 * - NOT_IMPLEMENTED     a provider or feature that this build does not offer yet
 * - FORBIDDEN           the request may not be made from where it came (another site, an unknown Host)
 * - PORT_IN_USE         the server's port is already taken by another process
 */
export type GeneraErrorCode =
  | "INVALID_INPUT"
  | "NOT_FOUND"
  | "MODEL_NOT_FOUND"
  | "MODEL_MISMATCH"
  | "INDEX_CORRUPT"
  | "UNSUPPORTED_FILE"
  | "FILE_UNREADABLE"
  | "CONFIG_INVALID"
  | "PROVIDER_UNAVAILABLE"
  | "NO_GENERATOR"
  | "NOT_IMPLEMENTED"
  | "PORT_IN_USE"
  | "CONFLICT"
  | "TOO_LARGE"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "RATE_LIMITED"
  | "ABORTED"
  | "INTERNAL";

export interface GeneraErrorOptions {
  cause?: unknown;
  /** Structured facts for machines (the offending path, id, expected dimension…). */
  details?: Record<string, unknown>;
}

export class GeneraError extends Error {
  readonly code: GeneraErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: GeneraErrorCode, message: string, options: GeneraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GeneraError";
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: GeneraErrorCode; message: string; details?: Record<string, unknown> } {
    return { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export function isGeneraError(value: unknown): value is GeneraError {
  return value instanceof GeneraError;
}

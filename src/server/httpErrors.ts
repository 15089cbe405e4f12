import type { ErrorRequestHandler, Request } from "express";
import type { z } from "zod";
import { GeneraError, type GeneraErrorCode, isGeneraError } from "../errors.js";

const STATUS: Partial<Record<GeneraErrorCode, number>> = {
  INVALID_INPUT: 400,
  CONFIG_INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_LARGE: 413,
  UNSUPPORTED_FILE: 415,
  FILE_UNREADABLE: 422,
  NO_GENERATOR: 422,
  RATE_LIMITED: 429,
  // nginx's "client closed request": only ever seen in logs, the client is gone.
  ABORTED: 499,
  NOT_IMPLEMENTED: 501,
  PROVIDER_UNAVAILABLE: 502,
  MODEL_MISMATCH: 500,
  INDEX_CORRUPT: 500,
  INTERNAL: 500,
};

export function statusOf(error: GeneraError): number {
  return STATUS[error.code] ?? 500;
}

/** Parses a request part with a zod schema, turning failures into INVALID_INPUT that names the fields. */
export function parseInput<S extends z.ZodTypeAny>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || what}: ${i.message}`).join("; ");
    throw new GeneraError("INVALID_INPUT", `Invalid ${what}: ${issues}`, { details: { issues: result.error.issues } });
  }
  return result.data;
}

/** Body-parser and multer errors carry their own shapes; give them our codes. */
function normalise(error: unknown): GeneraError {
  if (isGeneraError(error)) return error;
  const e = error as { type?: string; code?: string; status?: number; message?: string; field?: string };
  if (e?.type === "entity.too.large") return new GeneraError("TOO_LARGE", "Request body is too large");
  if (e?.type === "entity.parse.failed") return new GeneraError("INVALID_INPUT", "Request body is not valid JSON");
  if (e?.type === "encoding.unsupported" || e?.type === "charset.unsupported")
    return new GeneraError("INVALID_INPUT", e.message ?? "Unsupported body encoding");
  if (e?.code === "LIMIT_FILE_SIZE")
    return new GeneraError("TOO_LARGE", `Uploaded file "${e.field ?? "file"}" is too large`);
  if (typeof e?.code === "string" && e.code.startsWith("LIMIT_"))
    return new GeneraError("INVALID_INPUT", `Upload rejected: ${e.message}`);
  if (typeof e?.status === "number" && e.status >= 400 && e.status < 500)
    return new GeneraError("INVALID_INPUT", e.message ?? "Bad request");
  return new GeneraError("INTERNAL", "Internal server error", { cause: error });
}

export function errorBody(error: GeneraError): { error: { code: string; message: string } } {
  return { error: { code: error.code, message: error.message } };
}

export function errorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (error, req: Request, res, _next) => {
    const g = normalise(error);
    const status = statusOf(g);
    if (status >= 500) log(`${req.method} ${req.path} failed: ${(error as Error)?.stack ?? String(error)}`);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json(errorBody(g));
  };
}

import { GeneraError } from "../errors.js";

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_HEADERS_TIMEOUT",
]);

const CONNECTION_NAMES = new Set([
  "APIConnectionError",
  "APIConnectionTimeoutError",
  "TimeoutError",
  "ConnectTimeoutError",
]);

/**
 * True when an error (or anything in its `cause` chain) says the server could not be
 * reached, as opposed to the server answering with an error. The OpenAI SDK, undici's
 * fetch and the ollama client all wrap the socket error differently, hence the walk.
 */
export function isConnectionError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (typeof current !== "object") return false;
    const e = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
    if (typeof e.code === "string" && CONNECTION_CODES.has(e.code)) return true;
    if (typeof e.name === "string" && CONNECTION_NAMES.has(e.name)) return true;
    if (typeof e.message === "string" && /fetch failed|Connection error|ECONNREFUSED|socket hang up/i.test(e.message)) {
      return true;
    }
    if (Array.isArray(e.errors) && e.errors.some(isConnectionError)) return true;
    current = e.cause;
  }
  return false;
}

export interface ProviderDescription {
  provider: string;
  url: string;
}

/** Connection failures become PROVIDER_UNAVAILABLE naming the URL; anything else passes through. */
export function toProviderError(error: unknown, where: ProviderDescription): unknown {
  if (error instanceof GeneraError) return error;
  if (!isConnectionError(error)) return error;
  return providerUnavailable(where, error);
}

export function providerUnavailable(where: ProviderDescription, cause?: unknown): GeneraError {
  const reason = cause instanceof Error && cause.message ? ` (${cause.message})` : "";
  return new GeneraError(
    "PROVIDER_UNAVAILABLE",
    `The ${where.provider} provider at ${where.url} cannot be reached${reason}. Start the server, fix llm.baseUrl / GENERA_LLM_BASE_URL, or use the extractive answerer (llm.provider = "extractive").`,
    { cause, details: { provider: where.provider, url: where.url } },
  );
}

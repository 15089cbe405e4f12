/**
 * What an aborted model call rejects with: the signal's reason, as `AbortSignal.throwIfAborted()`,
 * `fetch` and LangChain's own runnables do — a DOMException named "AbortError" after a plain
 * `controller.abort()`, or whatever Error the caller passed to `abort(reason)`. A non-Error
 * reason is wrapped so callers can always test `error.name === "AbortError"` or the reason.
 */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new DOMException(
    typeof reason === "string" && reason !== "" ? reason : "This operation was aborted",
    "AbortError",
  );
  return Object.assign(error, { cause: reason });
}

/** Throws abortError(signal) when the signal has fired; a no-op without a signal. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

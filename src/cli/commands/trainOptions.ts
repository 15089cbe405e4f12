import { GeneraError } from "../../errors.js";

/** Parse a numeric flag, naming the flag when the value is not a number in range. */
export function numberFlag(flag: string, opts: { integer?: boolean; min?: number; max?: number } = {}) {
  return (value: string): number => {
    const n = Number(value);
    const ok =
      value.trim() !== "" &&
      Number.isFinite(n) &&
      (!opts.integer || Number.isInteger(n)) &&
      (opts.min === undefined || n >= opts.min) &&
      (opts.max === undefined || n <= opts.max);
    if (!ok) {
      const range = [
        opts.integer ? "an integer" : "a number",
        opts.min !== undefined ? `≥ ${opts.min}` : "",
        opts.max !== undefined ? `≤ ${opts.max}` : "",
      ]
        .filter(Boolean)
        .join(" ");
      throw new GeneraError("INVALID_INPUT", `${flag} must be ${range}, got ${JSON.stringify(value)}`, {
        details: { flag, value },
      });
    }
    return n;
  };
}

/** Comma-separated numbers ("1e-3,3e-3"), for search spaces. */
export function numberListFlag(flag: string, opts: { integer?: boolean; min?: number } = {}) {
  const one = numberFlag(flag, opts);
  return (value: string): number[] => value.split(",").map((v) => one(v.trim()));
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "--";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

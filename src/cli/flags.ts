import { ConfigSchema } from "../config.js";
import { GeneraError } from "../errors.js";

/**
 * Parsers for command-line flag values. A bad value is reported with the flag the user
 * typed (`--k must be …`), when commander reads it, before anything slow is loaded;
 * left to the configuration schema it would be named by its config path (`retrieval.k`).
 */

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
      const kind = opts.integer ? "an integer" : "a number";
      const { min, max } = opts;
      const range =
        min !== undefined && max !== undefined
          ? `${kind} from ${min} to ${max}`
          : min !== undefined
            ? `${kind} ≥ ${min}`
            : max !== undefined
              ? `${kind} ≤ ${max}`
              : kind;
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

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(flag: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new GeneraError(
        "INVALID_INPUT",
        `${flag} must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`,
        {
          details: { flag, value, choices },
        },
      );
    }
    return value as T;
  };
}

// The configuration's own lists, so a flag accepts exactly what the config file would.
const retrieval = ConfigSchema.shape.retrieval.removeDefault().shape;
const llm = ConfigSchema.shape.llm.removeDefault().shape;
const server = ConfigSchema.shape.server.removeDefault().shape;
const queueUrl = ConfigSchema.shape.queue.removeDefault().shape.url.unwrap();

/** `-k, --k <n>` and `--mode <mode>`, shared by search, ask, chat and eval. */
export const kFlag = numberFlag("--k", { integer: true, min: 1 });
export const modeFlag = choiceFlag("--mode", retrieval.mode.removeDefault().options);
export const providerFlag = choiceFlag("--provider", llm.provider.removeDefault().options);
export const temperatureFlag = numberFlag("--temperature", {
  min: llm.temperature.removeDefault().minValue ?? 0,
  max: llm.temperature.removeDefault().maxValue ?? 2,
});
export const portFlag = numberFlag("--port", {
  integer: true,
  min: 0,
  max: server.port.removeDefault().maxValue ?? 65535,
});

/** `--queue <url>` (index, serve, worker): the Redis URL the configuration accepts. */
export function queueFlag(value: string): string {
  const parsed = queueUrl.safeParse(value);
  if (!parsed.success) {
    const why = parsed.error.issues[0]?.message ?? "is not a queue URL";
    throw new GeneraError("INVALID_INPUT", `--queue ${why}, got ${JSON.stringify(value)}`, {
      details: { flag: "--queue", value },
    });
  }
  return parsed.data;
}

/** A positional text argument that must say something: `genera search ""` is a mistake, not a search for nothing. */
export function requireText(what: string, value: string, example: string): string {
  if (value.trim() === "") {
    throw new GeneraError("INVALID_INPUT", `The ${what} is empty: give the words to use, e.g. ${example}`, {
      details: { argument: what },
    });
  }
  return value;
}

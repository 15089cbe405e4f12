import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { GeneraError } from "./errors.js";

/**
 * One typed configuration for the whole of genera.
 * Precedence: defaults < config file (`genera.config.json`, or the path in
 * GENERA_CONFIG) < environment (GENERA_*) < explicit overrides (CLI flags).
 */
export const ConfigSchema = z.object({
  /** Folder for everything genera writes: index, caches, sessions. */
  dataDir: z.string().default(".genera"),
  /**
   * `postgres://…`: keep the knowledge base in Postgres (pgvector + full-text search) instead of
   * `<dataDir>/index`, so several servers and workers share it (docs/deployment.md).
   */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  /**
   * Ingestion on a BullMQ queue in Redis (docs/deployment.md): `genera index --queue` and
   * `genera serve --queue` enqueue files, `genera worker` processes indexes them into the shared store.
   */
  queue: z
    .object({
      /** `redis://…` (or `rediss://…`); set by --queue or GENERA_QUEUE_URL. */
      url: z
        .string()
        .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
        .optional(),
      /** A job whose worker stops renewing its lock for this long (killed, frozen) is given to another worker. */
      lockMs: z.number().int().min(1000).default(30_000),
    })
    .default({}),
  embeddings: z
    .object({
      /** "use" = Universal Sentence Encoder lite (offline default); "transformersjs" = any feature-extraction model. */
      provider: z.enum(["use", "transformersjs"]).default("use"),
      /** Hub id or local folder for transformersjs. */
      model: z.string().optional(),
      /** Parallelism for USE (worker threads, or onnxruntime threads); 0 = one per core. */
      workers: z.number().int().min(0).default(0),
      /** What runs USE: "onnxruntime" (fastest), or "engine" (genera's wasm matmul); same vectors. */
      runtime: z.enum(["onnxruntime", "engine"]).default("onnxruntime"),
      /** Persist embeddings by content hash under dataDir/embedding-cache. */
      cache: z.boolean().default(true),
    })
    .default({}),
  ingest: z
    .object({
      chunkSize: z.number().int().positive().default(800),
      chunkOverlap: z.number().int().min(0).default(100),
      include: z.array(z.string()).default([]),
      exclude: z.array(z.string()).default([]),
      /** Files larger than this many bytes are reported, not read. */
      maxFileBytes: z
        .number()
        .int()
        .positive()
        .default(50 * 1024 * 1024),
      /** Embed and keyword-index each chunk with its title and heading path (a store is built with one setting). */
      contextualHeaders: z.boolean().default(true),
    })
    .default({}),
  retrieval: z
    .object({
      mode: z.enum(["hybrid", "keyword", "dense"]).default("hybrid"),
      k: z.number().int().positive().default(5),
    })
    .default({}),
  llm: z
    .object({
      provider: z.enum(["extractive", "transformer", "transformersjs", "openai", "ollama"]).default("extractive"),
      model: z.string().optional(),
      baseUrl: z.string().optional(),
      apiKey: z.string().optional(),
      temperature: z.number().min(0).max(2).default(0.2),
      maxTokens: z.number().int().positive().default(512),
      /** Milliseconds before an HTTP provider is declared unreachable. */
      timeoutMs: z.number().int().positive().default(30_000),
      /**
       * The model reads images (a vision model behind "openai" or "ollama"): images in chat
       * messages reach it as image_url parts. Otherwise they are sent as their caption and OCR text.
       */
      vision: z.boolean().default(false),
    })
    .default({}),
  server: z
    .object({
      host: z.string().default("127.0.0.1"),
      port: z.number().int().min(0).max(65535).default(3000),
      /** When set, /api, /rag and /v1 routes need `Authorization: Bearer <apiKey>`. */
      apiKey: z.string().optional(),
      /**
       * Without an API key, requests must name the server by loopback, `host` or (on
       * 0.0.0.0) this machine's names in `Host`, and browsers' unsafe requests must come
       * from its own page. Extra names clients use (a proxy's, a LAN name) go here; "*" allows any.
       */
      allowedHosts: z.array(z.string()).default([]),
      /**
       * The file holding the key that signs chat sessions (hex; made, mode 0600, with a new
       * store). Default: `<dataDir>/sessions.sqlite.key` beside the SQLite store, or
       * `<dataDir>/sessions.key` for sessions in Postgres, where every replica needs the same file.
       */
      sessionKeyFile: z.string().optional(),
      /** Folders indexed at start-up. */
      folders: z.array(z.string()).default(["examples/knowledge"]),
      /** Requests per minute per client on /api, /rag and /v1; 0 turns the limit off. */
      rateLimitPerMinute: z.number().int().min(0).default(600),
      /** Generations that run at once; further ones queue up to maxQueuedGenerations, then get 429. */
      maxConcurrentGenerations: z.number().int().positive().default(4),
      maxQueuedGenerations: z.number().int().min(0).default(32),
      /** A non-streaming request that takes longer gets a 503. */
      requestTimeoutMs: z.number().int().positive().default(120_000),
      maxUploadBytes: z
        .number()
        .int()
        .positive()
        .default(25 * 1024 * 1024),
      maxBodyBytes: z
        .number()
        .int()
        .positive()
        .default(1024 * 1024),
    })
    .default({}),
  multimodal: z
    .object({
      /** Give every image found while indexing a vector in the image index (beside the text one). */
      images: z.boolean().default(true),
      /** "digits" = genera's shipped digit encoder (offline, knows digits only); "transformersjs" = a CLIP / SigLIP model. */
      imageEmbeddings: z.enum(["digits", "transformersjs"]).default("digits"),
      /** Hub id or local folder: the CLIP / SigLIP model (transformersjs), or a digit encoder folder (digits). */
      imageModel: z.string().optional(),
      /** Hub id or local folder of a transformers.js image-to-text model; its captions become the image's text. */
      captionModel: z.string().optional(),
      /** Hub id or local folder of a transformers.js Whisper-style model; audio files are transcribed with it. */
      speechModel: z.string().optional(),
      /** Let transformers.js download these models (default false: local folders and the cache only). */
      allowRemote: z.boolean().default(false),
    })
    .default({}),
});

export type GeneraConfig = z.infer<typeof ConfigSchema>;
export type GeneraConfigInput = z.input<typeof ConfigSchema>;

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K];
};

/** Environment variables and the config path they set. */
const ENV_MAP: Array<[string, string[], "string" | "number" | "list" | "boolean"]> = [
  ["GENERA_DATA_DIR", ["dataDir"], "string"],
  ["GENERA_DATABASE_URL", ["databaseUrl"], "string"],
  ["GENERA_QUEUE_URL", ["queue", "url"], "string"],
  ["GENERA_QUEUE_LOCK_MS", ["queue", "lockMs"], "number"],
  ["GENERA_EMBEDDINGS_PROVIDER", ["embeddings", "provider"], "string"],
  ["GENERA_EMBEDDINGS_MODEL", ["embeddings", "model"], "string"],
  ["GENERA_EMBEDDINGS_WORKERS", ["embeddings", "workers"], "number"],
  ["GENERA_EMBEDDINGS_RUNTIME", ["embeddings", "runtime"], "string"],
  ["GENERA_RETRIEVAL_MODE", ["retrieval", "mode"], "string"],
  ["GENERA_LLM_PROVIDER", ["llm", "provider"], "string"],
  ["GENERA_LLM_MODEL", ["llm", "model"], "string"],
  ["GENERA_LLM_BASE_URL", ["llm", "baseUrl"], "string"],
  ["GENERA_LLM_API_KEY", ["llm", "apiKey"], "string"],
  ["GENERA_LLM_TEMPERATURE", ["llm", "temperature"], "number"],
  ["GENERA_LLM_MAX_TOKENS", ["llm", "maxTokens"], "number"],
  ["GENERA_LLM_TIMEOUT_MS", ["llm", "timeoutMs"], "number"],
  ["GENERA_LLM_VISION", ["llm", "vision"], "boolean"],
  ["GENERA_HOST", ["server", "host"], "string"],
  ["GENERA_PORT", ["server", "port"], "number"],
  ["PORT", ["server", "port"], "number"],
  ["GENERA_API_KEY", ["server", "apiKey"], "string"],
  ["GENERA_ALLOWED_HOSTS", ["server", "allowedHosts"], "list"],
  ["GENERA_SESSION_KEY_FILE", ["server", "sessionKeyFile"], "string"],
  ["GENERA_FOLDERS", ["server", "folders"], "list"],
  ["GENERA_RATE_LIMIT", ["server", "rateLimitPerMinute"], "number"],
  ["GENERA_IMAGE_EMBEDDINGS", ["multimodal", "imageEmbeddings"], "string"],
  ["GENERA_IMAGE_MODEL", ["multimodal", "imageModel"], "string"],
  ["GENERA_CAPTION_MODEL", ["multimodal", "captionModel"], "string"],
  ["GENERA_SPEECH_MODEL", ["multimodal", "speechModel"], "string"],
];

/** Every environment variable the configuration reads (GENERA_CONFIG names the file). */
export const ENVIRONMENT_VARIABLES: readonly string[] = ["GENERA_CONFIG", ...ENV_MAP.map(([name]) => name)];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    out[key] = isObject(value) && isObject(out[key]) ? deepMerge(out[key] as Record<string, unknown>, value) : value;
  }
  return out;
}

function envLayer(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  for (const [name, path, kind] of ENV_MAP) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    let value: unknown = raw;
    if (kind === "number") {
      value = Number(raw);
      if (!Number.isFinite(value)) {
        throw new GeneraError("CONFIG_INVALID", `Environment variable ${name}="${raw}" is not a number`);
      }
    } else if (kind === "boolean") {
      if (!/^(true|false|1|0)$/i.test(raw)) {
        throw new GeneraError("CONFIG_INVALID", `Environment variable ${name}="${raw}" is not true or false`);
      }
      value = /^(true|1)$/i.test(raw);
    } else if (kind === "list") {
      value = raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    }
    let node = layer;
    for (const key of path.slice(0, -1)) {
      node[key] = isObject(node[key]) ? node[key] : {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
  }
  return layer;
}

export interface LoadConfigOptions {
  /** Path of a JSON config file; defaults to GENERA_CONFIG or ./genera.config.json when present. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Highest-precedence values, e.g. from CLI flags. */
  overrides?: DeepPartial<GeneraConfigInput>;
  cwd?: string;
}

export function loadConfig(options: LoadConfigOptions = {}): GeneraConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.file ?? env.GENERA_CONFIG;
  const file = explicit ? resolve(cwd, explicit) : resolve(cwd, "genera.config.json");
  let fromFile: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
      if (!isObject(parsed)) throw new Error("the top level is not an object");
      fromFile = parsed;
    } catch (error) {
      throw new GeneraError("CONFIG_INVALID", `Config file ${file} is not valid JSON: ${(error as Error).message}`, {
        cause: error,
        details: { file },
      });
    }
  } else if (explicit) {
    throw new GeneraError("NOT_FOUND", `Config file ${file} does not exist`, { details: { file } });
  }
  const merged = deepMerge(deepMerge(fromFile, envLayer(env)), (options.overrides ?? {}) as Record<string, unknown>);
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new GeneraError("CONFIG_INVALID", `Invalid configuration: ${issues}`, {
      details: { issues: result.error.issues },
    });
  }
  const { llm } = result.data;
  if (llm.vision && llm.provider !== "openai" && llm.provider !== "ollama") {
    throw new GeneraError(
      "CONFIG_INVALID",
      `Invalid configuration: llm.vision: the "${llm.provider}" provider reads text only; images reach a model through "openai" or "ollama"`,
      { details: { provider: llm.provider } },
    );
  }
  return result.data;
}

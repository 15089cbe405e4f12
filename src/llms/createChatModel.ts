import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { BaseLanguageModel } from "@langchain/core/language_models/base";
import { ConfigSchema, type GeneraConfig } from "../config.js";
import { GeneraError } from "../errors.js";
import type { ExtractiveAnswererOptions } from "./ExtractiveAnswerer.js";
import { ExtractiveChatModel } from "./ExtractiveChatModel.js";
import { providerUnavailable } from "./providerErrors.js";
import { looksLikePath, TransformersJsChatModel } from "./TransformersJsChatModel.js";

export type LlmConfig = GeneraConfig["llm"];
export type LlmProvider = LlmConfig["provider"];

export interface CreateChatModelOptions {
  /** Sentence embeddings for the extractive answerer's dense score. */
  embeddings?: EmbeddingsInterface;
  extractive?: Omit<ExtractiveAnswererOptions, "embeddings">;
  /** transformers.js only: allow Hub downloads (default false). */
  allowRemoteModels?: boolean;
  /** Where to look for the self-built engine's LLM (tests point this at a stand-in). */
  transformerModule?: string;
}

export const DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1";
export const DEFAULT_OLLAMA_BASE_URL = "http://127.0.0.1:11434";

/** Validates and fills defaults, so callers may pass a partial `llm` section. */
export function resolveLlmConfig(config: Partial<LlmConfig> | undefined): LlmConfig {
  const parsed = ConfigSchema.shape.llm.safeParse(config ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `llm.${i.path.join(".")}: ${i.message}`).join("; ");
    throw new GeneraError("CONFIG_INVALID", `Invalid llm configuration: ${issues}`);
  }
  return parsed.data;
}

/** The URL a provider talks to (undefined for in-process providers). */
export function providerUrl(config: LlmConfig): string | undefined {
  if (config.provider === "openai") {
    return stripSlash(config.baseUrl ?? process.env.OPENAI_BASE_URL ?? DEFAULT_OPENAI_BASE_URL);
  }
  if (config.provider === "ollama") return stripSlash(config.baseUrl ?? DEFAULT_OLLAMA_BASE_URL);
  return undefined;
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

function requireModel(config: LlmConfig, example: string): string {
  if (config.model && config.model.trim() !== "") return config.model;
  throw new GeneraError(
    "CONFIG_INVALID",
    `The ${config.provider} provider needs a model name: set llm.model, GENERA_LLM_MODEL or --model (e.g. ${example})`,
    { details: { provider: config.provider } },
  );
}

/**
 * Builds the configured model, a LangChain model usable wherever one is expected.
 * `extractive` (the default) needs nothing: an ExtractiveChatModel, which quotes the
 * passages of its prompt (chains recognise it with isExtractiveChatModel and quote the
 * retrieved documents directly; it cannot write summaries or translations). `transformer`
 * loads a checkpoint folder of genera's own engine (an LLM); `transformersjs` an ONNX model
 * folder or cache entry; `openai` any OpenAI-compatible server; `ollama` an Ollama server.
 * HTTP providers are not contacted here — call `checkProvider` to fail fast.
 */
export async function createChatModel(
  config?: Partial<LlmConfig>,
  options: CreateChatModelOptions = {},
): Promise<BaseLanguageModel> {
  const llm = resolveLlmConfig(config);
  switch (llm.provider) {
    case "extractive":
      return new ExtractiveChatModel({ ...options.extractive, embeddings: options.embeddings });
    case "transformer":
      return createTransformerLlm(llm, options);
    case "transformersjs":
      return new TransformersJsChatModel({
        model: requireModel(llm, "./models/Qwen2.5-0.5B-Instruct or onnx-community/Qwen2.5-0.5B-Instruct"),
        temperature: llm.temperature,
        maxTokens: llm.maxTokens,
        allowRemoteModels: options.allowRemoteModels ?? false,
      });
    case "openai": {
      // The OpenAI and Ollama clients load only for the provider that is configured.
      const { OpenAICompatibleChatModel } = await import("./OpenAICompatibleChatModel.js");
      return new OpenAICompatibleChatModel({
        baseURL: providerUrl(llm) as string,
        model: requireModel(llm, "gpt-4o-mini, or the name your server lists at /v1/models"),
        apiKey: llm.apiKey ?? process.env.OPENAI_API_KEY ?? "not-needed",
        temperature: llm.temperature,
        maxTokens: llm.maxTokens,
        timeout: llm.timeoutMs,
        // A dead server should fail in seconds, not after the SDK's exponential back-off.
        maxRetries: 1,
      });
    }
    case "ollama": {
      const { OllamaChatModel } = await import("./OllamaChatModel.js");
      return new OllamaChatModel({
        baseUrl: providerUrl(llm) as string,
        model: requireModel(llm, "llama3.2"),
        temperature: llm.temperature,
        numPredict: llm.maxTokens,
        maxRetries: 1,
      });
    }
  }
}

async function createTransformerLlm(llm: LlmConfig, options: CreateChatModelOptions): Promise<BaseLanguageModel> {
  const modelDir = resolve(requireModel(llm, "./checkpoints/tiny-gpt"));
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) {
    throw new GeneraError(
      "MODEL_NOT_FOUND",
      `Transformer checkpoint folder ${modelDir} does not exist (train one with \`genera train\`)`,
      { details: { model: modelDir } },
    );
  }
  // Loaded lazily: the engine is only needed by this provider, and the module ships separately.
  const specifier = options.transformerModule ?? new URL("./TransformerLLM.js", import.meta.url).href;
  let mod: { TransformerLLM?: new (fields: Record<string, unknown>) => BaseLanguageModel };
  try {
    mod = await import(specifier);
  } catch (error) {
    if (isModuleMissing(error)) {
      throw new GeneraError(
        "NOT_IMPLEMENTED",
        "The `transformer` provider needs src/llms/TransformerLLM.ts, which this build does not include; use the extractive, transformersjs, openai or ollama provider",
        { cause: error },
      );
    }
    throw error;
  }
  if (typeof mod.TransformerLLM !== "function") {
    throw new GeneraError("NOT_IMPLEMENTED", "src/llms/TransformerLLM.ts does not export a TransformerLLM class");
  }
  // `modelPath` is the engine's name for the folder; `modelDir` is kept for older builds of it.
  return new mod.TransformerLLM({
    modelPath: modelDir,
    modelDir,
    temperature: llm.temperature,
    maxTokens: llm.maxTokens,
  });
}

function isModuleMissing(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return (
    e?.code === "ERR_MODULE_NOT_FOUND" ||
    (typeof e?.message === "string" && /Cannot find module|Failed to load url|does not exist/i.test(e.message))
  );
}

export interface ProviderStatus {
  provider: LlmProvider;
  url?: string;
  /** Model names the server lists, when it lists them. */
  models?: string[];
}

/**
 * Fails fast with PROVIDER_UNAVAILABLE (naming the URL) when an HTTP provider cannot be
 * reached within `timeoutMs`: GET /models on an OpenAI-compatible base URL, /api/tags on
 * Ollama. Local providers only check that their model folder exists.
 */
export async function checkProvider(
  config?: Partial<LlmConfig>,
  options: { timeoutMs?: number } = {},
): Promise<ProviderStatus> {
  const llm = resolveLlmConfig(config);
  const timeoutMs = options.timeoutMs ?? Math.min(llm.timeoutMs, 3000);
  if (llm.provider === "extractive") return { provider: "extractive" };
  if (llm.provider === "transformer" || (llm.provider === "transformersjs" && looksLikePath(llm.model ?? ""))) {
    const folder = resolve(requireModel(llm, "./models/my-model"));
    if (!existsSync(folder)) {
      throw new GeneraError("MODEL_NOT_FOUND", `Model folder ${folder} does not exist`, { details: { model: folder } });
    }
    return { provider: llm.provider };
  }
  if (llm.provider === "transformersjs") return { provider: llm.provider };

  const url = providerUrl(llm) as string;
  const probe = llm.provider === "openai" ? `${url}/models` : `${url}/api/tags`;
  const where = { provider: llm.provider, url };
  let response: Response;
  try {
    const headers: Record<string, string> = {};
    const key = llm.apiKey ?? (llm.provider === "openai" ? process.env.OPENAI_API_KEY : undefined);
    if (key) headers.authorization = `Bearer ${key}`;
    response = await fetch(probe, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    // Any failure to get a response (refused, DNS, timeout, TLS) means the server is not usable.
    throw providerUnavailable(where, error);
  }
  if (!response.ok) {
    const body = (await response.text().catch(() => "")).slice(0, 200);
    throw new GeneraError(
      "PROVIDER_UNAVAILABLE",
      `The ${llm.provider} provider at ${url} answered ${probe} with HTTP ${response.status}${body ? `: ${body}` : ""}`,
      { details: { provider: llm.provider, url, status: response.status } },
    );
  }
  const body = (await response.json().catch(() => ({}))) as {
    data?: Array<{ id?: unknown }>;
    models?: Array<{ name?: unknown }>;
  };
  const models =
    llm.provider === "openai"
      ? (body.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === "string")
      : (body.models ?? []).map((m) => m.name).filter((n): n is string => typeof n === "string");
  return { provider: llm.provider, url, models };
}

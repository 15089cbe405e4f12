import type { EmbeddingsInterface } from "@langchain/core/embeddings";

/**
 * A stable name for the model behind any LangChain embeddings: the one id that keys
 * CachedEmbeddings and that the index (the knowledge store, HNSWVectorStore) records to refuse
 * mixing vectors of different models (MODEL_MISMATCH). genera's classes carry `modelId`;
 * other integrations (OpenAI, Ollama, …) name their model in `model` or `modelName`,
 * prefixed here with the class name so providers cannot collide. The class name alone
 * would not do: two OpenAIEmbeddings models would share it.
 */
export function embeddingsModelId(embeddings: EmbeddingsInterface): string {
  const e = embeddings as unknown as Record<string, unknown>;
  if (typeof e.modelId === "string" && e.modelId !== "") return e.modelId;
  const provider = (embeddings as object).constructor?.name || "embeddings";
  for (const key of ["model", "modelName", "modelId", "deploymentName"]) {
    const value = e[key];
    if (typeof value === "string" && value !== "") {
      const dims = typeof e.dimensions === "number" ? `:${e.dimensions}` : "";
      return `${provider}:${value}${dims}`;
    }
  }
  return provider;
}

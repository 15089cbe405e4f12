/**
 * genera's public API: what a library user composes — the knowledge base, embeddings, the vector and
 * keyword stores, chains, model providers and the engine. Importing it loads no model runtime, no HTTP
 * server and no agent graph: those load when first used, or come from their own subpaths:
 *   genera/server        createApp, startServer, SessionStore (Express, SQLite sessions)
 *   genera/agents        tools and agent runners (LangChain's createAgent, ReAct)
 *   genera/llms          every model provider, OpenAI-compatible and Ollama included
 *   genera/engine        the from-scratch engine: tensors, ops, layers, models, training
 *   genera/knowledge, genera/loaders, genera/vectorstores, genera/chains, genera/embeddings   each room whole
 */

export {
  type ConversationalRagChainOptions,
  type ConversationalRagInput,
  createConversationalRagChain,
} from "../chains/createConversationalRagChain.js";
export {
  createRagChain,
  type DocumentRetriever,
  type RagChainOptions,
  type RagInput,
  type RagOutput,
} from "../chains/createRagChain.js";
export { createSummarizeChain, type SummarizeChainOptions, summarizeFile } from "../chains/summarize.js";
export { createTranslateChain, type TranslateChainOptions } from "../chains/translate.js";
export { DirectoryLoader, type DirectoryLoaderOptions } from "../loaders/DirectoryLoader.js";
export { type LoadFileOptions, loadFile, supportedExtensions } from "../loaders/loadFile.js";
export { type SplitOptions, splitDocuments } from "../loaders/splitter.js";
export { HybridRetriever, type HybridRetrieverOptions, type RetrievalMode } from "../vectorstores/HybridRetriever.js";
export { HNSWVectorStore, type HNSWVectorStoreOptions } from "../vectorstores/hnsw.js";
export { KeywordIndex, type KeywordIndexOptions } from "../vectorstores/KeywordIndex.js";
export { type GeneraConfig, type GeneraConfigInput, loadConfig } from "./config.js";
export {
  CachedEmbeddings,
  createEmbeddings,
  TransformersJsEmbeddings,
  UniversalSentenceEncoderEmbeddings,
} from "./embeddings/index.js";
// The engine's ops have short names (add, log, sum…): they live under `engine`, and the classes
// people reach for first are also exported by name.
export * as engine from "./engine/index.js";
export {
  BPETokenizer,
  CharTokenizer,
  EncoderDecoder,
  GPT,
  GPT_PRESETS,
  type GPTConfig,
  loadCheckpoint,
  loadTokenizer,
  saveCheckpoint,
  Tensor,
  trainGPT,
} from "./engine/index.js";
export { GeneraError, type GeneraErrorCode, isGeneraError } from "./errors.js";
export { evaluateAnswers, evaluateRetriever, readQaFile } from "./eval/index.js";
export { ImageGenerator, type ImageRequest, loadMnist, trainImageModel } from "./images/index.js";
export { EmbeddedStore, type KnowledgeStore } from "./knowledge/index.js";
export {
  type IndexOptions,
  type IndexSummary,
  KnowledgeBase,
  type KnowledgeBaseOptions,
  type KnowledgeBaseStats,
} from "./knowledge/KnowledgeBase.js";
export type { CitedSource } from "./llms/citedSource.js";
export { checkProvider, createChatModel, type LlmConfig } from "./llms/createChatModel.js";
export { ExtractiveAnswerer, type ExtractiveAnswererOptions } from "./llms/ExtractiveAnswerer.js";
export { ExtractiveChatModel } from "./llms/ExtractiveChatModel.js";
export { TransformerLLM } from "./llms/TransformerLLM.js";
export { TransformersJsChatModel } from "./llms/TransformersJsChatModel.js";

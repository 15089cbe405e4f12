export { CachedEmbeddings, type CachedEmbeddingsParams, type CacheStats } from "./CachedEmbeddings.js";
export { type CreateEmbeddingsOptions, createEmbeddings, type GeneraEmbeddings } from "./createEmbeddings.js";
export { embeddingsModelId } from "./embeddingsModelId.js";
export {
  normalizeForSentencePiece,
  SentencePieceTokenizer,
  type SentencePieceVocabulary,
} from "./SentencePieceTokenizer.js";
export {
  TransformersJsEmbeddings,
  type TransformersJsEmbeddingsParams,
  type TransformersJsPooling,
} from "./TransformersJsEmbeddings.js";
export {
  UniversalSentenceEncoderEmbeddings,
  type UniversalSentenceEncoderEmbeddingsParams,
  USE_DEFAULT_BATCH_SIZE,
  USE_DIMENSION,
  USE_MAX_TOKENS,
  type UseLiteRuntime,
} from "./UniversalSentenceEncoderEmbeddings.js";

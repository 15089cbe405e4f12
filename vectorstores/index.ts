export * from "./CrossEncoderReranker.js";
export * from "./HybridRetriever.js";
export * from "./hnsw.js";
export * from "./KeywordIndex.js";
export * from "./scoreFusion.js";
export * from "./WholeDocumentIndex.js";

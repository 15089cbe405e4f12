export * from "./HybridRetriever.js";
export * from "./hnsw.js";
export * from "./KeywordIndex.js";
export * from "./scoreFusion.js";

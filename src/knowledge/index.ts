export * from "./EmbeddedStore.js";
export * from "./embeddingText.js";
export * from "./indexScope.js";
export * from "./KnowledgeBase.js";
export * from "./KnowledgeStore.js";
export * from "./storeFiles.js";

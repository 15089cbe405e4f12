export * from "./answerModel.js";
export * from "./createConversationalRagChain.js";
export * from "./createRagChain.js";
export * from "./documentQa.js";
export * from "./InMemoryRetriever.js";
export * from "./prompts.js";
export * from "./summarize.js";
export * from "./translate.js";

export * from "./citedSource.js";
export * from "./createChatModel.js";
export * from "./ExtractiveAnswerer.js";
export * from "./OllamaChatModel.js";
export * from "./OpenAICompatibleChatModel.js";
export * from "./providerErrors.js";
export * from "./TransformerLLM.js";
export * from "./TransformersJsChatModel.js";

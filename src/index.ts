/**
 * genera's public API. Everything a library user composes — embeddings, the
 * vector and keyword stores, loaders and the knowledge base, chains, model
 * providers, the from-scratch transformer, the server — is exported here.
 * Subpaths `genera/vectorstores`, `genera/loaders` and `genera/chains` expose
 * the same classes for smaller imports.
 */

export * from "../chains/index.js";
export * from "../loaders/index.js";
export * from "../vectorstores/index.js";
export * from "./agents/index.js";
export * from "./config.js";
export * from "./embeddings/index.js";
// The engine's ops have short names (add, log, sum…): they live under `transformer` (src/engine),
// and the classes people reach for first are also exported by name.
export * as transformer from "./engine/index.js";
export {
  BPETokenizer,
  CharTokenizer,
  EncoderDecoder,
  GPT,
  GPT_PRESETS,
  type GPTConfig,
  loadCheckpoint,
  loadTokenizer,
  PAPER_BASE,
  saveCheckpoint,
  Tensor,
  type TrainOptions,
  trainGPT,
  tune,
} from "./engine/index.js";
export * from "./errors.js";
export * from "./eval/index.js";
export * from "./knowledge/index.js";
export * from "./llms/index.js";
export { type AppOptions, createApp } from "./server/createApp.js";
export { SessionStore } from "./server/SessionStore.js";
export { type RunningServer, type StartServerOptions, startServer } from "./server/startServer.js";

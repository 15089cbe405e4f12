/**
 * Agents: LangChain tools over genera's knowledge base, files and chains, and the runners
 * that use them — createAgent over tool-calling chat models, ReAct over text-only ones,
 * and the offline tool model trained with genera's own transformer.
 */
export * from "./AgentRunner.js";
export * from "./CitationRegistry.js";
export * from "./createAgentRunner.js";
export * from "./limits.js";
export * from "./ReActAgent.js";
export * from "./ToolCallingAgent.js";
export * from "./toolModel/OfflineToolChatModel.js";
export * from "./toolModel/ToolModel.js";
export { INTENTS, type Intent, mathFromWords, type ToolPlan } from "./toolModel/toolPlan.js";
export * from "./tools/calculator.js";
export * from "./tools/chainTools.js";
export * from "./tools/createAgentTools.js";
export * from "./tools/currentDate.js";
export * from "./tools/documentTools.js";
export * from "./tools/fileTools.js";
export * from "./tools/imageTool.js";

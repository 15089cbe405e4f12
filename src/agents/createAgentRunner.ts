import type { BaseLanguageModelInterface } from "@langchain/core/language_models/base";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { isExtractiveChatModel } from "../llms/ExtractiveChatModel.js";
import type { AgentRunner } from "./AgentRunner.js";
import type { AgentLimits } from "./limits.js";
import { ReActAgent } from "./ReActAgent.js";
import { ToolCallingAgent } from "./ToolCallingAgent.js";
import { OfflineToolChatModel } from "./toolModel/OfflineToolChatModel.js";
import type { ToolModel } from "./toolModel/ToolModel.js";

export interface AgentRunnerOptions {
  /** What createChatModel returned for the configured provider. */
  model: BaseLanguageModelInterface;
  tools: StructuredToolInterface[];
  limits?: Partial<AgentLimits>;
  /** The offline tool model (a loaded one, or its folder); default: the checkpoint genera ships. */
  toolModel?: ToolModel | string;
}

function canCallTools(model: unknown): model is BaseChatModel {
  return typeof (model as { bindTools?: unknown })?.bindTools === "function";
}

/**
 * The runner for the configured provider: without a generative model (the offline
 * default) the trained tool model drives createAgent; a chat model that can call tools
 * (OpenAI-compatible, Ollama) drives it itself; any other text model runs ReAct.
 */
export function createAgentRunner(options: AgentRunnerOptions): AgentRunner {
  const { model, tools, limits } = options;
  if (isExtractiveChatModel(model)) {
    const offline = new OfflineToolChatModel({ model: options.toolModel, answerer: model.answerer });
    return new ToolCallingAgent({ model: offline, tools, limits });
  }
  if (canCallTools(model)) return new ToolCallingAgent({ model, tools, limits });
  return new ReActAgent({ llm: model, tools, limits });
}

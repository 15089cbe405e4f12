import type { BaseLanguageModelInterface } from "@langchain/core/language_models/base";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { StructuredToolInterface } from "@langchain/core/tools";
import type { ChatModelHandle } from "../llms/createChatModel.js";
import type { AgentRunner } from "./AgentRunner.js";
import type { AgentLimits } from "./limits.js";
import { ReActAgent } from "./ReActAgent.js";
import { ToolCallingAgent } from "./ToolCallingAgent.js";
import { OfflineToolChatModel } from "./toolModel/OfflineToolChatModel.js";
import type { ToolModel } from "./toolModel/ToolModel.js";

export interface AgentRunnerOptions {
  /** What createChatModel returned for the configured provider. */
  model: ChatModelHandle;
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
  const { model: handle, tools, limits } = options;
  // Checked by provider too: the extractive provider may come wrapped as a chat model.
  if (handle.kind === "extractive" || (handle.provider as string) === "extractive") {
    const model = new OfflineToolChatModel({
      model: options.toolModel,
      answerer: handle.kind === "extractive" ? handle.answerer : undefined,
    });
    return new ToolCallingAgent({ model, tools, limits });
  }
  if (canCallTools(handle.model)) return new ToolCallingAgent({ model: handle.model, tools, limits });
  return new ReActAgent({ llm: handle.model as BaseLanguageModelInterface, tools, limits });
}

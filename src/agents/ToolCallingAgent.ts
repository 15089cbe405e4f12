import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { createAgent, createMiddleware } from "langchain";
import { GeneraError } from "../errors.js";
import { type AgentResult, AgentRunner, type AgentStep, type StepSink } from "./AgentRunner.js";
import { CitationRegistry } from "./CitationRegistry.js";
import { type AgentLimits, invokeToolWithLimits, messageText } from "./limits.js";
import type { GeneratedImageArtifact } from "./tools/imageTool.js";

export const AGENT_SYSTEM_PROMPT =
  "You are genera's assistant. Use the tools to find facts and to compute; do not guess. " +
  "When you use passages from search_documents, cite them as [n]. If no tool can do what is asked, say so plainly.";

export interface ToolCallingAgentOptions {
  /** A chat model with `bindTools` (OpenAI-compatible, Ollama, the offline tool model, …). */
  model: BaseChatModel;
  tools: StructuredToolInterface[];
  systemPrompt?: string;
  limits?: Partial<AgentLimits>;
}

/**
 * An agent over a tool-calling chat model, run by LangChain's `createAgent`. genera adds
 * the limits (a middleware runs every tool call under a timer and cuts long output; the
 * run stops after `maxSteps` tool turns or `timeoutMs`), the per-run citation numbers,
 * and the step stream.
 */
export class ToolCallingAgent extends AgentRunner {
  static override lc_name(): string {
    return "ToolCallingAgent";
  }

  readonly model: BaseChatModel;
  readonly tools: StructuredToolInterface[];
  readonly systemPrompt: string;

  constructor(options: ToolCallingAgentOptions) {
    super(options.limits);
    if (typeof options.model?.bindTools !== "function") {
      throw new GeneraError(
        "INVALID_INPUT",
        "This model cannot call tools (it has no bindTools); use ReActAgent for text-only models",
      );
    }
    this.model = options.model;
    this.tools = options.tools;
    this.systemPrompt = options.systemPrompt ?? AGENT_SYSTEM_PROMPT;
  }

  protected async run(task: string, config: RunnableConfig, out: StepSink): Promise<AgentResult> {
    const limits = this.limits;
    const byName = new Map(this.tools.map((t) => [t.name, t]));
    const limitsMiddleware = createMiddleware({
      name: "GeneraToolLimits",
      wrapToolCall: async (request, handler) =>
        invokeToolWithLimits(byName.get(request.toolCall.name), request.toolCall, limits, {}, async () =>
          handler(request),
        ),
    });
    const agent = createAgent({
      model: this.model,
      tools: this.tools,
      systemPrompt: this.systemPrompt,
      middleware: [limitsMiddleware],
    });
    const citations = new CitationRegistry();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
    const signal = AbortSignal.any([controller.signal, ...(config.signal ? [config.signal] : [])]);
    const messages: BaseMessage[] = [];
    let toolTurns = 0;
    let stoppedBy: AgentResult["stoppedBy"];
    try {
      const stream = await agent.stream(
        { messages: [new HumanMessage(task)] },
        {
          ...config,
          signal,
          streamMode: ["updates", "messages"],
          // Each tool turn is two graph steps; the step limit below ends the run first.
          recursionLimit: limits.maxSteps * 2 + 4,
          configurable: { ...config.configurable, citations },
        },
      );
      for await (const [mode, chunk] of stream as AsyncIterable<[string, unknown]>) {
        if (mode === "messages") {
          const [message] = chunk as [BaseMessage];
          if (AIMessageChunk.isInstance(message)) out.token(messageText(message.content));
          continue;
        }
        for (const update of Object.values(chunk as Record<string, { messages?: BaseMessage[] } | undefined>)) {
          for (const message of update?.messages ?? []) {
            messages.push(message);
            if (AIMessage.isInstance(message) && (message.tool_calls?.length ?? 0) > 0) {
              toolTurns++;
              if (toolTurns > limits.maxSteps) {
                stoppedBy = "steps";
                break;
              }
              const thought = messageText(message.content).trim();
              if (thought) await out.step({ type: "thought", text: thought });
              for (const call of message.tool_calls ?? []) {
                await out.step({ type: "tool_call", id: call.id ?? "", tool: call.name, args: call.args });
              }
            } else if (ToolMessage.isInstance(message)) {
              await out.step(observationStep(message));
            }
          }
          if (stoppedBy) break;
        }
        if (stoppedBy) break;
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
      stoppedBy = "time";
    } finally {
      clearTimeout(timer);
    }
    const last = messages.at(-1);
    const answer =
      !stoppedBy && last && AIMessage.isInstance(last)
        ? messageText(last.content).trim()
        : stoppedAnswer(stoppedBy, out.steps, limits);
    return { answer, steps: out.steps, sources: citations.sources, ...(stoppedBy ? { stoppedBy } : {}) };
  }
}

export function observationStep(message: ToolMessage): AgentStep {
  const artifact = message.artifact as Partial<GeneratedImageArtifact> | undefined;
  const image =
    message.status !== "error" && typeof artifact?.url === "string" && artifact.mimeType === "image/png"
      ? { url: artifact.url, model: String(artifact.model ?? ""), count: Number(artifact.count ?? 1) }
      : undefined;
  return {
    type: "observation",
    id: message.tool_call_id,
    tool: message.name ?? "tool",
    content: messageText(message.content),
    error: message.status === "error",
    ...(image ? { image } : {}),
  };
}

/** An honest last word when a limit ended the run: what stopped it and what was found. */
export function stoppedAnswer(
  stoppedBy: AgentResult["stoppedBy"],
  steps: AgentStep[],
  limits: Pick<AgentLimits, "maxSteps" | "timeoutMs">,
): string {
  const why =
    stoppedBy === "time"
      ? `I ran out of time (${Math.round(limits.timeoutMs / 1000)} s) before finishing.`
      : `I stopped after ${limits.maxSteps} tool steps without finishing.`;
  const found = steps.filter((s) => s.type === "observation" && !s.error) as Array<
    Extract<AgentStep, { type: "observation" }>
  >;
  if (found.length === 0) return `${why} I found nothing to answer with.`;
  return `${why} The last thing a tool returned was:\n\n${found.at(-1)?.content}`;
}

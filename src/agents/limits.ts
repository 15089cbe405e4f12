import { ToolMessage } from "@langchain/core/messages";
import type { ToolCall } from "@langchain/core/messages/tool";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { isGeneraError } from "../errors.js";

export interface AgentLimits {
  /** Model turns that may call tools; the run stops with what it has after this many (default 6). */
  maxSteps: number;
  /** Wall-clock budget for the whole run, in ms (default 60 s). */
  timeoutMs: number;
  /** One tool call's budget, in ms (default 20 s); a tool that hangs becomes an error observation. */
  toolTimeoutMs: number;
  /** A tool's output is cut to this many characters before the model sees it (default 8,000). */
  maxObservationChars: number;
  /** The final answer is cut to this many characters (default 20,000). */
  maxAnswerChars: number;
}

export const DEFAULT_AGENT_LIMITS: AgentLimits = {
  maxSteps: 6,
  timeoutMs: 60_000,
  toolTimeoutMs: 20_000,
  maxObservationChars: 8_000,
  maxAnswerChars: 20_000,
};

export function resolveLimits(limits: Partial<AgentLimits> | undefined): AgentLimits {
  const out = { ...DEFAULT_AGENT_LIMITS };
  for (const [key, value] of Object.entries(limits ?? {})) {
    if (value !== undefined && Number.isFinite(value) && value > 0) out[key as keyof AgentLimits] = Math.floor(value);
  }
  return out;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… (cut: ${text.length - max} more characters)`;
}

export function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (typeof part === "string" ? part : (part as { text?: unknown })?.text))
      .filter((t): t is string => typeof t === "string")
      .join("");
  }
  return content === undefined || content === null ? "" : JSON.stringify(content);
}

/** What a model reads when a tool fails: the error's message (with its code), never a stack. */
export function errorObservation(toolName: string, error: unknown): string {
  const e = error as { message?: unknown; code?: unknown };
  const message = typeof e?.message === "string" ? e.message : String(error);
  const code = isGeneraError(error) ? ` (${error.code})` : "";
  return `Error from ${toolName}${code}: ${message}`;
}

/**
 * Runs one tool call under the limits: a timer races the tool (a tool that never settles
 * cannot hold the run; its signal is aborted so a cooperative tool stops), a thrown
 * error becomes an error observation, and long output is cut. Always a ToolMessage.
 */
export async function invokeToolWithLimits(
  tool: StructuredToolInterface | undefined,
  call: ToolCall,
  limits: Pick<AgentLimits, "toolTimeoutMs" | "maxObservationChars">,
  config: RunnableConfig = {},
  run: (call: ToolCall, config: RunnableConfig) => Promise<unknown> = (c, cfg) =>
    (tool as StructuredToolInterface).invoke(c, cfg),
): Promise<ToolMessage> {
  const id = call.id ?? "";
  const error = (content: string) => new ToolMessage({ content, tool_call_id: id, name: call.name, status: "error" });
  if (!tool) return error(`Error: there is no tool named "${call.name}".`);
  const controller = new AbortController();
  const signals = [controller.signal, config.signal].filter((s): s is AbortSignal => s !== undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`${call.name} did not finish within ${limits.toolTimeoutMs} ms and was abandoned`));
    }, limits.toolTimeoutMs);
  });
  try {
    const out = await Promise.race([run(call, { ...config, signal: AbortSignal.any(signals) }), timeout]);
    const message =
      out instanceof ToolMessage
        ? out
        : new ToolMessage({ content: messageText(out), tool_call_id: id, name: call.name });
    const text = messageText(message.content);
    if (text.length > limits.maxObservationChars) {
      return new ToolMessage({
        content: truncate(text, limits.maxObservationChars),
        tool_call_id: id,
        name: call.name,
        artifact: message.artifact,
        status: message.status,
      });
    }
    return message;
  } catch (e) {
    return error(errorObservation(call.name, e));
  } finally {
    clearTimeout(timer);
  }
}

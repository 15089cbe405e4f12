import { randomUUID } from "node:crypto";
import { AIMessage, type BaseMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import type { Response } from "express";
import { z } from "zod";
import { messageText } from "../../agents/limits.js";
import { OfflineToolChatModel } from "../../agents/toolModel/OfflineToolChatModel.js";
import { GeneraError } from "../../errors.js";
import type { GenerationLimiter } from "../GenerationLimiter.js";
import { parseInput } from "../httpErrors.js";
import { responseSignal } from "../responseSignal.js";
// Only read inside the handler, so the import cycle with openai.ts is harmless.
import { RAG_MODEL_ID } from "./openai.js";

/** The model id a client names to get tool calls from genera's offline tool model (genera-rag works too). */
export const TOOL_MODEL_ID = "genera-tools";

const MAX_MESSAGE_CHARS = 8000;

const Content = z.union([
  z.string(),
  z.array(z.object({ type: z.string(), text: z.string().optional() }).passthrough()),
  z.null(),
]);
const ToolCallSpec = z.object({
  id: z.string().max(200),
  type: z.literal("function").optional(),
  function: z.object({ name: z.string().max(64), arguments: z.string().max(MAX_MESSAGE_CHARS) }),
});
const Message = z.discriminatedUnion("role", [
  z.object({ role: z.enum(["system", "developer"]), content: Content.optional() }),
  z.object({ role: z.literal("user"), content: Content.optional() }),
  z.object({
    role: z.literal("assistant"),
    content: Content.optional(),
    tool_calls: z.array(ToolCallSpec).max(32).optional(),
  }),
  z.object({ role: z.literal("tool"), content: Content.optional(), tool_call_id: z.string().max(200) }),
]);
const FunctionTool = z.object({
  type: z.literal("function"),
  function: z
    .object({
      name: z.string().min(1).max(64),
      description: z.string().max(4000).optional(),
      parameters: z.unknown().optional(),
    })
    .passthrough(),
});
const ToolCompletionBody = z
  .object({
    model: z.string().min(1),
    messages: z.array(Message).min(1).max(200),
    tools: z.array(FunctionTool).min(1).max(64),
    tool_choice: z.unknown().optional(),
    stream: z.boolean().optional(),
  })
  .passthrough();

function text(content: z.infer<typeof Content> | undefined): string {
  if (typeof content === "string") return content;
  return (content ?? []).map((p) => p.text ?? "").join("");
}

function parseArguments(raw: string, name: string): Record<string, unknown> {
  try {
    const value = JSON.parse(raw) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new GeneraError("INVALID_INPUT", `The arguments of tool call "${name}" are not a JSON object`);
}

/** OpenAI messages as LangChain messages; a tool result gets its tool's name from the call it answers. */
function toMessages(messages: Array<z.infer<typeof Message>>): BaseMessage[] {
  const names = new Map<string, string>();
  return messages.map((m) => {
    const content = text(m.content);
    if (content.length > MAX_MESSAGE_CHARS * 4) {
      throw new GeneraError(
        "INVALID_INPUT",
        `A ${m.role} message is ${content.length} characters long; the limit is ${MAX_MESSAGE_CHARS * 4}`,
      );
    }
    switch (m.role) {
      case "system":
      case "developer":
        return new SystemMessage(content);
      case "user":
        return new HumanMessage(content);
      case "assistant":
        for (const c of m.tool_calls ?? []) names.set(c.id, c.function.name);
        return new AIMessage({
          content,
          tool_calls: (m.tool_calls ?? []).map((c) => ({
            id: c.id,
            name: c.function.name,
            args: parseArguments(c.function.arguments, c.function.name),
            type: "tool_call" as const,
          })),
        });
      default:
        return new ToolMessage({ content, tool_call_id: m.tool_call_id, name: names.get(m.tool_call_id) });
    }
  });
}

let defaultModel: OfflineToolChatModel | undefined;

/**
 * /v1/chat/completions with `tools`: the offline tool model answers with `tool_calls`
 * for the tools the client declared (by their names: search_documents, calculator,
 * current_date, …) or, once the client sends the results back as `tool` messages, with
 * the answer composed from them. Tools it does not know get an honest refusal.
 */
export async function toolCallCompletion(
  rawBody: unknown,
  res: Response,
  options: { limiter: GenerationLimiter; model?: OfflineToolChatModel },
): Promise<void> {
  const body = parseInput(ToolCompletionBody, rawBody, "chat completion request");
  if (body.model !== TOOL_MODEL_ID && body.model !== RAG_MODEL_ID) {
    throw new GeneraError("NOT_FOUND", `Model "${body.model}" does not exist; use "${TOOL_MODEL_ID}" for tool calls`);
  }
  const user = body.messages.filter((m) => m.role === "user").at(-1);
  if (!user || !text(user.content).trim())
    throw new GeneraError("INVALID_INPUT", "messages need a non-empty user message");
  if (text(user.content).length > MAX_MESSAGE_CHARS) {
    throw new GeneraError("INVALID_INPUT", `The last user message is longer than ${MAX_MESSAGE_CHARS} characters`);
  }
  const messages = toMessages(body.messages);
  defaultModel ??= options.model ? undefined : new OfflineToolChatModel();
  const model = options.model ?? (defaultModel as OfflineToolChatModel);
  const tools = body.tool_choice === "none" ? [] : body.tools;
  const signal = responseSignal(res);
  const reply = await options.limiter.run(() => model.bindTools(tools).invoke(messages, { signal }), signal);
  const calls = (reply.tool_calls ?? []).map((c) => ({
    id: c.id ?? `call_${randomUUID()}`,
    type: "function" as const,
    function: { name: c.name, arguments: JSON.stringify(c.args) },
  }));
  const content = calls.length ? null : messageText(reply.content);
  const finish = calls.length ? "tool_calls" : "stop";
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  if (!body.stream) {
    res.json({
      id,
      object: "chat.completion",
      created,
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content, ...(calls.length ? { tool_calls: calls } : {}), refusal: null },
          finish_reason: finish,
          logprobs: null,
        },
      ],
    });
    return;
  }
  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-cache");
  const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
    `data: ${JSON.stringify({
      id,
      object: "chat.completion.chunk",
      created,
      model: body.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    })}\n\n`;
  res.write(chunk({ role: "assistant", content: calls.length ? null : "" }, null));
  if (calls.length) res.write(chunk({ tool_calls: calls.map((c, index) => ({ index, ...c })) }, null));
  else res.write(chunk({ content }, null));
  res.write(chunk({}, finish));
  res.write("data: [DONE]\n\n");
  res.end();
}

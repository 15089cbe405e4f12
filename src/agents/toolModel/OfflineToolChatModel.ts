import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import type {
  BaseChatModelCallOptions,
  BindToolsInput,
  LangSmithParams,
} from "@langchain/core/language_models/chat_models";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import type { Runnable } from "@langchain/core/runnables";
import { throwIfAborted } from "../../llms/abortError.js";
import { ExtractiveAnswerer } from "../../llms/ExtractiveAnswerer.js";
import { wordTokens } from "../../llms/textUnits.js";
import { messageText } from "../limits.js";
import { findFigure, passagesOf, quotePassages } from "./composeAnswer.js";
import { ToolModel } from "./ToolModel.js";
import { INTENT_TOOLS, type PlannedCall, type ToolPlan } from "./toolPlan.js";

export interface OfflineToolChatModelFields {
  /** A loaded model, or the folder of one (default: the checkpoint shipped with genera). */
  model?: ToolModel | string;
  /** Quotes sentences from search results; pass one with embeddings for its dense score. */
  answerer?: ExtractiveAnswerer;
}

export interface OfflineToolCallOptions extends BaseChatModelCallOptions {
  tools?: BindToolsInput[];
}

const CANNOT = "I can't do that with these tools.";

/** The name of a tool in any of the forms bindTools accepts. */
function toolName(tool: BindToolsInput): string | undefined {
  const t = tool as { name?: unknown; function?: { name?: unknown } };
  if (typeof t.name === "string") return t.name;
  if (typeof t.function?.name === "string") return t.function.name;
  return undefined;
}

/**
 * The offline tool model as a LangChain chat model: `bindTools` then `invoke(messages)`
 * returns an AIMessage with `tool_calls` (the trained model's plan for the user's last
 * request, restricted to the tools bound) or, once the tools have answered, the final
 * answer composed from their results. It runs in `createAgent` like any provider's model.
 */
export class OfflineToolChatModel extends BaseChatModel<OfflineToolCallOptions> {
  static override lc_name(): string {
    return "OfflineToolChatModel";
  }

  private loaded?: ToolModel;
  private readonly modelDir?: string;
  readonly answerer: ExtractiveAnswerer;
  private calls = 0;

  constructor(fields: OfflineToolChatModelFields = {}) {
    super({});
    if (fields.model instanceof ToolModel) this.loaded = fields.model;
    this.modelDir = typeof fields.model === "string" ? fields.model : undefined;
    this.answerer = fields.answerer ?? new ExtractiveAnswerer({ maxSentences: 2 });
  }

  _llmType(): string {
    return "genera-tool-model";
  }

  /** Deterministic (temperature 0) and as long as its plan or composed answer (no token limit). */
  override getLsParams(options: this["ParsedCallOptions"]): LangSmithParams {
    return {
      ls_provider: "genera",
      ls_model_name: this.modelDir ?? "tool-model",
      ls_model_type: "chat",
      ls_temperature: 0,
      ls_max_tokens: undefined,
      ls_stop: options?.stop,
    };
  }

  get toolModel(): ToolModel {
    this.loaded ??= ToolModel.load(this.modelDir);
    return this.loaded;
  }

  override bindTools(
    tools: BindToolsInput[],
    kwargs?: Partial<OfflineToolCallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, OfflineToolCallOptions> {
    return this.withConfig({ ...kwargs, tools } as Partial<OfflineToolCallOptions>);
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    throwIfAborted(options.signal);
    const message = await this.respond(
      messages,
      (options.tools ?? []).map(toolName).filter((n): n is string => !!n),
    );
    // The plan takes milliseconds: a signal that fired meanwhile rejects the call rather than
    // letting an agent act on a reply its caller gave up on.
    throwIfAborted(options.signal);
    // Counted in words (textUnits' wordTokens), as ExtractiveChatModel does: the answer is quoted
    // text, and the planner's own vocabulary is not what a reader would count.
    const input_tokens = messages.reduce((n, m) => n + wordTokens(messageText(m.content)).length, 0);
    const calls = (message.tool_calls ?? []).map((c) => `${c.name} ${JSON.stringify(c.args)}`).join(" ");
    const output_tokens = wordTokens(`${messageText(message.content)} ${calls}`).length;
    message.usage_metadata = { input_tokens, output_tokens, total_tokens: input_tokens + output_tokens };
    return { generations: [{ message, text: messageText(message.content) }] };
  }

  /**
   * Streaming gives the reply as one AIMessageChunk (tool calls, usage and all): the planner
   * makes its whole reply at once, and LangChain's stream() wants chunks, not the AIMessage it
   * would otherwise pass through.
   */
  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const { generations } = await this._generate(messages, options);
    const message = generations[0]?.message as AIMessage;
    const text = messageText(message.content);
    yield new ChatGenerationChunk({
      text,
      message: new AIMessageChunk({
        content: message.content,
        tool_calls: message.tool_calls,
        usage_metadata: message.usage_metadata,
      }),
    });
    await runManager?.handleLLMNewToken(text);
  }

  /** The next message of the conversation: tool calls to make, or the answer. */
  async respond(messages: BaseMessage[], bound: string[]): Promise<AIMessage> {
    const lastHuman = messages.findLastIndex((m) => HumanMessage.isInstance(m) || m.getType() === "human");
    const request = lastHuman >= 0 ? messageText(messages[lastHuman]?.content).trim() : "";
    if (request === "") return new AIMessage("Ask me something, and I will use my tools to answer it.");
    const after = messages.slice(lastHuman + 1);
    const results = after.filter((m): m is ToolMessage => ToolMessage.isInstance(m));
    // What each result answered: the arguments of the call with its id.
    const argsOf = new Map<string, Record<string, unknown>>();
    for (const m of after) {
      if (AIMessage.isInstance(m)) for (const c of m.tool_calls ?? []) argsOf.set(c.id ?? "", c.args);
    }
    const { plan } = await this.toolModel.predict(request);
    const needed = INTENT_TOOLS[plan.intent];
    const missing = needed.filter((t) => !bound.includes(t));
    if (plan.intent === "refuse") return new AIMessage(`${CANNOT} ${this.capabilities(bound)}`);
    if (plan.intent === "reply") return new AIMessage(this.capabilities(bound));
    if (missing.length > 0) {
      return new AIMessage(
        `${CANNOT} This needs ${missing.join(" and ")}, which I was not given. ${this.capabilities(bound)}`,
      );
    }
    if (results.length === 0) return this.callTools(plan.calls);
    if (plan.intent === "search_calculate" && !results.some((r) => r.name === "calculator")) {
      return this.calculateFromSearch(plan, results);
    }
    return new AIMessage(await this.compose(plan, results, argsOf));
  }

  private callTools(calls: PlannedCall[]): AIMessage {
    return new AIMessage({
      content: "",
      tool_calls: calls.map((c) => ({ id: `call_${++this.calls}`, name: c.name, args: c.args, type: "tool_call" })),
    });
  }

  /** After the search: the figure it found, the operation the user asked for, to the calculator. */
  private async calculateFromSearch(plan: ToolPlan, results: ToolMessage[]): Promise<AIMessage> {
    const search = results.find((r) => r.name === "search_documents");
    const query = String(plan.calls[0]?.args.query ?? "");
    const figure = search && search.status !== "error" ? findFigure(query, passagesOf(search)) : undefined;
    if (!figure || !plan.operation) {
      const quoted = search ? await quotePassages(this.answerer, query, passagesOf(search)) : undefined;
      return new AIMessage(
        `I could not find a figure for "${query}" in the documents, so there is nothing to calculate.${quoted ? ` The closest passage: ${quoted}` : ""}`,
      );
    }
    return this.callTools([{ name: "calculator", args: { expression: `${figure.value} ${plan.operation}` } }]);
  }

  private async compose(
    plan: ToolPlan,
    results: ToolMessage[],
    argsOf: Map<string, Record<string, unknown>>,
  ): Promise<string> {
    const parts: string[] = [];
    for (const result of results) {
      const text = messageText(result.content).trim();
      if (result.status === "error") {
        parts.push(`${result.name ?? "A tool"} failed: ${text.replace(/^Error from [a-z_]+(?: \([A-Z_]+\))?: /, "")}`);
        continue;
      }
      switch (result.name) {
        case "search_documents": {
          const query = String(argsOf.get(result.tool_call_id)?.query ?? plan.calls[0]?.args.query ?? "");
          const passages = passagesOf(result);
          if (plan.intent === "search_calculate") {
            const figure = findFigure(query, passages);
            if (figure) parts.push(`${figure.sentence} [${figure.source.index}]`);
            break;
          }
          const quoted = await quotePassages(this.answerer, query, passages);
          parts.push(quoted ?? `The documents do not say anything about "${query}".`);
          break;
        }
        case "calculator": {
          const m = /^(.*) = (.*)$/s.exec(text);
          parts.push(m ? `${m[1]} = ${m[2]}.` : text);
          break;
        }
        case "current_date":
          parts.push(`It is ${text}.`);
          break;
        default:
          parts.push(text);
      }
    }
    return parts.join("\n\n") || "The tools returned nothing.";
  }

  private capabilities(bound: string[]): string {
    const can: Record<string, string> = {
      search_documents: "search the indexed documents",
      read_document: "read an indexed document",
      calculator: "calculate",
      current_date: "tell the date and time",
      list_files: "list files",
      read_file: "read files",
      generate_image: "draw images",
    };
    const list = bound.map((b) => can[b]).filter(Boolean);
    return list.length ? `I can ${list.join(", ")}.` : "I have no tools to work with.";
  }
}

import { AIMessage, type BaseMessage, HumanMessage, isBaseMessage, SystemMessage } from "@langchain/core/messages";
import type { BasePromptTemplate } from "@langchain/core/prompts";
import type { RunnableConfig } from "@langchain/core/runnables";
import { GeneraError } from "../src/errors.js";
import { contentTerms, looksLikeFollowUp, wordTokens } from "../src/llms/textUnits.js";
import { outputText } from "./answerModel.js";
import { questionOf, RagChain, type RagChainOptions } from "./createRagChain.js";
import { CONDENSE_QUESTION_PROMPT } from "./prompts.js";

export type ChatTurn = { role: "user" | "human" | "assistant" | "ai" | "system"; content: string };

export interface ConversationalRagInput {
  question: string;
  /** Earlier turns, oldest first: LangChain messages or `{ role, content }` objects. */
  chatHistory?: Array<BaseMessage | ChatTurn>;
  /** Images shown to a vision-capable model with the question (see RagInput). */
  images?: string[];
}

export interface ConversationalRagChainOptions extends RagChainOptions {
  /** Prompt that rewrites a follow-up (input variables `chat_history`, `question`); default CONDENSE_QUESTION_PROMPT. */
  condensePrompt?: BasePromptTemplate;
  /** Turns of history used (default 6 messages for rewriting, the last 2 user turns for the extractive path). */
  maxHistoryMessages?: number;
}

/** `{ role, content }` objects and LangChain messages → LangChain messages. */
export function toMessages(history: unknown): BaseMessage[] {
  if (history === undefined || history === null) return [];
  if (!Array.isArray(history)) {
    throw new GeneraError("INVALID_INPUT", "chatHistory must be an array of messages or { role, content } objects");
  }
  return history.map((turn, i) => {
    if (isBaseMessage(turn)) return turn;
    const t = turn as Partial<ChatTurn>;
    if (typeof t?.content !== "string") {
      throw new GeneraError("INVALID_INPUT", `chatHistory[${i}] has no string content`);
    }
    switch (t.role) {
      case "user":
      case "human":
        return new HumanMessage(t.content);
      case "assistant":
      case "ai":
        return new AIMessage(t.content);
      case "system":
        return new SystemMessage(t.content);
      default:
        throw new GeneraError("INVALID_INPUT", `chatHistory[${i}] has unknown role "${String(t.role)}"`);
    }
  });
}

function transcript(messages: BaseMessage[]): string {
  return messages
    .map((m) => `${m.getType() === "human" ? "User" : m.getType() === "ai" ? "Assistant" : "System"}: ${outputText(m)}`)
    .join("\n");
}

/**
 * Conversational RAG: the chat history turns a follow-up ("and when was it founded?")
 * into something retrievable.
 * - With a generator, the model rewrites the follow-up into a standalone question
 *   (CONDENSE_QUESTION_PROMPT), which is used for retrieval and answering and returned as
 *   `standaloneQuestion`.
 * - With the extractive answerer (which cannot write), a follow-up — a question with a
 *   pronoun or fewer than two content words — is extended with the content words of the last
 *   two user turns, so retrieval and sentence ranking see the topic; a self-contained
 *   question is used as it is.
 */
export class ConversationalRagChain extends RagChain<ConversationalRagInput | string> {
  static override lc_name(): string {
    return "ConversationalRagChain";
  }

  readonly condensePrompt: BasePromptTemplate;
  readonly maxHistoryMessages: number;

  constructor(options: ConversationalRagChainOptions) {
    super(options);
    this.condensePrompt = options.condensePrompt ?? CONDENSE_QUESTION_PROMPT;
    this.maxHistoryMessages = options.maxHistoryMessages ?? 6;
  }

  protected override async prepare(
    input: ConversationalRagInput | string,
    config: RunnableConfig,
  ): Promise<{ question: string; query: string; standaloneQuestion?: string }> {
    const question = questionOf(input, "The conversational RAG chain");
    const history = typeof input === "string" ? [] : toMessages(input.chatHistory).slice(-this.maxHistoryMessages);
    if (history.length === 0) return { question, query: question };

    if (this.model.kind === "generator") {
      const promptValue = await this.condensePrompt.invoke({ chat_history: transcript(history), question }, config);
      const rewritten = cleanRewrite(outputText(await this.model.model.invoke(promptValue, config)));
      const standalone = rewritten === "" ? question : rewritten;
      return { question: standalone, query: standalone, standaloneQuestion: standalone };
    }

    if (!looksLikeFollowUp(question)) return { question, query: question };
    const own = new Set(contentTerms(question));
    const added: string[] = [];
    const userTurns = history.filter((m) => m.getType() === "human").slice(-2);
    for (const turn of userTurns.reverse()) {
      for (const word of wordTokens(outputText(turn))) {
        const [term] = contentTerms(word);
        if (term === undefined || own.has(term) || added.includes(word)) continue;
        added.push(word);
      }
    }
    if (added.length === 0) return { question, query: question };
    const query = `${question} ${added.slice(0, 10).join(" ")}`;
    return { question: query, query, standaloneQuestion: query };
  }
}

/** Models wrap rewrites in quotes or prefixes; keep the question itself. */
function cleanRewrite(text: string): string {
  const line =
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? "";
  return line
    .replace(/^(standalone question|question)\s*:\s*/i, "")
    .replace(/^["'“”]+|["'“”]+$/g, "")
    .trim();
}

export function createConversationalRagChain(options: ConversationalRagChainOptions): ConversationalRagChain {
  return new ConversationalRagChain(options);
}

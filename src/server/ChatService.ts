import type { Runnable } from "@langchain/core/runnables";
import type { RagOutput } from "../../chains/createRagChain.js";
import type { CitedSource } from "../llms/citedSource.js";
import type { ChatSessions } from "./ChatSessions.js";
import type { GenerationLimiter } from "./GenerationLimiter.js";
import type { ServerMetrics } from "./metrics.js";

export interface ChatTurn {
  role: "user" | "assistant";
  content: string;
}

/** What the RAG chains return, as the server passes it on. */
export type RagAnswer = Pick<RagOutput, "answer" | "sources">;

/** Input of the conversational RAG chain: the question and the turns before it. */
export interface ConversationalInput {
  question: string;
  chatHistory: ChatTurn[];
  /** Images for a vision-capable model (data: URLs); the session keeps only the question's text. */
  images?: string[];
}

export type ChatStreamEvent = { type: "sources"; sources: CitedSource[] } | { type: "token"; text: string };

export interface ChatServiceOptions {
  /** The conversational RAG chain: invoke → { answer, sources }; stream → partial chunks of that. */
  chain: Runnable<ConversationalInput, RagAnswer>;
  sessions: ChatSessions;
  limiter: GenerationLimiter;
  metrics: ServerMetrics;
  /** Turns of history passed to the chain (older ones are dropped). */
  historyTurns?: number;
}

/** Chat with sessions: loads history, asks the chain under the generation limit, stores both turns. */
export class ChatService {
  constructor(private readonly options: ChatServiceOptions) {}

  private async history(sessionId: string): Promise<ChatTurn[]> {
    const turns = (await this.options.sessions.messages(sessionId)).map(({ role, content }) => ({ role, content }));
    return turns.slice(-(this.options.historyTurns ?? 10));
  }

  /** `signal`: the request's (see responseSignal); a closed request leaves the queue and stops its chain. */
  async chat(
    message: string,
    sessionId?: string,
    signal?: AbortSignal,
    images?: string[],
  ): Promise<RagAnswer & { sessionId: string }> {
    const { sessions, limiter, chain } = this.options;
    const id = await sessions.ensure(sessionId, message);
    const chatHistory = await this.history(id);
    const input = { question: message, chatHistory, ...(images?.length ? { images } : {}) };
    const result = await limiter.run(() => chain.invoke(input, { signal }), signal);
    await sessions.append(id, { role: "user", content: message });
    await sessions.append(id, { role: "assistant", content: result.answer, sources: result.sources });
    return { answer: result.answer, sources: result.sources, sessionId: id };
  }

  /**
   * Streams an answer. The user turn and the full answer are stored once the stream
   * completes; an aborted stream stores nothing, so history never holds half answers.
   */
  async *chatStream(
    message: string,
    sessionId: string | undefined,
    signal?: AbortSignal,
    images?: string[],
  ): AsyncGenerator<ChatStreamEvent, RagAnswer & { sessionId: string }> {
    const { sessions, limiter, chain, metrics } = this.options;
    // The slot is taken before anything else, so the first step of this generator is
    // where a full queue shows (RATE_LIMITED): the route can still answer 429 then.
    const release = await limiter.acquire(signal);
    let id: string;
    let chatHistory: ChatTurn[];
    try {
      id = await sessions.ensure(sessionId, message);
      chatHistory = await this.history(id);
    } catch (error) {
      release();
      throw error;
    }
    const events: ChatStreamEvent[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    let answer = "";
    let sources: CitedSource[] = [];
    // The slot is held for the whole generation; events are handed to this generator through a small queue.
    const run = (async () => {
      try {
        const input = { question: message, chatHistory, ...(images?.length ? { images } : {}) };
        const stream = await chain.stream(input, { signal });
        for await (const chunk of stream as AsyncIterable<Partial<RagAnswer>>) {
          if (chunk.sources) {
            sources = chunk.sources;
            events.push({ type: "sources", sources });
          }
          if (chunk.answer) {
            answer += chunk.answer;
            metrics.tokensStreamed.inc();
            events.push({ type: "token", text: chunk.answer });
          }
          wake?.();
        }
      } finally {
        release();
      }
    })()
      .catch((error: unknown) => {
        failure = error;
      })
      .finally(() => {
        finished = true;
        wake?.();
      });
    while (true) {
      while (events.length) yield events.shift() as ChatStreamEvent;
      if (finished) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    await run;
    if (failure) throw failure;
    await sessions.append(id, { role: "user", content: message });
    await sessions.append(id, { role: "assistant", content: answer, sources });
    return { answer, sources, sessionId: id };
  }
}

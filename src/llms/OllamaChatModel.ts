import { AsyncLocalStorage } from "node:async_hooks";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import type { AIMessageChunk, BaseMessage } from "@langchain/core/messages";
import type { ChatGenerationChunk } from "@langchain/core/outputs";
import { ChatOllama, type ChatOllamaCallOptions, type ChatOllamaInput } from "@langchain/ollama";
import { throwIfAborted } from "./abortError.js";
import { type ProviderDescription, toProviderError } from "./providerErrors.js";

/** The abort signal of the call in progress, read by the fetch each model hands its Ollama client. */
const callSignal = new AsyncLocalStorage<AbortSignal | undefined>();

/**
 * `ChatOllama` whose connection failures become GeneraError("PROVIDER_UNAVAILABLE") naming the
 * URL, and whose aborts reject with the abort error and cancel only their own request.
 */
export class OllamaChatModel extends ChatOllama {
  static override lc_name(): string {
    return "OllamaChatModel";
  }

  readonly where: ProviderDescription;

  constructor(fields: ChatOllamaInput & { baseUrl: string }) {
    const baseFetch = fields.fetch ?? fetch;
    const fetchWithCallSignal: typeof fetch = (input, init) => {
      const signal = callSignal.getStore();
      if (!signal) return baseFetch(input, init);
      return baseFetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
    };
    super({ ...fields, fetch: fetchWithCallSignal });
    this.where = { provider: "ollama", url: fields.baseUrl };
  }

  /**
   * ChatOllama answers an abort by ending the stream early (a truncated answer that looks
   * complete) and by calling its client's abort(), which cancels every streamed request of the
   * client — other callers' too, and one model serves all of the server's requests. So it is
   * handed no signal: this call's own request is cancelled through its fetch, and the abort
   * rejects with the abort error, as LangChain's models do.
   */
  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const signal = options.signal;
    throwIfAborted(signal);
    const inner = super._streamResponseChunks(messages, { ...options, signal: undefined }, runManager);
    try {
      while (true) {
        const next = await callSignal.run(signal, () => inner.next());
        throwIfAborted(signal);
        if (next.done) return;
        yield next.value;
      }
    } catch (error) {
      throwIfAborted(signal);
      throw error;
    } finally {
      await inner.return(undefined).catch(() => undefined);
    }
  }

  override async invoke(
    input: BaseLanguageModelInput,
    options?: Partial<ChatOllamaCallOptions>,
  ): Promise<AIMessageChunk> {
    try {
      return await super.invoke(input, options);
    } catch (error) {
      throw toProviderError(error, this.where);
    }
  }

  override async *_streamIterator(
    input: BaseLanguageModelInput,
    options?: Partial<ChatOllamaCallOptions>,
  ): AsyncGenerator<AIMessageChunk> {
    try {
      yield* super._streamIterator(input, options);
    } catch (error) {
      throw toProviderError(error, this.where);
    }
  }
}

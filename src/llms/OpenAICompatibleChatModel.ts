import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import type { AIMessageChunk } from "@langchain/core/messages";
import type { Runnable } from "@langchain/core/runnables";
import { ChatOpenAI, type ChatOpenAICallOptions, type ChatOpenAIFields } from "@langchain/openai";
import { type ProviderDescription, toProviderError } from "./providerErrors.js";

/**
 * `ChatOpenAI` for any OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama's /v1,
 * OpenAI itself) whose connection failures surface as GeneraError("PROVIDER_UNAVAILABLE")
 * naming the URL, instead of the SDK's generic "Connection error.".
 */
export class OpenAICompatibleChatModel extends ChatOpenAI {
  static override lc_name(): string {
    return "OpenAICompatibleChatModel";
  }

  readonly where: ProviderDescription;
  private readonly ownFields: ChatOpenAIFields & { baseURL: string };

  constructor(fields: ChatOpenAIFields & { baseURL: string }) {
    const { baseURL, ...rest } = fields;
    super({ ...rest, configuration: { ...(rest.configuration ?? {}), baseURL } });
    this.where = { provider: "openai", url: baseURL };
    this.ownFields = fields;
  }

  /**
   * ChatOpenAI.withConfig (and so bindTools and withStructuredOutput, which use it)
   * builds a plain `new ChatOpenAI`, which would drop the error mapping: build this
   * class again instead, with the same defaults merged the same way.
   */
  override withConfig(
    config: Partial<ChatOpenAICallOptions>,
  ): Runnable<BaseLanguageModelInput, AIMessageChunk, ChatOpenAICallOptions> {
    const model = new OpenAICompatibleChatModel(this.ownFields);
    model.defaultOptions = { ...this.defaultOptions, ...config };
    return model;
  }

  override async invoke(
    input: BaseLanguageModelInput,
    options?: Partial<ChatOpenAICallOptions>,
  ): Promise<AIMessageChunk> {
    try {
      return await super.invoke(input, options);
    } catch (error) {
      throw toProviderError(error, this.where);
    }
  }

  override async *_streamIterator(
    input: BaseLanguageModelInput,
    options?: Partial<ChatOpenAICallOptions>,
  ): AsyncGenerator<AIMessageChunk> {
    try {
      yield* super._streamIterator(input, options);
    } catch (error) {
      throw toProviderError(error, this.where);
    }
  }
}

import type { BaseLanguageModelInput } from "@langchain/core/language_models/base";
import type { AIMessageChunk } from "@langchain/core/messages";
import { ChatOllama, type ChatOllamaCallOptions, type ChatOllamaInput } from "@langchain/ollama";
import { type ProviderDescription, toProviderError } from "./providerErrors.js";

/** `ChatOllama` whose connection failures become GeneraError("PROVIDER_UNAVAILABLE") naming the URL. */
export class OllamaChatModel extends ChatOllama {
  static override lc_name(): string {
    return "OllamaChatModel";
  }

  readonly where: ProviderDescription;

  constructor(fields: ChatOllamaInput & { baseUrl: string }) {
    super(fields);
    this.where = { provider: "ollama", url: fields.baseUrl };
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

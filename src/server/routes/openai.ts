import { randomUUID } from "node:crypto";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { Runnable } from "@langchain/core/runnables";
import { Router } from "express";
import { z } from "zod";
import { GeneraError } from "../../errors.js";
import { type DescribeImage, messageParts, messageText } from "../../multimodal/imageContent.js";
import type { TranscribeAudio } from "../../multimodal/speechQuestion.js";
import type { ChatTurn, ConversationalInput, RagAnswer } from "../ChatService.js";
import type { GenerationLimiter } from "../GenerationLimiter.js";
import { parseInput } from "../httpErrors.js";
import type { ServerMetrics } from "../metrics.js";
import { responseSignal } from "../responseSignal.js";
import { TOOL_MODEL_ID, toolCallCompletion } from "./openaiTools.js";

export const RAG_MODEL_ID = "genera-rag";

/** As on /api/chat and /rag. */
const MAX_QUESTION_CHARS = 8000;
/** Ten turns of history at the question cap, which is what the chat route passes on. */
const MAX_CONVERSATION_CHARS = 20 * MAX_QUESTION_CHARS;

const ContentPart = z.object({ type: z.string(), text: z.string().optional() }).passthrough();
const Message = z.object({
  role: z.enum(["system", "user", "assistant", "developer", "tool"]),
  content: z.union([z.string(), z.array(ContentPart), z.null()]).optional(),
});
const ChatCompletionBody = z
  .object({
    model: z.string().min(1),
    messages: z.array(Message).min(1).max(200),
    stream: z.boolean().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().optional(),
  })
  .passthrough();
const EmbeddingsBody = z.object({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(z.string()).min(1).max(256)]),
  encoding_format: z.enum(["float", "base64"]).optional(),
});

function text(content: z.infer<typeof Message>["content"]): string {
  if (typeof content === "string") return content;
  if (!content) return "";
  return content.map((p) => p.text ?? "").join("");
}

/** Rough token count for `usage`; clients only display it. */
function countTokens(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

export interface OpenAiRouterOptions {
  chain: Runnable<ConversationalInput, RagAnswer>;
  embeddings: EmbeddingsInterface;
  embeddingsModelId: string;
  limiter: GenerationLimiter;
  metrics: ServerMetrics;
  /** Caption + OCR of an image in a message; without it an image part becomes only a note. */
  describeImage?: DescribeImage;
  /** Speech to text of a recorded question (`input_audio` parts). */
  transcribeAudio?: TranscribeAudio;
  /** The chat model reads images (llm.vision): they reach it as image_url parts. */
  vision?: boolean;
}

/**
 * OpenAI-compatible routes: any OpenAI client can chat with the knowledge base.
 * The answer is the RAG answer; its sources ride along as an extra `sources` field.
 */
export function openAiRouter(options: OpenAiRouterOptions): Router {
  const { chain, limiter, metrics } = options;
  const router = Router();
  const created = Math.floor(Date.now() / 1000);

  router.get("/models", (_req, res) => {
    res.json({
      object: "list",
      data: [
        { id: RAG_MODEL_ID, object: "model", created, owned_by: "genera" },
        { id: options.embeddingsModelId, object: "model", created, owned_by: "genera" },
        { id: TOOL_MODEL_ID, object: "model", created, owned_by: "genera" },
      ],
    });
  });

  router.post("/chat/completions", async (req, res) => {
    // With `tools`, the offline tool model answers with tool calls (see openaiTools.ts).
    if (Array.isArray(req.body?.tools) && req.body.tools.length > 0)
      return toolCallCompletion(req.body, res, { limiter });
    const body = parseInput(ChatCompletionBody, req.body, "chat completion request");
    if (body.model !== RAG_MODEL_ID) {
      throw new GeneraError("NOT_FOUND", `Model "${body.model}" does not exist; use "${RAG_MODEL_ID}"`);
    }
    const turns = body.messages.filter((m) => m.role === "user" || m.role === "assistant");
    const last = turns[turns.length - 1];
    // Images in the question (image_url parts) reach a vision model as they are, any other
    // model as their caption and OCR text; recordings (input_audio parts) as their words.
    const readers = { describe: options.describeImage, transcribe: options.transcribeAudio };
    const { text: question, images } =
      last?.role !== "user"
        ? { text: "", images: [] }
        : options.vision
          ? await messageParts(last.content, readers)
          : { text: await messageText(last.content, readers), images: [] };
    if (!question.trim()) {
      throw new GeneraError("INVALID_INPUT", "messages must end with a non-empty user message");
    }
    // The same caps as /api/chat and /rag: a question of at most 8,000 characters, and a
    // bounded conversation (history is the client's to send here, not the session store's).
    if (question.length > MAX_QUESTION_CHARS) {
      throw new GeneraError(
        "INVALID_INPUT",
        `The last user message is ${question.length} characters long; the limit is ${MAX_QUESTION_CHARS}`,
      );
    }
    const total = body.messages.reduce((n, m) => n + text(m.content).length, 0);
    if (total > MAX_CONVERSATION_CHARS) {
      throw new GeneraError(
        "INVALID_INPUT",
        `The messages hold ${total} characters in all; the limit is ${MAX_CONVERSATION_CHARS}`,
      );
    }
    const input: ConversationalInput = {
      question,
      ...(images.length ? { images } : {}),
      chatHistory: turns.slice(0, -1).map((m) => ({ role: m.role, content: text(m.content) }) as ChatTurn),
    };
    const id = `chatcmpl-${randomUUID()}`;
    const promptTokens = countTokens(body.messages.map((m) => text(m.content)).join(" "));
    const signal = responseSignal(res);

    if (!body.stream) {
      const result = await limiter.run(() => chain.invoke(input, { signal }), signal);
      const completionTokens = countTokens(result.answer);
      res.json({
        id,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: RAG_MODEL_ID,
        choices: [
          { index: 0, message: { role: "assistant", content: result.answer }, finish_reason: "stop", logprobs: null },
        ],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
        sources: result.sources,
      });
      return;
    }

    // A slot first: a full queue is a 429 before any header, like the non-streaming path.
    const release = await limiter.acquire(signal);
    res.status(200);
    res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
    res.setHeader("Cache-Control", "no-cache");
    res.flushHeaders();
    const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({
        id,
        object: "chat.completion.chunk",
        created: Math.floor(Date.now() / 1000),
        model: RAG_MODEL_ID,
        choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
        ...extra,
      })}\n\n`;
    let answer = "";
    let sources: unknown[] = [];
    try {
      res.write(chunk({ role: "assistant", content: "" }, null));
      for await (const part of await chain.stream(input, { signal })) {
        if (part.sources) sources = part.sources;
        if (part.answer) {
          answer += part.answer;
          metrics.tokensStreamed.inc();
          res.write(chunk({ content: part.answer }, null));
        }
      }
      res.write(chunk({}, "stop", { sources }));
      if (body.stream_options?.include_usage) {
        const completionTokens = countTokens(answer);
        res.write(
          `data: ${JSON.stringify({
            id,
            object: "chat.completion.chunk",
            created: Math.floor(Date.now() / 1000),
            model: RAG_MODEL_ID,
            choices: [],
            usage: {
              prompt_tokens: promptTokens,
              completion_tokens: completionTokens,
              total_tokens: promptTokens + completionTokens,
            },
          })}\n\n`,
        );
      }
      res.write("data: [DONE]\n\n");
    } catch (error) {
      const g =
        error instanceof GeneraError ? error : new GeneraError("INTERNAL", "Generation failed", { cause: error });
      res.write(`data: ${JSON.stringify({ error: { code: g.code, message: g.message } })}\n\n`);
    } finally {
      release();
      res.end();
    }
  });

  router.post("/embeddings", async (req, res) => {
    const body = parseInput(EmbeddingsBody, req.body, "embeddings request");
    const inputs = typeof body.input === "string" ? [body.input] : body.input;
    const vectors = await options.embeddings.embedDocuments(inputs);
    const data = vectors.map((v, index) => ({
      object: "embedding",
      index,
      embedding: body.encoding_format === "base64" ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v,
    }));
    const tokens = countTokens(inputs.join(" "));
    res.json({
      object: "list",
      data,
      model: options.embeddingsModelId,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  });

  return router;
}

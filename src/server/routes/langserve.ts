import { randomUUID } from "node:crypto";
import type { Runnable } from "@langchain/core/runnables";
import { Router } from "express";
import { z } from "zod";
import { GeneraError } from "../../errors.js";
import type { RagAnswer } from "../ChatService.js";
import type { GenerationLimiter } from "../GenerationLimiter.js";
import { errorBody, parseInput } from "../httpErrors.js";
import { responseSignal } from "../responseSignal.js";
import { openEventStream } from "../sse.js";

/** A question as LangServe clients send it: a plain string or { question }. */
const RagInput = z.union([
  z.string().trim().min(1).max(8000),
  z.object({ question: z.string().trim().min(1).max(8000) }).passthrough(),
]);

const InvokeBody = z.object({
  input: RagInput,
  config: z.record(z.unknown()).optional(),
  kwargs: z.unknown().optional(),
});
const BatchBody = z.object({
  inputs: z.array(RagInput).min(1).max(32),
  config: z.unknown().optional(),
  kwargs: z.unknown().optional(),
});

const INPUT_SCHEMA = {
  title: "RagInput",
  anyOf: [
    { type: "string", description: "the question" },
    { type: "object", properties: { question: { type: "string" } }, required: ["question"] },
  ],
};

const OUTPUT_SCHEMA = {
  title: "RagOutput",
  type: "object",
  properties: {
    answer: { type: "string", description: "the answer with [n] citation markers" },
    sources: {
      type: "array",
      items: {
        type: "object",
        properties: {
          index: { type: "integer" },
          id: { type: "string" },
          source: { type: "string" },
          title: { type: "string" },
          headings: { type: "array", items: { type: "string" } },
          page: { type: "integer" },
          score: { type: "number" },
          page_content: { type: "string", description: "the cited passage" },
        },
        required: ["index", "source", "page_content"],
      },
    },
  },
  required: ["answer", "sources"],
};

/**
 * RemoteRunnable revives any object with a `text` key as a StringPromptValue, which
 * would swallow every source; sources go over the wire with LangServe's document
 * field name, `page_content`, instead.
 */
function toWire(output: Partial<RagAnswer>): Record<string, unknown> {
  if (!output.sources) return output;
  return {
    ...output,
    sources: output.sources.map(({ text, ...rest }) => ({ ...rest, page_content: text })),
  };
}

function question(input: z.infer<typeof RagInput>): { question: string } {
  return { question: typeof input === "string" ? input : input.question };
}

/**
 * LangServe's wire protocol for one runnable, so `RemoteRunnable` clients work
 * unchanged: POST /invoke, /batch, /stream (SSE: metadata, data…, end) and the
 * JSON schemas of input and output.
 */
export function langServeRouter(chain: Runnable<{ question: string }, RagAnswer>, limiter: GenerationLimiter): Router {
  const router = Router();

  router.get("/input_schema", (_req, res) => {
    res.json(INPUT_SCHEMA);
  });
  router.get("/output_schema", (_req, res) => {
    res.json(OUTPUT_SCHEMA);
  });
  router.get("/config_schema", (_req, res) => {
    res.json({ title: "RagConfig", type: "object", properties: {} });
  });

  router.post("/invoke", async (req, res) => {
    const body = parseInput(InvokeBody, req.body, "invoke request");
    const signal = responseSignal(res);
    const output = await limiter.run(() => chain.invoke(question(body.input), { signal }), signal);
    res.json({ output: toWire(output), metadata: { run_id: randomUUID(), feedback_tokens: [] } });
  });

  router.post("/batch", async (req, res) => {
    const body = parseInput(BatchBody, req.body, "batch request");
    const signal = responseSignal(res);
    const output = await limiter.run(() => chain.batch(body.inputs.map(question), { signal }), signal);
    res.json({ output: output.map(toWire), metadata: { run_ids: output.map(() => randomUUID()) } });
  });

  router.post("/stream", async (req, res) => {
    const body = parseInput(InvokeBody, req.body, "stream request");
    const signal = responseSignal(res);
    // A slot first: a full queue is a 429 before the event stream opens.
    const release = await limiter.acquire(signal);
    const sse = openEventStream(res);
    try {
      sse.send("metadata", { run_id: randomUUID() });
      for await (const chunk of await chain.stream(question(body.input), { signal })) {
        sse.send("data", toWire(chunk));
      }
      sse.send("end", undefined);
    } catch (error) {
      const g = error instanceof GeneraError ? error : new GeneraError("INTERNAL", "Stream failed", { cause: error });
      sse.send("error", errorBody(g).error);
    } finally {
      release();
      sse.close();
    }
  });

  return router;
}

import { tool } from "@langchain/core/tools";
import { z } from "zod";
import type { GeneratorModel } from "../../../chains/answerModel.js";
import { createSummarizeChain } from "../../../chains/summarize.js";
import { createTranslateChain } from "../../../chains/translate.js";

/**
 * summarize / translate: the existing chains as tools. They exist only when a generative
 * model is configured; the extractive answerer cannot write new text.
 */
export function createChainTools(llm: GeneratorModel) {
  const summarizer = createSummarizeChain({ llm });
  const translator = createTranslateChain({ llm });
  const summarize = tool(async ({ text }, config) => summarizer.invoke(text, config), {
    name: "summarize",
    description: "Summarises a text (for a document, read it first with read_document).",
    schema: z.object({ text: z.string().describe("The text to summarise") }),
  });
  const translate = tool(async ({ text, to, from }, config) => translator.invoke({ text, to, from }, config), {
    name: "translate",
    description: "Translates a text into another language.",
    schema: z.object({
      text: z.string().describe("The text to translate"),
      to: z.string().describe("Target language, e.g. German or de"),
      from: z.string().optional().describe("Source language, when known"),
    }),
  });
  return { summarize, translate };
}

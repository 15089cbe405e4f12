import type { StructuredToolInterface } from "@langchain/core/tools";
import type { GeneratorModel } from "../../../chains/answerModel.js";
import { GeneraError } from "../../errors.js";
import type { KnowledgeBase } from "../../knowledge/KnowledgeBase.js";
import { calculatorTool } from "./calculator.js";
import { createChainTools } from "./chainTools.js";
import { createCurrentDateTool } from "./currentDate.js";
import { createReadDocumentTool, createSearchTool, type PassageRetriever } from "./documentTools.js";
import { createFileTools } from "./fileTools.js";
import { createGenerateImageTool, type ImageToolOptions } from "./imageTool.js";

export interface AgentToolsOptions {
  /** Gives search_documents (its default retriever) and read_document. */
  knowledgeBase?: Pick<KnowledgeBase, "listSources" | "documentChunks" | "asRetriever">;
  /** Another retriever for search_documents. */
  retriever?: PassageRetriever;
  /** Passages per search (default 4). */
  k?: number;
  /** Folders list_files / read_file may read; no roots, no file tools. */
  roots?: string[];
  /** A generative model: adds summarize and translate. */
  generator?: GeneratorModel;
  /** Image generators (names of shipped models or folders) and where PNGs go: adds generate_image. */
  images?: ImageToolOptions;
  /** Only these tools (by name); unknown names are an error. */
  names?: string[];
}

export const TOOL_NAMES = [
  "search_documents",
  "read_document",
  "calculator",
  "current_date",
  "list_files",
  "read_file",
  "summarize",
  "translate",
  "generate_image",
] as const;

/** The tools genera can offer with what it was given; an agent reaches only these. */
export function createAgentTools(options: AgentToolsOptions = {}): StructuredToolInterface[] {
  const tools: StructuredToolInterface[] = [];
  const retriever = options.retriever ?? options.knowledgeBase?.asRetriever();
  if (retriever) tools.push(createSearchTool({ retriever, k: options.k }));
  if (options.knowledgeBase) tools.push(createReadDocumentTool({ knowledgeBase: options.knowledgeBase }));
  tools.push(calculatorTool, createCurrentDateTool());
  if (options.roots && options.roots.length > 0) {
    const { listFiles, readFile } = createFileTools({ roots: options.roots });
    tools.push(listFiles, readFile);
  }
  if (options.generator) {
    const { summarize, translate } = createChainTools(options.generator);
    tools.push(summarize, translate);
  }
  if (options.images && options.images.models.length > 0) tools.push(createGenerateImageTool(options.images));
  if (!options.names) return tools;
  const available = new Map(tools.map((t) => [t.name, t]));
  return options.names.map((name) => {
    const t = available.get(name);
    if (t) return t;
    const why = (TOOL_NAMES as readonly string[]).includes(name)
      ? "it is not available with this configuration (documents, file roots, a generative model or image models are missing)"
      : "there is no tool by that name";
    throw new GeneraError(
      "INVALID_INPUT",
      `Tool "${name}" cannot be used: ${why}. Available: ${[...available.keys()].join(", ")}`,
      {
        details: { tool: name, available: [...available.keys()] },
      },
    );
  });
}

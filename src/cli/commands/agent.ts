import type { Writable } from "node:stream";
import type { Command } from "commander";
import type { AgentEvent, AgentResult, AgentRunner, AgentStep } from "../../agents/AgentRunner.js";
import { createAgentRunner } from "../../agents/createAgentRunner.js";
import { createAgentTools } from "../../agents/tools/createAgentTools.js";
import { shippedImageGenerators } from "../../agents/tools/imageTool.js";
import type { GeneraConfig } from "../../config.js";
import { isExtractiveChatModel } from "../../llms/ExtractiveChatModel.js";
import { loadCliConfig, openKnowledgeBase } from "../context.js";
import { numberFlag } from "../flags.js";
import { addLlmOptions, llmOverrides, openAnswerModel, printSources } from "./llmOptions.js";

/** One line per step, as it happens: "→ tool {args}", "← result…", "· thought". */
export function formatStep(step: AgentStep, width = 160): string {
  const cut = (s: string) => {
    const one = s.replace(/\s+/g, " ").trim();
    return one.length > width ? `${one.slice(0, width - 1)}…` : one;
  };
  if (step.type === "thought") return `· ${cut(step.text)}`;
  if (step.type === "tool_call") return `→ ${step.tool} ${JSON.stringify(step.args)}`;
  return `${step.error ? "✗" : "←"} ${step.tool}: ${cut(step.content)}`;
}

export interface RunAgentOptions {
  json?: boolean;
  out?: Writable;
  err?: Writable;
}

/** Runs one task; text mode prints each step on stderr as it happens and the answer on stdout. */
export async function runAgent(agent: AgentRunner, task: string, options: RunAgentOptions = {}): Promise<AgentResult> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  let result: AgentResult | undefined;
  for await (const event of agent.streamRun(task) as AsyncGenerator<AgentEvent>) {
    if (event.type === "step" && !options.json) err.write(`${formatStep(event.step)}\n`);
    if (event.type === "done") result = event.result;
  }
  if (!result) throw new Error("the agent ended without a result");
  if (options.json) {
    out.write(`${JSON.stringify({ task, ...result })}\n`);
  } else {
    out.write(`${result.answer}\n`);
    printSources(out, result.sources);
  }
  return result;
}

/** The agent genera builds from its configuration: the knowledge base's tools, file roots, the configured model. */
export async function openAgent(
  config: GeneraConfig,
  kb: Awaited<ReturnType<typeof openKnowledgeBase>>,
  opts: { tools?: string[]; roots?: string[]; maxSteps?: number; timeout?: number; imageDir?: string },
): Promise<AgentRunner> {
  const model = await openAnswerModel(config, kb.embeddings);
  const tools = createAgentTools({
    knowledgeBase: kb,
    k: config.retrieval.k,
    roots: opts.roots ?? config.server.folders,
    generator: isExtractiveChatModel(model) ? undefined : model,
    images: { models: shippedImageGenerators(), outDir: opts.imageDir },
    names: opts.tools,
  });
  return createAgentRunner({
    model,
    tools,
    limits: { maxSteps: opts.maxSteps, timeoutMs: opts.timeout ? opts.timeout * 1000 : undefined },
  });
}

const list = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
];

export function register(program: Command): void {
  addLlmOptions(
    program
      .command("agent")
      .description(
        "do a task with tools (search, read, calculate, date, files, images), printing each step as it happens",
      )
      .argument("<task>", "what to do")
      .option("--tools <names>", "only these tools, comma-separated (search_documents, calculator, …)", list)
      .option(
        "--root <dir>",
        "a folder list_files / read_file may read (repeatable; default: the served folders)",
        list,
      )
      .option("--image-dir <dir>", "where generate_image writes its PNGs (default <tmp>/genera-images)")
      .option(
        "--max-steps <n>",
        "tool turns before the agent stops",
        numberFlag("--max-steps", { integer: true, min: 1 }),
      )
      .option("--timeout <seconds>", "time before the agent stops", numberFlag("--timeout", { min: 1 }))
      .option("--store <dir>", "index folder (default <dataDir>/index)")
      .option("--json", 'print one JSON object { "answer", "steps", "sources" }'),
  ).action(async (task: string, opts, command: Command) => {
    const config = loadCliConfig(command, llmOverrides(opts));
    const kb = await openKnowledgeBase(config, { store: opts.store });
    try {
      const agent = await openAgent(config, kb, {
        tools: opts.tools,
        roots: opts.root,
        maxSteps: opts.maxSteps,
        timeout: opts.timeout,
        imageDir: opts.imageDir,
      });
      await runAgent(agent, task, { json: opts.json });
    } finally {
      await kb.close();
    }
  });
}

import type { BaseLanguageModelInterface } from "@langchain/core/language_models/base";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { StructuredToolInterface } from "@langchain/core/tools";
import { toJsonSchema } from "@langchain/core/utils/json_schema";
import { type AgentResult, AgentRunner, type StepSink } from "./AgentRunner.js";
import { CitationRegistry } from "./CitationRegistry.js";
import { type AgentLimits, invokeToolWithLimits, messageText, truncate } from "./limits.js";
import { observationStep, stoppedAnswer } from "./ToolCallingAgent.js";

export interface ReActAgentOptions {
  /** Any text-in, text-out model: TransformerLLM, transformers.js, a completion server, a chat model. */
  llm: BaseLanguageModelInterface;
  tools: StructuredToolInterface[];
  limits?: Partial<AgentLimits>;
  /** Instructions placed before the tool list. */
  instructions?: string;
}

export type ReActParse =
  | { kind: "action"; thought: string; tool: string; args: Record<string, unknown> }
  | { kind: "final"; thought: string; answer: string }
  | { kind: "invalid"; reason: string };

/**
 * Reads one ReAct turn. Tolerates what small models do: any letter case, markdown bold
 * or code fences, extra spaces, JSON or a bare string as the input, a reply that both
 * acts and answers (the action wins, as the observation must come first).
 */
export function parseReAct(text: string, tools: StructuredToolInterface[]): ReActParse {
  const clean = text
    .replace(/\*\*(thought|action input|action|final answer)\s*:?\*\*\s*:?/gi, "$1:")
    .split(/\n\s*observation\s*:/i)[0] as string;
  // The prompt ends with "Thought:", so a reply usually starts with the thought itself.
  const beforeMarker = clean.split(/(?:^|\n)\s*(?:action|final\s*answer)\s*:/i)[0] as string;
  const thought = beforeMarker.replace(/^\s*thought\s*:/i, "").trim();
  const action = /(?:^|\n)\s*action\s*:\s*`*([^\n`]+?)`*\s*(?:\n|$)/i.exec(clean);
  if (action) {
    const name = (action[1] as string)
      .trim()
      .replace(/\(.*\)$/, "")
      .replace(/^["']|["']$/g, "");
    const tool = tools.find((t) => t.name.toLowerCase() === name.toLowerCase());
    if (!tool) {
      return {
        kind: "invalid",
        reason: `there is no tool "${name}"; the tools are ${tools.map((t) => t.name).join(", ")}`,
      };
    }
    const inputMatch = /action\s*input\s*:\s*([\s\S]*)$/i.exec(clean.slice(action.index));
    const raw = (inputMatch?.[1] ?? "").replace(/^```(?:json)?\s*|\s*```\s*$/g, "").trim();
    const args = argumentsFor(tool, raw);
    if (typeof args === "string") return { kind: "invalid", reason: args };
    return { kind: "action", thought, tool: tool.name, args };
  }
  const final = /final\s*answer\s*:\s*([\s\S]*)$/i.exec(clean);
  if (final && (final[1] as string).trim()) return { kind: "final", thought, answer: (final[1] as string).trim() };
  return { kind: "invalid", reason: 'the reply has neither "Action:" with "Action Input:" nor "Final Answer:"' };
}

/** JSON arguments, or a bare string given to the tool's only (or first required) string field. */
function argumentsFor(tool: StructuredToolInterface, raw: string): Record<string, unknown> | string {
  const schema = toJsonSchema(tool.schema as never) as { properties?: Record<string, unknown>; required?: string[] };
  const fields = Object.keys(schema.properties ?? {});
  if (raw.startsWith("{")) {
    const json = raw.slice(0, raw.lastIndexOf("}") + 1);
    try {
      const parsed = JSON.parse(json) as unknown;
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
        return parsed as Record<string, unknown>;
    } catch {
      return `the Action Input of ${tool.name} is not valid JSON: ${json.slice(0, 120)}`;
    }
  }
  const value =
    raw
      .split("\n")[0]
      ?.trim()
      .replace(/^["'](.*)["']$/, "$1") ?? "";
  if (fields.length === 0) return {};
  const field = schema.required?.[0] ?? fields[0];
  if (value === "" && schema.required?.length) return `${tool.name} needs an Action Input (${field})`;
  return value === "" ? {} : { [field as string]: value };
}

const DEFAULT_INSTRUCTIONS =
  "Answer the task using the tools. Cite passages from search_documents as [n]. If no tool can help, say so in the final answer.";

/**
 * ReAct (Yao et al., 2022) over a model that only writes text: the prompt lists the tools,
 * the model writes Thought / Action / Action Input, genera runs the tool and appends the
 * Observation, until a Final Answer. One correcting message is sent when a reply cannot
 * be parsed; a second unparsable reply is taken as the answer itself.
 */
export class ReActAgent extends AgentRunner {
  static override lc_name(): string {
    return "ReActAgent";
  }

  readonly llm: BaseLanguageModelInterface;
  readonly tools: StructuredToolInterface[];
  readonly instructions: string;

  constructor(options: ReActAgentOptions) {
    super(options.limits);
    this.llm = options.llm;
    this.tools = options.tools;
    this.instructions = options.instructions ?? DEFAULT_INSTRUCTIONS;
  }

  prompt(task: string, scratchpad: string): string {
    const tools = this.tools
      .map((t) => {
        const schema = toJsonSchema(t.schema as never) as { properties?: Record<string, unknown> };
        return `${t.name}: ${t.description} Input: ${JSON.stringify(schema.properties ?? {})}`;
      })
      .join("\n");
    return (
      `${this.instructions}\n\nTools:\n${tools}\n\nUse this format:\n` +
      "Thought: what to do next\nAction: one tool name\nAction Input: the input as JSON\nObservation: the tool's result\n" +
      "… (Thought/Action/Action Input/Observation repeat as needed)\nThought: I can answer now\nFinal Answer: the answer\n\n" +
      `Task: ${task}\n${scratchpad}Thought:`
    );
  }

  protected async run(task: string, config: RunnableConfig, out: StepSink): Promise<AgentResult> {
    const limits = this.limits;
    const citations = new CitationRegistry();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
    const signal = AbortSignal.any([controller.signal, ...(config.signal ? [config.signal] : [])]);
    const toolConfig: RunnableConfig = { ...config, signal, configurable: { ...config.configurable, citations } };
    let scratchpad = "";
    let retried = false;
    let turn = 0;
    try {
      while (turn < limits.maxSteps) {
        const text = await this.generate(this.prompt(task, scratchpad), { ...config, signal }, out);
        const parsed = parseReAct(text, this.tools);
        if (parsed.kind === "invalid") {
          if (retried) return this.result(text.trim() || "(no answer)", out, citations);
          retried = true;
          scratchpad += ` ${text.trim()}\nObservation: Your reply could not be used: ${parsed.reason}. Reply with "Action:" and "Action Input:", or with "Final Answer:".\n`;
          continue;
        }
        if (parsed.thought) await out.step({ type: "thought", text: parsed.thought });
        if (parsed.kind === "final") return this.result(parsed.answer, out, citations);
        turn++;
        const id = `react-${turn}`;
        await out.step({ type: "tool_call", id, tool: parsed.tool, args: parsed.args });
        const tool = this.tools.find((t) => t.name === parsed.tool);
        const message = await invokeToolWithLimits(
          tool,
          { id, name: parsed.tool, args: parsed.args, type: "tool_call" },
          limits,
          toolConfig,
        );
        const step = observationStep(message);
        await out.step(step);
        scratchpad += ` ${parsed.thought}\nAction: ${parsed.tool}\nAction Input: ${JSON.stringify(parsed.args)}\nObservation: ${step.type === "observation" ? step.content : ""}\n`;
      }
      return { ...this.result(stoppedAnswer("steps", out.steps, limits), out, citations), stoppedBy: "steps" };
    } catch (error) {
      if (!controller.signal.aborted || config.signal?.aborted) throw error;
      return { ...this.result(stoppedAnswer("time", out.steps, limits), out, citations), stoppedBy: "time" };
    } finally {
      clearTimeout(timer);
    }
  }

  private result(answer: string, out: StepSink, citations: CitationRegistry): AgentResult {
    return { answer: truncate(answer, this.limits.maxAnswerChars), steps: out.steps, sources: citations.sources };
  }

  /** Streams one reply; tokens after "Final Answer:" are passed on as they come. */
  private async generate(prompt: string, config: RunnableConfig, out: StepSink): Promise<string> {
    let text = "";
    let sent = 0;
    const stream = await this.llm.stream(prompt, { ...config, stop: ["\nObservation:"] } as never);
    for await (const chunk of stream) {
      text += messageText((chunk as { content?: unknown })?.content ?? chunk);
      const at = text.search(/final\s*answer\s*:\s*/i);
      if (at >= 0 && !/\n\s*action\s*:/i.test(text)) {
        const start = at + (/final\s*answer\s*:\s*/i.exec(text.slice(at))?.[0].length ?? 0);
        if (text.length > Math.max(start, sent)) {
          out.token(text.slice(Math.max(start, sent)));
          sent = text.length;
        }
      }
      if (config.signal?.aborted) break;
    }
    if (config.signal?.aborted) throw new Error("aborted");
    return text;
  }
}

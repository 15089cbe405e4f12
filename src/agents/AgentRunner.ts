import { dispatchCustomEvent } from "@langchain/core/callbacks/dispatch";
import type { CallbackManagerForChainRun } from "@langchain/core/callbacks/manager";
import { Runnable, type RunnableConfig } from "@langchain/core/runnables";
import { GeneraError } from "../errors.js";
import { type CitedSource, citedNumbers } from "../llms/citedSource.js";
import { type AgentLimits, resolveLimits, truncate } from "./limits.js";

/** What an agent does, in order: its reasoning, each tool call, each tool's answer. */
export type AgentStep =
  | { type: "thought"; text: string }
  | { type: "tool_call"; id: string; tool: string; args: Record<string, unknown> }
  | { type: "observation"; id: string; tool: string; content: string; error: boolean; image?: AgentImage };

/** A picture a tool made (generate_image behind a server), where a client can fetch it. */
export interface AgentImage {
  url: string;
  model: string;
  count: number;
}

export interface AgentResult {
  answer: string;
  steps: AgentStep[];
  /** The passages search_documents returned, numbered as the answer cites them. */
  sources: CitedSource[];
  /** Set when a limit ended the run before the model answered. */
  stoppedBy?: "steps" | "time";
  /** The pictures the run's tools made, in order (only tools that answer a URL). */
  images?: AgentImage[];
}

export type AgentEvent =
  | { type: "step"; step: AgentStep }
  | { type: "token"; text: string }
  | { type: "done"; result: AgentResult };

export type AgentInput = string | { task: string } | { input: string } | { question: string };

type Emit = (event: AgentEvent) => void;

const EMIT_KEY = "__generaAgentEmit";

export function taskOf(input: AgentInput): string {
  const task =
    typeof input === "string"
      ? input
      : typeof input === "object" && input !== null
        ? ((input as { task?: unknown }).task ??
          (input as { input?: unknown }).input ??
          (input as { question?: unknown }).question)
        : undefined;
  if (typeof task !== "string" || task.trim() === "") {
    throw new GeneraError("INVALID_INPUT", "An agent needs a non-empty task (a string or { task })");
  }
  return task.trim();
}

/**
 * The Runnable every genera agent is: `invoke` → AgentResult; `streamRun` yields each step
 * and answer token as it happens; `streamEvents` shows the model and tool runs and an
 * `agent_step` custom event per step; callbacks fire for all of them.
 */
export abstract class AgentRunner extends Runnable<AgentInput, AgentResult> {
  lc_namespace = ["genera", "agents"];
  readonly limits: AgentLimits;

  constructor(limits?: Partial<AgentLimits>) {
    super();
    this.limits = resolveLimits(limits);
  }

  /** Runs the task; calls `step` and `token` as things happen. */
  protected abstract run(task: string, config: RunnableConfig, out: StepSink): Promise<AgentResult>;

  async invoke(input: AgentInput, config?: RunnableConfig): Promise<AgentResult> {
    return this._callWithConfig(
      async (i: AgentInput, cfg?: RunnableConfig, runManager?: CallbackManagerForChainRun) => {
        const emit = (config?.configurable as Record<string, unknown> | undefined)?.[EMIT_KEY] as Emit | undefined;
        const child: RunnableConfig = { ...cfg, callbacks: runManager?.getChild() };
        const sink = new StepSink(child, emit);
        const result = await this.run(taskOf(i), child, sink);
        const answer = truncate(result.answer, this.limits.maxAnswerChars);
        // An answer that cites passages lists those; one that cites none keeps all it saw.
        const cited = new Set(citedNumbers(answer));
        const sources = result.sources.some((s) => cited.has(s.index))
          ? result.sources.filter((s) => cited.has(s.index))
          : result.sources;
        const images = result.steps.flatMap((s) => (s.type === "observation" && s.image ? [s.image] : []));
        const final = { ...result, answer, sources, ...(images.length ? { images } : {}) };
        emit?.({ type: "done", result: final });
        return final;
      },
      input,
      config,
    );
  }

  /** Steps and tokens as they happen, then `done` with the result (errors are thrown). */
  async *streamRun(input: AgentInput, config: RunnableConfig = {}): AsyncGenerator<AgentEvent> {
    const queue: AgentEvent[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    const emit: Emit = (event) => {
      queue.push(event);
      wake?.();
    };
    const run = this.invoke(input, { ...config, configurable: { ...config.configurable, [EMIT_KEY]: emit } }).then(
      () => {
        finished = true;
        wake?.();
      },
      (error) => {
        failure = error;
        finished = true;
        wake?.();
      },
    );
    while (true) {
      if (queue.length > 0) {
        yield queue.shift() as AgentEvent;
        continue;
      }
      if (finished) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    await run;
    if (failure) throw failure;
  }
}

/** Collects a run's steps and reports each one (to `streamRun` and as an `agent_step` custom event). */
export class StepSink {
  readonly steps: AgentStep[] = [];

  constructor(
    private readonly config: RunnableConfig,
    private readonly emit?: Emit,
  ) {}

  async step(step: AgentStep): Promise<void> {
    this.steps.push(step);
    this.emit?.({ type: "step", step });
    await dispatchCustomEvent("agent_step", step, this.config).catch(() => undefined);
  }

  token(text: string): void {
    if (text) this.emit?.({ type: "token", text });
  }
}

import type { CallbackManagerForChainRun } from "@langchain/core/callbacks/manager";
import { patchConfig, Runnable, type RunnableConfig } from "@langchain/core/runnables";

/**
 * Config for the steps a chain runs: their callbacks hang under this chain's run. The
 * parent's `runId` is dropped — when streaming it is still set at this point, and a child
 * sharing it would end the parent's run in the tracers.
 */
export function childConfig(config: Partial<RunnableConfig> | undefined, runManager?: CallbackManagerForChainRun) {
  const { runId: _parentRunId, ...rest } = config ?? {};
  return patchConfig(rest, { callbacks: runManager?.getChild() });
}

/**
 * A chain of our own that takes one input and runs its steps under one traced run, for
 * `invoke` and for `stream` alike. Subclasses write `run` (the whole output) and
 * `streamOutput` (the output in pieces); both get the config for their steps.
 */
export abstract class SingleInputChain<I, O> extends Runnable<I, O> {
  protected abstract run(input: I, config: RunnableConfig): Promise<O>;

  protected abstract streamOutput(input: I, config: RunnableConfig): AsyncGenerator<O>;

  override async invoke(input: I, options?: Partial<RunnableConfig>): Promise<O> {
    return this._callWithConfig(
      (i: I, config?: Partial<RunnableConfig>, runManager?: CallbackManagerForChainRun) =>
        this.run(i, childConfig(config, runManager)),
      input,
      options,
    );
  }

  override async *_streamIterator(input: I, options?: Partial<RunnableConfig>): AsyncGenerator<O> {
    // _transformStreamWithConfig opens the run (callbacks, tracing) around a stream of
    // inputs; a one-input chain hands it a stream of exactly one.
    async function* once() {
      yield input;
    }
    yield* this._transformStreamWithConfig(
      once(),
      (inputs, runManager, config) => this.streamInputs(inputs, childConfig(config, runManager)),
      options,
    );
  }

  private async *streamInputs(inputs: AsyncGenerator<I>, config: RunnableConfig): AsyncGenerator<O> {
    let input: I | undefined;
    for await (const value of inputs) input = value;
    yield* this.streamOutput(input as I, config);
  }
}

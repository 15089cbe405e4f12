import type { ChatTokenizerLike, TextGenerationPipelineLike } from "../../src/llms/TransformersJsChatModel.js";

/**
 * A stand-in pipeline that "generates" fixed pieces through the streamer it is given and, like
 * transformers.js's generate loop, asks the stopping criteria after each token; `generated`
 * counts the pieces it produced.
 */
export function fakePipeline(pieces: string[], tokenizer: ChatTokenizerLike) {
  const calls: Array<{ prompt: string; options: Record<string, unknown> }> = [];
  const state = { generated: 0 };
  const run = async (prompt: string, options: Record<string, unknown>) => {
    calls.push({ prompt, options });
    const streamer = options.streamer as { onText: (t: string) => void };
    const criteria = options.stopping_criteria as ((ids: number[][], scores: number[][]) => boolean[]) | undefined;
    for (const p of pieces) {
      await new Promise((r) => setTimeout(r, 1));
      streamer.onText(p);
      state.generated++;
      if (criteria?.([[0]], [[0]])[0]) break;
    }
    return [{ generated_text: pieces.join("") }];
  };
  const pipeline = Object.assign(run, { tokenizer }) as TextGenerationPipelineLike;
  return { pipeline, calls, state };
}

/** One token per whitespace-separated word, as a stand-in tokenizer would count. */
export const encode = (text: string) => (text.match(/\S+/g) ?? []).map((_, i) => i);

export const streamerFactory = async (_t: ChatTokenizerLike, onText: (t: string) => void) => ({ onText });

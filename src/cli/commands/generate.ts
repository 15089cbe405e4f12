import type { Command } from "commander";
import { TransformerLLM } from "../../llms/TransformerLLM.js";
import { numberFlag } from "../flags.js";

export function register(program: Command): void {
  program
    .command("generate")
    .description("continue a prompt with a model trained by `genera train`, streaming to stdout")
    .requiredOption("--model <dir>", "checkpoint folder")
    .argument("[prompt]", "text to continue", "")
    .option("--max-tokens <n>", "most new tokens", numberFlag("--max-tokens", { integer: true, min: 0 }), 200)
    .option("--temperature <x>", "sampling temperature (0 = greedy)", numberFlag("--temperature", { min: 0 }), 0.8)
    .option("--top-k <n>", "sample from the k most likely tokens", numberFlag("--top-k", { integer: true, min: 1 }))
    .option("--top-p <x>", "nucleus sampling threshold", numberFlag("--top-p", { min: 0.000001, max: 1 }))
    .option("--seed <n>", "random seed for repeatable output", numberFlag("--seed", { integer: true, min: 0 }))
    .option("--stop <text...>", "stop when one of these strings is generated")
    .option("--no-echo", "do not print the prompt before the continuation")
    .action(async (prompt: string, opts) => {
      const llm = new TransformerLLM({
        modelPath: opts.model,
        maxTokens: opts.maxTokens,
        temperature: opts.temperature,
        topK: opts.topK,
        topP: opts.topP,
        seed: opts.seed,
        stop: opts.stop,
      });
      // Load first, so a bad folder fails before the prompt is echoed.
      await llm.load();
      if (opts.echo) process.stdout.write(prompt);
      for await (const chunk of await llm.stream(prompt)) process.stdout.write(chunk);
      process.stdout.write("\n");
    });
}

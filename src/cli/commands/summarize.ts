import type { Writable } from "node:stream";
import type { Command } from "commander";
import type { AnswerModel } from "../../../chains/answerModel.js";
import { createSummarizeChain, loadPath } from "../../../chains/summarize.js";
import { loadCliConfig } from "../context.js";
import { numberFlag } from "../flags.js";
import { addLlmOptions, llmOverrides, openAnswerModel, refuseWithoutGenerator } from "./llmOptions.js";

/** Streams the summary of a file or folder to `out`; returns it. */
export async function runSummarize(
  path: string,
  options: { llm: AnswerModel; chunkSize?: number; out?: Writable },
): Promise<string> {
  const out = options.out ?? process.stdout;
  const chain = createSummarizeChain({ llm: options.llm, chunkSize: options.chunkSize });
  const docs = await loadPath(path);
  let summary = "";
  for await (const piece of await chain.stream(docs)) {
    summary += piece;
    out.write(piece);
  }
  out.write("\n");
  return summary;
}

export function register(program: Command): void {
  addLlmOptions(
    program
      .command("summarize")
      .description("summarise a file or a folder (needs a generative model)")
      .argument("<path>", "file or folder")
      .option(
        "--chunk-size <n>",
        "characters per map step for long texts (default 6000)",
        numberFlag("--chunk-size", { integer: true, min: 1 }),
      ),
  ).action(async (path: string, opts, command: Command) => {
    const config = loadCliConfig(command, llmOverrides(opts));
    const llm = await openAnswerModel(config);
    if (refuseWithoutGenerator(llm, "Summarising")) return;
    await runSummarize(path, { llm, chunkSize: opts.chunkSize });
  });
}

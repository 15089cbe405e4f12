import { existsSync, statSync } from "node:fs";
import type { Writable } from "node:stream";
import type { Command } from "commander";
import type { AnswerModel } from "../../../chains/answerModel.js";
import { loadPath } from "../../../chains/summarize.js";
import { createTranslateChain } from "../../../chains/translate.js";
import { loadCliConfig } from "../context.js";
import { addLlmOptions, llmOverrides, openAnswerModel, refuseWithoutGenerator } from "./llmOptions.js";

/** The text to translate: the contents of `textOrPath` when it names a file, else the argument itself. */
export async function translationSource(textOrPath: string): Promise<string> {
  if (textOrPath.length < 4096 && existsSync(textOrPath) && statSync(textOrPath).isFile()) {
    const docs = await loadPath(textOrPath);
    return docs.map((d) => d.pageContent).join("\n\n");
  }
  return textOrPath;
}

export async function runTranslate(
  textOrPath: string,
  options: { llm: AnswerModel; to: string; from?: string; out?: Writable },
): Promise<string> {
  const out = options.out ?? process.stdout;
  const chain = createTranslateChain({ llm: options.llm });
  const text = await translationSource(textOrPath);
  let translation = "";
  for await (const piece of await chain.stream({ text, to: options.to, from: options.from })) {
    translation += piece;
    out.write(piece);
  }
  out.write("\n");
  return translation;
}

export function register(program: Command): void {
  addLlmOptions(
    program
      .command("translate")
      .description("translate a text or a file (needs a generative model)")
      .argument("<text|path>", "the text, or a file to translate")
      .requiredOption("--to <language>", "target language, e.g. German or de")
      .option("--from <language>", "source language (default: let the model tell)"),
  ).action(async (textOrPath: string, opts, command: Command) => {
    const config = loadCliConfig(command, llmOverrides(opts));
    const llm = await openAnswerModel(config);
    if (refuseWithoutGenerator(llm, "Translating")) return;
    await runTranslate(textOrPath, { llm, to: opts.to, from: opts.from });
  });
}

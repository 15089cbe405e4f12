import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { isGeneraError } from "../errors.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** Sub-commands register themselves on the program; each lives in ./commands/<name>.ts. */
export type CommandRegistrar = (program: Command) => void;

const registrars: Array<() => Promise<{ register: CommandRegistrar }>> = [
  () => import("./commands/index.js"),
  () => import("./commands/search.js"),
  () => import("./commands/stats.js"),
  () => import("./commands/ask.js"),
  () => import("./commands/chat.js"),
  () => import("./commands/summarize.js"),
  () => import("./commands/translate.js"),
  () => import("./commands/eval.js"),
  () => import("./commands/train.js"),
  () => import("./commands/tune.js"),
  () => import("./commands/generate.js"),
  () => import("./commands/serve.js"),
];

export async function buildProgram(): Promise<Command> {
  const program = new Command("genera")
    .description(
      "Generative AI on your own machine: index documents, ask with citations, train a transformer, serve a chatbot",
    )
    .version(pkg.version, "-v, --version")
    .option("-c, --config <file>", "config file (JSON); default ./genera.config.json")
    .showHelpAfterError();
  for (const load of registrars) (await load()).register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    if (isGeneraError(error)) {
      process.stderr.write(`genera: ${error.message} [${error.code}]\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

import { Command, CommanderError } from "commander";
import { isGeneraError } from "../errors.js";
import { packageVersion } from "../util/packageVersion.js";

/** Sub-commands register themselves on the program; each lives in ./commands/<name>.ts. */
export type CommandRegistrar = (program: Command) => void;
type CommandModule = () => Promise<{ register: CommandRegistrar }>;

/**
 * Each command's module pulls in heavy dependencies (onnxruntime, hnswlib, Express,
 * the transformer), so only the one being run is loaded; the top-level help lists
 * them from this table.
 */
const COMMANDS: Record<string, [summary: string, load: CommandModule]> = {
  index: ["index files, folders or globs; re-runs only touch what changed", () => import("./commands/index.js")],
  search: ["show the chunks that best match a query", () => import("./commands/search.js")],
  stats: ["documents, chunks, model, dimension and index size", () => import("./commands/stats.js")],
  ask: ["answer a question from the indexed documents, with numbered citations", () => import("./commands/ask.js")],
  chat: ["talk with the indexed documents (/sources, /reset, /exit)", () => import("./commands/chat.js")],
  agent: ["do a task with tools, printing each step as it happens", () => import("./commands/agent.js")],
  summarize: ["summarise a file or a folder (needs a generative model)", () => import("./commands/summarize.js")],
  translate: ["translate a text or a file (needs a generative model)", () => import("./commands/translate.js")],
  eval: ["score retrieval (recall@k, MRR, nDCG@k) and answers on a QA file", () => import("./commands/eval.js")],
  train: [
    "train a GPT from scratch; writes a checkpoint, metrics.jsonl and loss.svg",
    () => import("./commands/train.js"),
  ],
  tune: ["short training runs over lr, batch size, width and depth", () => import("./commands/tune.js")],
  generate: ["stream text from a model trained by `genera train`", () => import("./commands/generate.js")],
  images: [
    "train, sample and evaluate image models on MNIST (classifier, VAE); writes PNGs",
    () => import("./commands/images.js"),
  ],
  serve: ["serve the web chat and the HTTP APIs over the indexed documents", () => import("./commands/serve.js")],
  worker: ["index files from the queue into the shared store (see --queue)", () => import("./commands/worker.js")],
};

/** The command named on the command line (also after `help`), if any. */
function requestedCommand(args: string[]): string | undefined {
  const words = args.filter((a, i) => !a.startsWith("-") && !(i > 0 && /^(-c|--config)$/.test(args[i - 1] ?? "")));
  const first = words[0] === "help" ? words[1] : words[0];
  return first && first in COMMANDS ? first : undefined;
}

export async function buildProgram(argv: string[] = process.argv): Promise<Command> {
  const program = new Command("genera")
    .description(
      "Generative AI on your own machine: index documents, ask with citations, train a transformer, serve a chatbot",
    )
    .version(packageVersion(), "-v, --version")
    .option("-c, --config <file>", "config file (JSON); default ./genera.config.json")
    .showHelpAfterError();
  const wanted = requestedCommand(argv.slice(2));
  for (const [name, [summary, load]] of Object.entries(COMMANDS)) {
    if (name === wanted) (await load()).register(program);
    else program.command(name).description(summary).allowUnknownOption().helpOption(false);
  }
  return program;
}

/**
 * A reader that stops early (`genera search … | head`) closes the pipe: the command then ends
 * quietly, as Unix tools do, instead of dying on an unhandled EPIPE with a stack trace. Nothing is
 * lost by it: every store write is crash-safe. Other write errors still surface.
 */
export function endOnClosedPipe(stream: NodeJS.WritableStream, exit: (code: number) => void = process.exit): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    exit(0);
  });
}

export async function main(argv: string[]): Promise<void> {
  endOnClosedPipe(process.stdout);
  const program = await buildProgram(argv);
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

import { fileURLToPath } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

/**
 * Worker threads start as plain Node, which cannot run .ts files (and under vitest the
 * parent has no TypeScript loader either). When genera runs from its TypeScript sources the
 * bootstrap first registers the repository's TypeScript hooks (scripts/ts-hooks.mjs) in the
 * worker, which affects that worker alone; from compiled JavaScript it imports the module
 * directly. Only dynamic imports: the bootstrap is read as CommonJS or as an ES module
 * depending on the parent's flags (--input-type).
 */
const BOOTSTRAP = `
(async () => {
  const { workerData } = await import("node:worker_threads");
  if (workerData.tsHooks) {
    const { register } = await import("node:module");
    register(workerData.tsHooks);
  }
  await import(workerData.entry);
})().catch((error) => { setImmediate(() => { throw error; }); });
`;

/**
 * Starts a worker thread running the module at `tsEntry` (the URL of its .ts source,
 * e.g. `new URL("./useWorker.ts", import.meta.url)`): the source through the TypeScript hooks
 * when genera runs from TypeScript, the compiled .js beside it otherwise. The fields of `data`
 * reach the module in `workerData` (beside `entry` and `tsHooks`, which the bootstrap uses).
 */
export function startModuleWorker(
  tsEntry: URL,
  data: Record<string, unknown>,
  options: Omit<WorkerOptions, "eval" | "workerData"> = {},
): Worker {
  const fromSource = fileURLToPath(import.meta.url).endsWith(".ts");
  const entry = fromSource
    ? { entry: tsEntry.href, tsHooks: new URL("../../scripts/ts-hooks.mjs", import.meta.url).href }
    : { entry: tsEntry.href.replace(/\.ts$/, ".js") };
  return new Worker(BOOTSTRAP, { ...options, eval: true, workerData: { ...data, ...entry } });
}

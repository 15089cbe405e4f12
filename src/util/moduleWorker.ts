import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

const require = createRequire(import.meta.url);

/**
 * Worker threads start as plain Node, which cannot run .ts files (and under vitest the
 * parent has no TypeScript loader either). The bootstrap imports the worker module
 * through tsx's scoped tsImport, which changes no global loader state; from compiled
 * JavaScript it imports the module directly. Only dynamic imports: the bootstrap is read
 * as CommonJS or as an ES module depending on the parent's flags (--input-type).
 */
const BOOTSTRAP = `
(async () => {
  const { workerData } = await import("node:worker_threads");
  if (workerData.tsxApi) {
    const { tsImport } = await import(workerData.tsxApi);
    await tsImport(workerData.entry, workerData.entry);
  } else {
    await import(workerData.entry);
  }
})().catch((error) => { setImmediate(() => { throw error; }); });
`;

/** tsx's ESM API; its CommonJS twin cannot start the loader from inside an eval'd worker. */
function tsxEsmApi(): string {
  if (typeof import.meta.resolve === "function") return import.meta.resolve("tsx/esm/api");
  return pathToFileURL(join(dirname(require.resolve("tsx/package.json")), "dist/esm/api/index.mjs")).href;
}

/**
 * Starts a worker thread running the module at `tsEntry` (the URL of its .ts source,
 * e.g. `new URL("./useWorker.ts", import.meta.url)`): the source through tsx when genera
 * runs from TypeScript, the compiled .js beside it otherwise. The fields of `data` reach
 * the module in `workerData` (beside `entry` and `tsxApi`, which the bootstrap uses).
 */
export function startModuleWorker(
  tsEntry: URL,
  data: Record<string, unknown>,
  options: Omit<WorkerOptions, "eval" | "workerData"> = {},
): Worker {
  const fromSource = fileURLToPath(import.meta.url).endsWith(".ts");
  const entry = fromSource
    ? { entry: tsEntry.href, tsxApi: tsxEsmApi() }
    : { entry: tsEntry.href.replace(/\.ts$/, ".js") };
  return new Worker(BOOTSTRAP, { ...options, eval: true, workerData: { ...data, ...entry } });
}

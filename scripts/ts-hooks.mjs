// Module hooks that let plain Node run the repository's TypeScript (benches, examples, test
// children, worker threads started from src/): a relative `./x.js` that does not exist resolves to
// `./x.ts` beside it, as TypeScript's own resolution does, and .ts files are compiled to JavaScript
// by oxc (the `rolldown/utils` transformer that vite already installs) with an inline source map.
// Registered by scripts/ts.mjs; src/util/moduleWorker.ts registers it in worker threads.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { transformSync } from "rolldown/utils";

const TS = /\.(c|m)?ts$/;

export async function resolve(specifier, context, nextResolve) {
  const path = /^(\.\.?\/|\/|file:)/.test(specifier);
  if (path && /\.(c|m)?js$/.test(specifier) && context.parentURL?.startsWith("file:")) {
    const url = new URL(specifier, context.parentURL);
    if (!existsSync(url)) {
      const ts = new URL(url.href.replace(/js$/, "ts"));
      if (existsSync(ts)) return nextResolve(ts.href, context);
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !TS.test(new URL(url).pathname)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const result = transformSync(path, await readFile(path, "utf8"), { lang: "ts", sourcemap: true });
  if (result.errors.length) throw new SyntaxError(`${path}: ${result.errors.map((e) => e.message).join("; ")}`);
  const map = Buffer.from(JSON.stringify(result.map)).toString("base64");
  const format = path.endsWith(".cts") ? "commonjs" : "module";
  return {
    format,
    source: `${result.code}\n//# sourceMappingURL=data:application/json;base64,${map}\n`,
    shortCircuit: true,
  };
}

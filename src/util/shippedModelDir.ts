import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder `models/<name>` at the package root, found by walking up from this file so
 * it holds from src/ (TypeScript) and from the compiled copy in dist/; undefined when absent.
 */
export function shippedModelDir(name: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "models", name);
    if (existsSync(join(candidate, "config.json"))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

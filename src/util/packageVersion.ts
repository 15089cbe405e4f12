import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * genera's version, read from its package.json: the nearest one above this module, which is
 * two folders up from the sources and three from the compiled `dist/src/util/`.
 */
export function packageVersion(): string {
  const root = packageRoot();
  if (!root) return "0.0.0";
  return (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version?: string }).version ?? "0.0.0";
}

/** The folder of genera's package.json (where shipped files such as models/ live), or null. */
export function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "genera" && pkg.version) return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

// After `tsc -p tsconfig.build.json`: copy what tsc does not emit into dist/ — the engine's
// plain-JavaScript worker modules (with their .d.mts) and the web UI's static files.
import { cpSync, readdirSync } from "node:fs";
import { join } from "node:path";

const ASSET = /\.(mjs|d\.mts)$/;

for (const entry of readdirSync("src", { recursive: true, withFileTypes: true })) {
  if (entry.isFile() && ASSET.test(entry.name)) {
    const from = join(entry.parentPath, entry.name);
    cpSync(from, join("dist", from));
  }
}
cpSync("src/server/public", "dist/src/server/public", { recursive: true });

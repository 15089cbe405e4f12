// `node --import ./scripts/ts.mjs file.ts` runs a TypeScript file of this repository (see ts-hooks.mjs).
import { register } from "node:module";

register("./ts-hooks.mjs", import.meta.url);
// Stack traces point into the .ts sources.
process.setSourceMapsEnabled(true);

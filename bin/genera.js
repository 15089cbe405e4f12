#!/usr/bin/env node
// genera is written in TypeScript; tsx compiles it on the fly so that the
// repository runs as checked out, with no build step between edit and use.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
await main(process.argv);

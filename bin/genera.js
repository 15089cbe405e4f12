#!/usr/bin/env node
// The compiled CLI (`npm run build`, run by `prepare` on install). Loading compiled
// JavaScript instead of transpiling TypeScript at start is what keeps a command's
// start-up near Node's own.
import { main } from "../dist/src/cli/main.js";

await main(process.argv);

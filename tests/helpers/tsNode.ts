/** Node flags that let a child process run this repository's TypeScript (see scripts/ts.mjs). */
export const TS_NODE_FLAGS = ["--import", new URL("../../scripts/ts.mjs", import.meta.url).href];

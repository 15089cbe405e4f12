export type { Rng } from "../random.js";
export * from "./attention.js";
export * from "./conv.js";
export * from "./core.js";
export * from "./positional.js";
export * from "./transformerBlocks.js";

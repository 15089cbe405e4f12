/**
 * The engine moved to src/engine/ (it is no longer only a transformer). This re-export
 * keeps code written against the old path working while parallel branches land;
 * import from "../engine/index.js" in new code.
 */
export * from "../engine/index.js";

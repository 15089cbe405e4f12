export * from "./evaluateAnswers.js";
export * from "./retrievalMetrics.js";

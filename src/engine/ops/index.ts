/**
 * The tensor and its differentiable ops, one file per op family; each op keeps its
 * forward and backward side by side.
 */
export { isGradEnabled, noGrad } from "../autograd/graph.js";
export { Tensor, type TensorLike } from "../autograd/Tensor.js";
export * from "./activations.js";
export * from "./arithmetic.js";
export { broadcastShape } from "./broadcast.js";
export * from "./conv.js";
export * from "./embedding.js";
export * from "./layout.js";
export * from "./losses.js";
export * from "./masking.js";
export * from "./matmul.js";
export * from "./normalization.js";
export * from "./reduce.js";
export * from "./softmax.js";

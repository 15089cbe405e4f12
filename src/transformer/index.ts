/**
 * The from-scratch transformer engine: tensors with autograd, layers, GPT and the
 * encoder-decoder of "Attention Is All You Need", tokenizers, training, sampling and
 * checkpoints. Nothing here depends on the rest of genera except its errors.
 */
export * from "./checkpoint.js";
export * from "./corpus.js";
export * from "./data.js";
export * from "./encoderDecoder.js";
export * from "./generateStream.js";
export * from "./gpt.js";
export * from "./layers.js";
export * from "./matmul.js";
export * from "./module.js";
export * from "./optim.js";
export * from "./PackedGemm.js";
export * from "./plotSvg.js";
export * from "./safetensors.js";
export * from "./sampling.js";
export * from "./schedule.js";
export * from "./tensor.js";
export * from "./tokenizers/index.js";
export * from "./train.js";
export * from "./tune.js";

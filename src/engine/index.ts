/**
 * genera's deep-learning engine, built from scratch: tensors with reverse-mode autograd
 * (autograd/, ops/), the GEMM kernels under them (kernels/), layers (layers/), the models
 * built from them (models/: GPT and the encoder-decoder of "Attention Is All You Need"),
 * tokenizers, training (training/) and checkpoints (checkpoints/). Nothing here depends
 * on the rest of genera except its errors and file utilities.
 */
export * from "./checkpoints/checkpoint.js";
export * from "./checkpoints/safetensors.js";
export * from "./kernels/matmul.js";
export * from "./kernels/PackedGemm.js";
export * from "./layers/index.js";
export * from "./layers/Module.js";
export * from "./models/encoderDecoder.js";
export * from "./models/generateStream.js";
export * from "./models/gpt.js";
export * from "./models/sampling.js";
export * from "./ops/index.js";
export * from "./random.js";
export * from "./tokenizers/index.js";
export * from "./training/corpus.js";
export * from "./training/data.js";
export * from "./training/optim.js";
export * from "./training/plotSvg.js";
export * from "./training/schedule.js";
export * from "./training/Trainer.js";
export * from "./training/trainGPT.js";
export * from "./training/tune.js";

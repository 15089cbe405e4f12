/**
 * Images: MNIST, the image models built on genera's engine (the LeNet judge, the
 * convolutional VAE), their training harness, the PNG writer and the image generator
 * Runnable.
 */

export * from "./ConvVAE.js";
export * from "./captions.js";
export * from "./Diffusion.js";
export * from "./diffusionRecipes.js";
export * from "./evaluateImageModel.js";
export * from "./ImageGenerator.js";
export type { ImageRecipe } from "./ImageRecipe.js";
export * from "./imageCheckpoint.js";
export * from "./imageModels.js";
export * from "./LeNet.js";
export * from "./MnistBatches.js";
export * from "./measures.js";
export * from "./mnist.js";
export * from "./png.js";
export * from "./promptEncoder.js";
export * from "./trainImageModel.js";
export * from "./UNet.js";

/**
 * Images: MNIST data and the image models built on genera's engine.
 */
export * from "./mnist.js";

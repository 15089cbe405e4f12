/**
 * What bounds the image models' speed: one LeNet training step (batch 64) split into its
 * parts — im2col/col2im copies, the GEMMs (through the engine's kernel), and everything
 * else (pooling, activations, the optimizer) — each timed alone on the same shapes, plus
 * the time to draw a 4×4 grid with the VAE; the VAE's and the GAN's training steps and
 * the GAN's grid; the diffusion U-Net's training step and DDIM 4×4 grid; and text2image's
 * prompt reader alone (USE-lite's word vectors not counted) and its grid. Prints a Markdown
 * table; the parts are shown
 * as shares of the whole step measured in the same run.
 *
 *   node --import ./scripts/ts.mjs bench/images.ts
 */
import { AdamW, conv2d, gemm, maxPool2d, SeededRng, Tensor } from "../src/engine/index.js";
import { ConditionalGAN, ganRecipe } from "../src/images/ConditionalGAN.js";
import { ConvVAE } from "../src/images/ConvVAE.js";
import { DiffusionModel } from "../src/images/Diffusion.js";
import { DIFFUSION_DEFAULT, TEXT2IMAGE_DEFAULT } from "../src/images/diffusionRecipes.js";
import { LeNet } from "../src/images/LeNet.js";
import { digitBatch } from "../src/images/MnistBatches.js";
import { loadMnist } from "../src/images/mnist.js";

const rounds = Number(process.env.ROUNDS ?? 5);
function best(fn: () => void): number {
  fn();
  let b = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    fn();
    b = Math.min(b, performance.now() - t);
  }
  return b;
}

const rng = new SeededRng(1);
const r = () => rng.next();
const B = 64;
const set = loadMnist("train", { limit: B });
const batch = digitBatch(
  set,
  Array.from({ length: B }, (_, i) => i),
);
const model = new LeNet();
const optimizer = new AdamW(model.namedParameters(), { lr: 1e-3, weightDecay: 0 });
const step = best(() => {
  const { loss } = model.forward(batch);
  loss!.backward();
  optimizer.step();
  optimizer.zeroGrad();
});

// The two convolutions' forward alone (im2col + one GEMM + layout), and their GEMMs alone.
const x1 = batch.images;
const h1 = maxPool2d(conv2d(x1, model.conv1.weight, model.conv1.bias, { padding: 2 }).relu());
const convForward = best(() => {
  conv2d(x1, model.conv1.weight.detach(), null, { padding: 2 });
  conv2d(h1.detach(), model.conv2.weight.detach(), null);
});
// conv2's three GEMMs per step: forward [B·100, 400]·[400, 32], dW and dcols of the same sizes; conv1's likewise.
const shapes: Array<[number, number, number]> = [
  [B * 784, 16, 25],
  [B * 100, 32, 400],
];
const gemmOnly = best(() => {
  for (const [M, N, K] of shapes) {
    const a = Float32Array.from({ length: M * K }, r);
    const b = Float32Array.from({ length: N * K }, r);
    const c = new Float32Array(M * N);
    gemm({
      a,
      b,
      c,
      batch: 1,
      M,
      N,
      K,
      transA: false,
      transB: true,
      strideA: 0,
      strideB: 0,
      strideC: 0,
      overwrite: true,
    });
  }
});
const macs = shapes.reduce((s, [M, N, K]) => s + M * N * K, 0);

const vae = new ConvVAE();
const grid = best(() => vae.sample(16, r));
const vaeOptimizer = new AdamW(vae.namedParameters(), { lr: 1e-3, weightDecay: 0 });
const vaeStep = best(() => {
  vae.forward(batch).loss.backward();
  vaeOptimizer.step();
  vaeOptimizer.zeroGrad();
});

// The GAN: one adversarial step (D's update, then G's) and a 4×4 grid from the averaged G.
const gan = new ConditionalGAN();
const ganOptimizers = ganRecipe.optimizers!(gan, 2e-4) as Parameters<ConditionalGAN["trainStep"]>[1];
const ganStep = best(() => gan.trainStep(batch, ganOptimizers));
const ganGrid = best(() =>
  gan.sample(
    Int32Array.from({ length: 16 }, (_, i) => i % 10),
    r,
  ),
);

// Diffusion: one U-Net training step (batch 32, as trained), and a 4×4 grid by DDIM
// (the shipped sampling defaults: 20 steps, guidance doubling each U-Net batch to 32).
const diffusion = new DiffusionModel(DIFFUSION_DEFAULT, 1);
const dBatch = digitBatch(
  set,
  Array.from({ length: 32 }, (_, i) => i),
);
const dOptimizer = new AdamW(diffusion.namedParameters(), { lr: 1e-3, weightDecay: 0 });
const diffusionStep = best(() => {
  const { loss } = diffusion.forward({ images: dBatch.images, condition: { classes: dBatch.labels } });
  loss.backward();
  dOptimizer.step();
  dOptimizer.zeroGrad();
});
const classes = Int32Array.from({ length: 16 }, (_, i) => i % 10);
const diffusionGrid = best(() => diffusion.sampleDdim(16, { classes }, { rng: r }));

// Text to image: the prompt reader on one 6-word prompt, and a 4×4 grid asked by it.
const text2image = new DiffusionModel(TEXT2IMAGE_DEFAULT, 1);
const words = 6;
const prompt = { vectors: Tensor.randn([words * 512], 0.044, r).data, lengths: Int32Array.of(words) };
const readPrompt = best(() => text2image.promptClassWeights(prompt));
const sixteen = {
  vectors: new Float32Array(16 * words * 512).map((_, k) => prompt.vectors[k % (words * 512)]),
  lengths: new Int32Array(16).fill(words),
};
const promptGrid = best(() => text2image.sampleDdim(16, { prompts: sixteen }, { rng: r }));

const pct = (v: number) => `${((v / step) * 100).toFixed(0)}%`;
console.log(`| measure (batch ${B}, best of ${rounds}) | ms | share of a LeNet step |`);
console.log("|---|---:|---:|");
console.log(`| LeNet training step (forward, backward, AdamW) | ${step.toFixed(1)} | 100% |`);
console.log(
  `| both convolutions' forward (im2col + GEMM + layout) | ${convForward.toFixed(1)} | ${pct(convForward)} |`,
);
console.log(
  `| their forward GEMMs alone (${(macs / 1e6).toFixed(1)} M multiply-adds, ${((macs * 2) / (gemmOnly * 1e6)).toFixed(1)} GFLOP/s) | ${gemmOnly.toFixed(1)} | ${pct(gemmOnly)} |`,
);
console.log(`| VAE: a 4×4 grid of samples | ${grid.toFixed(1)} | — |`);
console.log(`| VAE training step (forward, backward, AdamW) | ${vaeStep.toFixed(1)} | ${pct(vaeStep)} |`);
console.log(`| GAN training step (D's update, then G's) | ${ganStep.toFixed(1)} | ${pct(ganStep)} |`);
console.log(`| GAN: a 4×4 grid of samples | ${ganGrid.toFixed(1)} | — |`);
console.log(`| diffusion U-Net training step (batch 32) | ${diffusionStep.toFixed(1)} | ${pct(diffusionStep)} |`);
console.log(
  `| diffusion: a 4×4 grid by DDIM (${DIFFUSION_DEFAULT.samplingSteps} steps, guidance) | ${diffusionGrid.toFixed(1)} | — |`,
);
console.log(`| text2image: the prompt reader on a ${words}-word prompt | ${readPrompt.toFixed(2)} | — |`);
console.log(`| text2image: a 4×4 grid by DDIM, asked by that prompt | ${promptGrid.toFixed(1)} | — |`);
console.log(`\nimages/s in training: ${((B / step) * 1000).toFixed(0)}`);

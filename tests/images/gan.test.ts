import { describe, expect, it } from "vitest";
import { binaryCrossEntropyWithLogits, crossEntropy, SeededRng, Tensor } from "../../src/engine/index.js";
import { ConditionalGAN, digitsInTurn, type GANConfig, ganRecipe } from "../../src/images/ConditionalGAN.js";
import { digitBatch } from "../../src/images/MnistBatches.js";
import { loadMnist } from "../../src/images/mnist.js";
import { gradcheck } from "../engine/gradcheck.js";

const TINY: GANConfig = { latent: 8, channels1: 8, channels2: 8 };

describe("conditional DCGAN", () => {
  it("G maps noise and digits to 28×28 images in [−1, 1]; D gives a real/generated logit and ten digit logits; samples are pixels in 0..1", () => {
    const gan = new ConditionalGAN(TINY, 3);
    const digits = digitsInTurn(12);
    expect([...digits.subarray(8)]).toEqual([8, 9, 0, 1]);
    const rng = new SeededRng(1);
    const images = gan.generator.forward({ z: gan.noise(12, () => rng.next()), digits });
    expect(images.shape).toEqual([12, 1, 28, 28]);
    expect(Math.max(...images.data.map(Math.abs))).toBeLessThanOrEqual(1);
    const judged = gan.discriminator.forward({ images });
    expect(judged.source.shape).toEqual([12, 1]);
    expect(judged.digit.shape).toEqual([12, 10]);
    const pixels = gan.sample(digits, () => rng.next());
    expect(Math.min(...pixels.data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...pixels.data)).toBeLessThanOrEqual(1);
    // The same seed draws the same images; the digit asked changes them.
    const a = gan.sample(Int32Array.of(3, 3), () => new SeededRng(5).next()).data;
    const b = gan.sample(Int32Array.of(3, 3), () => new SeededRng(5).next()).data;
    const c = gan.sample(Int32Array.of(7, 7), () => new SeededRng(5).next()).data;
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it("D's gradient (both heads) matches finite differences", () => {
    // G's chain is not checked this way: its ReLUs sit after group norm, where many units are
    // near 0 and any finite step crosses some kinks; its ops are checked one by one
    // (tests/engine) and the next test checks that its gradient lowers its loss.
    const gan = new ConditionalGAN({ latent: 4, channels1: 8, channels2: 8 }, 2);
    // DCGAN's N(0, 0.02²) init makes gradients too small for float32 finite differences; scale them up.
    for (const p of gan.parameters()) if (p.shape.length > 1) for (let i = 0; i < p.size; i++) p.data[i] *= 5;
    const rng = new SeededRng(4);
    const x = Tensor.randn([2, 1, 28, 28], 0.5, () => rng.next(), true);
    // A small step, as LeakyReLU's kinks are within reach of a larger one.
    gradcheck(([xx]) => gan.discriminator.forward({ images: xx }).source, [x], { samples: 40, eps: 1e-3 });
    gradcheck(([xx]) => gan.discriminator.forward({ images: xx }).digit, [x], { samples: 40, eps: 1e-3 });
  });

  it("each player's update lowers its own loss; each moves only its own weights", () => {
    const gan = new ConditionalGAN(TINY, 7);
    const [optG, optD] = ganRecipe.optimizers!(gan, 2e-3);
    const set = loadMnist("train", { limit: 64 });
    const batch = digitBatch(
      set,
      Array.from({ length: 16 }, (_, i) => i),
    );
    const rng = new SeededRng(9);
    const z = gan.noise(16, () => rng.next());
    const asked = digitsInTurn(16);
    const real = batch.images.mul(2).sub(1);
    const dLoss = () => {
      const onReal = gan.discriminator.forward({ images: real });
      const onFake = gan.discriminator.forward({ images: gan.generator.forward({ z, digits: asked }).detach() });
      return binaryCrossEntropyWithLogits(onReal.source, 0.9)
        .add(binaryCrossEntropyWithLogits(onFake.source, 0))
        .add(crossEntropy(onReal.digit, batch.labels));
    };
    const gLoss = () => {
      const judged = gan.discriminator.forward({ images: gan.generator.forward({ z, digits: asked }) });
      return binaryCrossEntropyWithLogits(judged.source, 1).add(crossEntropy(judged.digit, asked));
    };
    const gWeights = () => gan.generator.parameters().map((p) => p.data.slice());
    const dWeights = () => gan.discriminator.parameters().map((p) => p.data.slice());

    const d0 = dLoss();
    const gBefore = gWeights();
    for (let i = 0; i < 5; i++) {
      optD.zeroGrad();
      dLoss().backward();
      optD.step();
    }
    expect(dLoss().item()).toBeLessThan(d0.item());
    expect(gWeights()).toEqual(gBefore);

    const g0 = gLoss().item();
    const dBefore = dWeights();
    for (let i = 0; i < 5; i++) {
      optG.zeroGrad();
      gLoss().backward();
      optG.step();
    }
    expect(gLoss().item()).toBeLessThan(g0);
    expect(dWeights()).toEqual(dBefore);
  });

  it("a short adversarial run lowers D's loss (real vs generated, and the digit) and reports both players' losses", () => {
    const gan = new ConditionalGAN(TINY, 1);
    const optimizers = ganRecipe.optimizers!(gan, 1e-3) as Parameters<ConditionalGAN["trainStep"]>[1];
    const set = loadMnist("train", { limit: 256 });
    const order = new SeededRng(3);
    const metrics = Array.from({ length: 12 }, () =>
      gan.trainStep(
        digitBatch(
          set,
          Array.from({ length: 16 }, () => order.int(256)),
        ),
        optimizers,
      ),
    );
    const first = metrics[0];
    const last = metrics.at(-1)!;
    for (const m of metrics) {
      expect(m.loss).toBeCloseTo(m.d_loss + m.g_loss, 5);
      expect(Number.isFinite(m.loss)).toBe(true);
    }
    // At the start D can neither tell real from generated (≈ 2·ln 2) nor name digits (≈ ln 10).
    expect(first.d_loss).toBeGreaterThan(3);
    expect(last.d_loss).toBeLessThan(first.d_loss);
    expect(last.d_real).toBeGreaterThan(last.d_fake);
  });
});

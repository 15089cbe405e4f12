import { describe, expect, it } from "vitest";
import { binaryCrossEntropyWithLogits, crossEntropy, SeededRng, Tensor } from "../../src/engine/index.js";
import {
  ConditionalGAN,
  digitsInTurn,
  type GANConfig,
  ganRecipe,
  minibatchStd,
} from "../../src/images/ConditionalGAN.js";
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

  it("a sampling temperature scales z for sampling only; 1 is the default, and it must be positive", () => {
    const plain = new ConditionalGAN(TINY, 3);
    const cool = new ConditionalGAN({ ...TINY, sampleTemperature: 0.5 }, 3);
    const digits = digitsInTurn(4);
    const z = Tensor.randn([4, TINY.latent], 0.5, () => new SeededRng(8).next());
    const expected = cool.average.forward({ z, digits }).add(1).mul(0.5);
    const drawn = cool.sample(digits, () => new SeededRng(8).next());
    expect(Math.max(...drawn.data.map((v, i) => Math.abs(v - expected.data[i])))).toBeLessThan(1e-6);
    expect(plain.sample(digits, () => new SeededRng(8).next()).data).not.toEqual(drawn.data);
    expect(() => new ConditionalGAN({ ...TINY, sampleTemperature: 0 })).toThrow(/positive/);
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

  it("the minibatch standard deviation is the mean over features of each feature's spread over the batch", () => {
    const rng = new SeededRng(6);
    const h = Tensor.randn([5, 7], 1.5, () => rng.next(), true);
    let expected = 0;
    for (let f = 0; f < 7; f++) {
      const column = Array.from({ length: 5 }, (_, n) => h.data[n * 7 + f]);
      const m = column.reduce((a, b) => a + b, 0) / 5;
      expected += Math.sqrt(column.reduce((a, v) => a + (v - m) ** 2, 0) / 5) / 7;
    }
    const out = minibatchStd(h);
    expect(out.shape).toEqual([5, 1]);
    for (const v of out.data) expect(v).toBeCloseTo(expected, 5);
    // Copies of one image (a collapsed G) have no spread at all.
    const same = new Tensor(new Float32Array(5 * 7).fill(0.3), [5, 7]);
    expect(minibatchStd(same).data[0]).toBeLessThan(1e-3);
    gradcheck(([x]) => minibatchStd(x), [h], { samples: 20, eps: 1e-3 });
    // D with it: the real/generated logit reads the batch's spread, the digit head does not.
    const gan = new ConditionalGAN({ ...TINY, minibatchStd: true }, 2);
    for (const p of gan.parameters()) if (p.shape.length > 1) for (let i = 0; i < p.size; i++) p.data[i] *= 5;
    const x = Tensor.randn([3, 1, 28, 28], 0.5, () => rng.next(), true);
    expect(gan.discriminator.source.weight.shape[1]).toBe(8 * 49 + 1);
    gradcheck(([xx]) => gan.discriminator.forward({ images: xx }).source, [x], { samples: 40, eps: 1e-3 });
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

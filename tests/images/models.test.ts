import { describe, expect, it } from "vitest";
import { SeededRng, Tensor } from "../../src/engine/index.js";
import { ConvVAE } from "../../src/images/ConvVAE.js";
import { LeNet } from "../../src/images/LeNet.js";
import { frechetDistance, symmetricEigen } from "../../src/images/measures.js";

describe("image models", () => {
  it("LeNet gives logits [N, 10] and 128-d features", () => {
    const m = new LeNet();
    const x = Tensor.zeros([3, 1, 28, 28]);
    expect(m.forward({ images: x }).logits.shape).toEqual([3, 10]);
    expect(m.features(x).shape).toEqual([3, 128]);
    expect(m.predict(x)).toHaveLength(3);
  });

  it("the VAE encodes to μ, log σ² and decodes 28×28 logits; its loss is BCE + KL per image", () => {
    const m = new ConvVAE();
    const x = Tensor.full([2, 1, 28, 28], 0.5);
    const { mu, logvar } = m.encode(x);
    expect(mu.shape).toEqual([2, m.config.latent]);
    expect(logvar.shape).toEqual([2, m.config.latent]);
    const out = m.forward({ images: x });
    expect(out.logits.shape).toEqual([2, 1, 28, 28]);
    expect(out.loss.item()).toBeCloseTo(out.reconstruction + out.kl, 3);
    // Pixels at 0.5 cost at least 784·ln 2 nats whatever the model says.
    expect(out.reconstruction).toBeGreaterThan(784 * Math.LN2 - 1);
    expect(m.sample(4, new SeededRng(1).next.bind(new SeededRng(1))).shape).toEqual([4, 1, 28, 28]);
  });

  it("the VAE's dense hidden layers are optional: a config without them (older checkpoints) has none", () => {
    const plain = new ConvVAE({ latent: 4, channels1: 4, channels2: 8 });
    const dense = new ConvVAE({ latent: 4, channels1: 4, channels2: 8, hidden: 32 });
    expect(plain.encHidden).toBeNull();
    expect(plain.decHidden).toBeNull();
    expect(plain.encOut.weight.shape).toEqual([8, 8 * 49]);
    expect(dense.encHidden?.weight.shape).toEqual([32, 8 * 49]);
    expect(dense.encOut.weight.shape).toEqual([8, 32]);
    expect(dense.decIn.weight.shape).toEqual([8 * 49, 32]);
    expect(dense.numParameters() - plain.numParameters()).toBe(
      32 * 8 * 49 + 32 + (4 * 32 + 32) + (8 * 32 - 8 * 8 * 49) + (8 * 49 * 32 - 8 * 49 * 4),
    );
    const x = Tensor.full([3, 1, 28, 28], 0.2);
    expect(dense.forward({ images: x }).logits.shape).toEqual([3, 1, 28, 28]);
  });
});

describe("measures", () => {
  it("finds eigenvalues of a symmetric matrix", () => {
    const { values } = symmetricEigen(Float64Array.of(2, 1, 0, 1, 2, 0, 0, 0, 3), 3);
    expect([...values].sort()).toEqual([1, 3, 3].map((v) => expect.closeTo(v, 9)));
  });

  it("Fréchet distance: 0 for one set against itself, ‖Δμ‖² for a shift", () => {
    const rng = new SeededRng(2);
    const a = Array.from({ length: 400 }, () => Float64Array.from({ length: 4 }, () => rng.gaussian()));
    expect(frechetDistance(a, a)).toBeCloseTo(0, 6);
    const shifted = a.map((v) => v.map((x) => x + 2));
    expect(frechetDistance(a, shifted)).toBeCloseTo(16, 4);
  });
});

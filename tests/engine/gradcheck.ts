import { mul, noGrad, Tensor } from "../../src/engine/ops/index.js";
import { seededRandom } from "../../src/engine/random.js";

/**
 * Finite-difference check of an op's backward. The probe loss is
 * L = Σ out ⊙ R with a fixed random R, so every output element's gradient
 * matters. L is summed in float64 from the float32 outputs and central
 * differences use a step of `eps`; with float32 forward passes that bounds the
 * numerical noise near 1e-4 of the gradient scale, so the default tolerance
 * (2% of the largest gradient) still catches a wrong factor, sign or index.
 */
export function gradcheck(
  fn: (xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: { eps?: number; tol?: number; samples?: number; seed?: number } = {},
): { maxError: number; scale: number } {
  const eps = opts.eps ?? 1e-2;
  const tol = opts.tol ?? 2e-2;
  const rng = seededRandom(opts.seed ?? 99);
  for (const x of inputs) x.grad = null;
  const out = fn(inputs);
  const R = Tensor.randn(out.shape, 1, rng);
  mul(out, R).sum().backward();
  const probe = (): number =>
    noGrad(() => {
      const o = fn(inputs);
      let s = 0;
      for (let i = 0; i < o.size; i++) s += o.data[i] * R.data[i];
      return s;
    });
  let maxError = 0;
  let scale = 1e-3;
  for (const x of inputs) {
    if (!x.requiresGrad) continue;
    const analytic = x.grad ?? new Float32Array(x.size);
    const n = x.size;
    const picks =
      opts.samples && opts.samples < n
        ? Array.from({ length: opts.samples }, () => Math.floor(rng() * n))
        : [...Array(n).keys()];
    for (const i of picks) {
      const orig = x.data[i];
      x.data[i] = orig + eps;
      const up = probe();
      x.data[i] = orig - eps;
      const down = probe();
      x.data[i] = orig;
      const numeric = (up - down) / (2 * eps);
      maxError = Math.max(maxError, Math.abs(numeric - analytic[i]));
      scale = Math.max(scale, Math.abs(analytic[i]), Math.abs(numeric));
    }
  }
  if (!(maxError <= tol * scale)) {
    throw new Error(
      `gradcheck failed: max |numeric − analytic| = ${maxError.toExponential(3)} > ${tol} × ${scale.toExponential(3)}`,
    );
  }
  return { maxError, scale };
}

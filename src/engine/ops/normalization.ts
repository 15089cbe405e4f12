import { gradOf, record } from "../autograd/graph.js";
import { invalid } from "../autograd/shape.js";
import { Tensor } from "../autograd/Tensor.js";

/**
 * y = γ ⊙ (x − μ)/√(σ² + ε) + β over the last axis, forward and backward fused
 * (one pass each instead of the ~10 graph nodes the composed version builds).
 * With x̂ the normalised input and ĝ = g ⊙ γ, the input gradient is
 *   dx = (ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) / √(σ² + ε).
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const D = x.shape[x.ndim - 1];
  if (gamma.size !== D || beta.size !== D)
    throw invalid(`layerNorm: γ/β must have ${D} values, got ${gamma.size}/${beta.size}`);
  const rows = x.size / D;
  const xd = x.data;
  const gd = gamma.data;
  const bd = beta.data;
  const xhat = new Float32Array(x.size);
  const rstd = new Float32Array(rows);
  const o = new Float32Array(x.size);
  for (let r = 0; r < rows; r++) {
    const off = r * D;
    let mu = 0;
    for (let j = 0; j < D; j++) mu += xd[off + j];
    mu /= D;
    let v = 0;
    for (let j = 0; j < D; j++) {
      const d = xd[off + j] - mu;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / D + eps);
    rstd[r] = rs;
    for (let j = 0; j < D; j++) {
      const h = (xd[off + j] - mu) * rs;
      xhat[off + j] = h;
      o[off + j] = h * gd[j] + bd[j];
    }
  }
  const out = new Tensor(o, x.shape);
  return record(out, "layerNorm", [x, gamma, beta], () => {
    const g = out.grad!;
    const gg = gamma.requiresGrad ? gradOf(gamma) : null;
    const gb = beta.requiresGrad ? gradOf(beta) : null;
    const gx = x.requiresGrad ? gradOf(x) : null;
    for (let r = 0; r < rows; r++) {
      const off = r * D;
      let m1 = 0;
      let m2 = 0;
      for (let j = 0; j < D; j++) {
        const gh = g[off + j] * gd[j];
        m1 += gh;
        m2 += gh * xhat[off + j];
        if (gg) gg[j] += g[off + j] * xhat[off + j];
        if (gb) gb[j] += g[off + j];
      }
      if (!gx) continue;
      m1 /= D;
      m2 /= D;
      const rs = rstd[r];
      for (let j = 0; j < D; j++) gx[off + j] += (g[off + j] * gd[j] - m1 - xhat[off + j] * m2) * rs;
    }
  });
}

/**
 * Group normalisation (Wu & He 2018): the C channels of each sample split into G groups,
 * each group normalised over its channels and positions, then a per-channel γ, β:
 *   y = γ_c · (x − μ_g)/√(σ²_g + ε) + β_c,   x [N, C, ...].
 * Independent of the batch size, which is why small-batch diffusion U-Nets use it. The
 * input gradient is layerNorm's with ĝ = g ⊙ γ_c and means over the group:
 *   dx = (ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)) / √(σ² + ε).
 */
export function groupNorm(x: Tensor, groups: number, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  if (x.ndim < 2) throw invalid(`groupNorm needs [N, C, ...], got [${x.shape}]`);
  const [N, C] = x.shape;
  if (!(Number.isInteger(groups) && groups >= 1 && C % groups === 0)) {
    throw invalid(`groupNorm: ${C} channels do not split into ${groups} groups`);
  }
  if (gamma.size !== C || beta.size !== C) throw invalid(`groupNorm: γ/β must have ${C} values`);
  const S = x.size / (N * C); // positions per channel
  const cpg = C / groups;
  const D = cpg * S; // values per group
  const xd = x.data;
  const gd = gamma.data;
  const bd = beta.data;
  const xhat = new Float32Array(x.size);
  const rstd = new Float32Array(N * groups);
  const o = new Float32Array(x.size);
  for (let r = 0; r < N * groups; r++) {
    const off = r * D;
    let mu = 0;
    for (let j = 0; j < D; j++) mu += xd[off + j];
    mu /= D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (xd[off + j] - mu) ** 2;
    const rs = 1 / Math.sqrt(v / D + eps);
    rstd[r] = rs;
    const c0 = (r % groups) * cpg;
    for (let j = 0; j < D; j++) {
      const c = c0 + Math.floor(j / S);
      const h = (xd[off + j] - mu) * rs;
      xhat[off + j] = h;
      o[off + j] = h * gd[c] + bd[c];
    }
  }
  const out = new Tensor(o, x.shape);
  return record(out, "groupNorm", [x, gamma, beta], () => {
    const g = out.grad!;
    const gg = gamma.requiresGrad ? gradOf(gamma) : null;
    const gb = beta.requiresGrad ? gradOf(beta) : null;
    const gx = x.requiresGrad ? gradOf(x) : null;
    for (let r = 0; r < N * groups; r++) {
      const off = r * D;
      const c0 = (r % groups) * cpg;
      let m1 = 0;
      let m2 = 0;
      for (let j = 0; j < D; j++) {
        const c = c0 + Math.floor(j / S);
        const gh = g[off + j] * gd[c];
        m1 += gh;
        m2 += gh * xhat[off + j];
        if (gg) gg[c] += g[off + j] * xhat[off + j];
        if (gb) gb[c] += g[off + j];
      }
      if (!gx) continue;
      m1 /= D;
      m2 /= D;
      const rs = rstd[r];
      for (let j = 0; j < D; j++) {
        const c = c0 + Math.floor(j / S);
        gx[off + j] += (g[off + j] * gd[c] - m1 - xhat[off + j] * m2) * rs;
      }
    }
  });
}

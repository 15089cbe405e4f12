import { gradOf, record } from "../autograd/graph.js";
import { invalid, sameShape } from "../autograd/shape.js";
import { Tensor } from "../autograd/Tensor.js";
import { broadcastShape, gather, indexMap } from "./broadcast.js";

/** Ops that zero or replace values: dropout and masked fill. */

/**
 * Inverted dropout: zero each value with probability p and scale survivors by
 * 1/(1−p), so evaluation (training = false) is the identity.
 */
export function dropout(x: Tensor, p: number, training: boolean, rng: () => number): Tensor {
  if (!(p >= 0 && p < 1)) throw invalid(`dropout probability must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const scale = 1 / (1 - p);
  const keep = new Float32Array(x.size);
  const o = new Float32Array(x.size);
  for (let k = 0; k < o.length; k++) {
    if (rng() >= p) {
      keep[k] = scale;
      o[k] = x.data[k] * scale;
    }
  }
  const out = new Tensor(o, x.shape);
  return record(out, "dropout", [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let k = 0; k < g.length; k++) gx[k] += g[k] * keep[k];
  });
}

/**
 * Where `mask` (broadcast to x, nonzero = masked) is set, the value becomes
 * `value` and no gradient flows; elsewhere x passes through. Attention uses it
 * with −∞ for the causal and padding masks.
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  const shape = broadcastShape(x.shape, mask.shape);
  if (!sameShape(shape, x.shape)) throw invalid(`maskedFill: mask [${mask.shape}] must broadcast to [${x.shape}]`);
  const m = gather(mask.data, indexMap(mask.shape, x.shape), x.size);
  const o = x.data.slice();
  for (let k = 0; k < o.length; k++) if (m[k] !== 0) o[k] = value;
  const out = new Tensor(o, x.shape);
  return record(out, "maskedFill", [x], () => {
    const g = out.grad!;
    const gx = gradOf(x);
    for (let k = 0; k < g.length; k++) if (m[k] === 0) gx[k] += g[k];
  });
}

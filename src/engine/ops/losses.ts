import { gradOf, record } from "../autograd/graph.js";
import { invalid } from "../autograd/shape.js";
import { Tensor } from "../autograd/Tensor.js";

/**
 * Mean cross-entropy of logits [..., V] against integer targets, fused with
 * log-softmax so the [N, V] probability matrix is never stored twice.
 * Targets equal to `ignoreIndex` (padding) count neither in the sum nor in the mean.
 * Backward: dlogits = (softmax − onehot) / count.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array, ignoreIndex = -100): Tensor {
  const V = logits.shape[logits.ndim - 1];
  const rows = logits.size / V;
  if (targets.length !== rows) {
    throw invalid(`crossEntropy: ${targets.length} targets for ${rows} rows of logits [${logits.shape}]`);
  }
  const xd = logits.data;
  const probs = new Float32Array(logits.size);
  let loss = 0;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const t = targets[r];
    if (t === ignoreIndex) continue;
    if (!(t >= 0 && t < V)) throw invalid(`crossEntropy: target ${t} at row ${r} is outside the vocabulary of ${V}`);
    const off = r * V;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < V; j++) if (xd[off + j] > max) max = xd[off + j];
    let s = 0;
    for (let j = 0; j < V; j++) {
      const e = Math.exp(xd[off + j] - max);
      probs[off + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < V; j++) probs[off + j] *= inv;
    loss += max + Math.log(s) - xd[off + t];
    count++;
  }
  const out = new Tensor(Float32Array.of(count ? loss / count : 0), []);
  return record(out, "crossEntropy", [logits], () => {
    if (!count) return;
    const scale = out.grad![0] / count;
    const gx = gradOf(logits);
    for (let r = 0; r < rows; r++) {
      const t = targets[r];
      if (t === ignoreIndex) continue;
      const off = r * V;
      for (let j = 0; j < V; j++) gx[off + j] += probs[off + j] * scale;
      gx[off + t] -= scale;
    }
  });
}

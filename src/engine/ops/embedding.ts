import { gradOf, record } from "../autograd/graph.js";
import { invalid, sizeOf } from "../autograd/shape.js";
import { Tensor } from "../autograd/Tensor.js";

/** Rows of `weight` [V, D] picked by `ids`; the result has shape [...shape, D]. */
export function embedding(weight: Tensor, ids: Int32Array | number[], shape: number[] = [ids.length]): Tensor {
  const [V, D] = weight.shape;
  if (weight.ndim !== 2) throw invalid(`embedding weight must be [vocab, dim], got [${weight.shape}]`);
  if (sizeOf(shape) !== ids.length) throw invalid(`embedding: ${ids.length} ids do not fill shape [${shape}]`);
  const n = ids.length;
  const o = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (!(Number.isInteger(id) && id >= 0 && id < V))
      throw invalid(`embedding: id ${id} at position ${i} is outside the vocabulary of ${V}`);
    o.set(weight.data.subarray(id * D, id * D + D), i * D);
  }
  const out = new Tensor(o, [...shape, D]);
  const idCopy = Int32Array.from(ids);
  return record(out, "embedding", [weight], () => {
    const g = out.grad!;
    const gw = gradOf(weight);
    for (let i = 0; i < n; i++) {
      const dst = idCopy[i] * D;
      const src = i * D;
      for (let j = 0; j < D; j++) gw[dst + j] += g[src + j];
    }
  });
}

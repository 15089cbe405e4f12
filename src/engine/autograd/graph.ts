import type { Tensor } from "./Tensor.js";

/**
 * The bookkeeping every op shares: whether the graph is being recorded, how an op's
 * output is wired to its parents, and the lazily allocated gradient buffers.
 */

let gradEnabled = true;

/** Runs `fn` without recording the graph: inference pays no memory for backward. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Wires an op's output into the graph when any input needs a gradient. */
export function record(out: Tensor, op: string, parents: Tensor[], backwardFn: () => void): Tensor {
  out.op = op;
  if (gradEnabled && parents.some((p) => p.requiresGrad)) {
    out.requiresGrad = true;
    out.parents = parents;
    out.backwardFn = backwardFn;
  }
  return out;
}

/** The parent's grad buffer, allocated on first use. */
export function gradOf(t: Tensor): Float32Array {
  if (!t.grad) t.grad = new Float32Array(t.size);
  return t.grad;
}

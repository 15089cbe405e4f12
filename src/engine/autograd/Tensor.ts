import { exp, gelu, leakyRelu, log, relu, sigmoid, silu, tanh } from "../ops/activations.js";
import { add, div, mul, sub } from "../ops/arithmetic.js";
import { permute, reshape, slice, transpose } from "../ops/layout.js";
import { dropout, maskedFill } from "../ops/masking.js";
import { type MatmulOptions, matmul } from "../ops/matmul.js";
import { mean, sum } from "../ops/reduce.js";
import { logSoftmax, softmax } from "../ops/softmax.js";
import { gaussian } from "../random.js";
import { invalid, sizeOf } from "./shape.js";

/**
 * A dense float32 tensor with reverse-mode automatic differentiation.
 *
 * Every op (in ../ops/, one file per family) builds its output, records its parents and a `backwardFn`
 * that reads `out.grad` and adds into each parent's `grad` — forward and
 * backward of an op sit next to each other, as in micrograd. `backward()` on a
 * scalar walks the graph in reverse topological order.
 *
 * Storage is always contiguous row-major; ops that change the layout
 * (transpose, permute, slice) copy. That keeps every kernel a plain loop.
 */

export type TensorLike = Tensor | number;

export class Tensor {
  data: Float32Array;
  shape: number[];
  grad: Float32Array | null = null;
  requiresGrad: boolean;
  /** Name of the op that produced this tensor ("leaf" for inputs and weights); helps debugging. */
  op = "leaf";
  parents: Tensor[] = [];
  backwardFn: (() => void) | null = null;

  constructor(data: Float32Array, shape: number[], requiresGrad = false) {
    if (!shape.every((d) => Number.isInteger(d) && d >= 0))
      throw invalid(`tensor shape [${shape}] must be non-negative integers`);
    if (data.length !== sizeOf(shape)) {
      throw invalid(`tensor data has ${data.length} values but shape [${shape}] needs ${sizeOf(shape)}`);
    }
    this.data = data;
    this.shape = [...shape];
    this.requiresGrad = requiresGrad;
  }

  static zeros(shape: number[], requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(sizeOf(shape)), shape, requiresGrad);
  }

  static ones(shape: number[], requiresGrad = false): Tensor {
    return Tensor.full(shape, 1, requiresGrad);
  }

  static full(shape: number[], value: number, requiresGrad = false): Tensor {
    return new Tensor(new Float32Array(sizeOf(shape)).fill(value), shape, requiresGrad);
  }

  static scalar(value: number, requiresGrad = false): Tensor {
    return new Tensor(Float32Array.of(value), [], requiresGrad);
  }

  /** Normal(0, std²) values; pass a `seededRandom` for repeatable weights. */
  static randn(shape: number[], std = 1, rng: () => number = Math.random, requiresGrad = false): Tensor {
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = gaussian(rng) * std;
    return new Tensor(data, shape, requiresGrad);
  }

  /** From a (possibly nested) number array; the shape is inferred unless given. */
  static fromArray(
    values: ArrayLike<number> | number[][] | number[][][],
    shape?: number[],
    requiresGrad = false,
  ): Tensor {
    const inferred: number[] = [];
    let probe: unknown = values;
    while (Array.isArray(probe)) {
      inferred.push(probe.length);
      probe = probe[0];
    }
    const flat = Array.isArray(values) ? (values as unknown[]).flat(Number.POSITIVE_INFINITY) : Array.from(values);
    if (flat.some((v) => typeof v !== "number")) throw invalid("Tensor.fromArray needs numbers only");
    const s = shape ?? (inferred.length ? inferred : [flat.length]);
    return new Tensor(Float32Array.from(flat as number[]), s, requiresGrad);
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  item(): number {
    if (this.size !== 1) throw invalid(`item() needs a single-value tensor, got shape [${this.shape}]`);
    return this.data[0];
  }

  /** A copy that shares nothing with the graph. */
  detach(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  zeroGrad(): void {
    this.grad?.fill(0);
  }

  /** Reverse pass from a scalar: seeds d(this)/d(this) = 1 and runs every backwardFn once. */
  backward(): void {
    if (this.size !== 1) throw invalid(`backward() starts from a scalar, got shape [${this.shape}]`);
    if (!this.requiresGrad)
      throw invalid("backward() on a tensor that does not require grad (built under noGrad or from constants)");
    // Iterative DFS: deep graphs (many layers × many ops) would overflow a recursive one.
    const order: Tensor[] = [];
    const visited = new Set<Tensor>();
    const stack: Array<[Tensor, number]> = [[this, 0]];
    visited.add(this);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [node, i] = top;
      if (i < node.parents.length) {
        top[1]++;
        const p = node.parents[i];
        if (p.requiresGrad && !visited.has(p)) {
          visited.add(p);
          stack.push([p, 0]);
        }
      } else {
        stack.pop();
        order.push(node);
      }
    }
    this.grad = new Float32Array(1).fill(1);
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i];
      if (node.backwardFn && node.grad) node.backwardFn();
    }
  }

  // Method forms of the free functions below, so models read as x.matmul(w).add(b).
  add(o: TensorLike): Tensor {
    return add(this, o);
  }
  sub(o: TensorLike): Tensor {
    return sub(this, o);
  }
  mul(o: TensorLike): Tensor {
    return mul(this, o);
  }
  div(o: TensorLike): Tensor {
    return div(this, o);
  }
  neg(): Tensor {
    return mul(this, -1);
  }
  matmul(o: Tensor, opts?: MatmulOptions): Tensor {
    return matmul(this, o, opts);
  }
  sum(axis?: number, keepDim = false): Tensor {
    return sum(this, axis, keepDim);
  }
  mean(axis?: number, keepDim = false): Tensor {
    return mean(this, axis, keepDim);
  }
  reshape(shape: number[]): Tensor {
    return reshape(this, shape);
  }
  transpose(dim0 = -2, dim1 = -1): Tensor {
    return transpose(this, dim0, dim1);
  }
  permute(dims: number[]): Tensor {
    return permute(this, dims);
  }
  slice(axis: number, start: number, end: number): Tensor {
    return slice(this, axis, start, end);
  }
  exp(): Tensor {
    return exp(this);
  }
  log(): Tensor {
    return log(this);
  }
  tanh(): Tensor {
    return tanh(this);
  }
  relu(): Tensor {
    return relu(this);
  }
  gelu(): Tensor {
    return gelu(this);
  }
  sigmoid(): Tensor {
    return sigmoid(this);
  }
  silu(): Tensor {
    return silu(this);
  }
  leakyRelu(slope?: number): Tensor {
    return leakyRelu(this, slope);
  }
  softmax(axis = -1): Tensor {
    return softmax(this, axis);
  }
  logSoftmax(axis = -1): Tensor {
    return logSoftmax(this, axis);
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return maskedFill(this, mask, value);
  }
  dropout(p: number, training: boolean, rng: () => number): Tensor {
    return dropout(this, p, training, rng);
  }
}

export function toTensor(x: TensorLike): Tensor {
  return x instanceof Tensor ? x : Tensor.scalar(x);
}

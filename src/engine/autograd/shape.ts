import { GeneraError } from "../../errors.js";

/** Shape arithmetic and argument checks shared by the ops. */

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function invalid(message: string, details?: Record<string, unknown>): GeneraError {
  return new GeneraError("INVALID_INPUT", message, { details });
}

export function normAxis(axis: number, ndim: number, what: string): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= ndim)
    throw invalid(`${what}: axis ${axis} is out of range for ${ndim} dims`);
  return a;
}

/** Splits a shape around `axis` into [outer, n, inner] so an axis op is three nested loops. */
export function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

/** See matmulPool.mjs. */
export const CTRL: {
  readonly SEQ: 0;
  readonly NEXT: 1;
  readonly WORKER_BLOCKS: 2;
  readonly SLOTS: 8;
  readonly SLOT_SIZE: 20;
  readonly RING: 4;
};
export const ITEM_BITS: number;
export const ITEM_MASK: number;
export const TAG_MASK: number;
export const JOB_LENGTH: number;
export type WasmGemm = (
  a: number,
  b: number,
  c: number,
  K: number,
  N: number,
  i0: number,
  i1: number,
  rsA: number,
  ksA: number,
) => void;
export function claim(ctrl: Int32Array, seq: number, items: number): number;
export function runBlock(kernels: readonly [WasmGemm, WasmGemm], job: ArrayLike<number>, item: number): void;

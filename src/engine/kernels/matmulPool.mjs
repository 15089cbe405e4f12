// The protocol between matmul.ts (the main thread) and matmulWorker.mjs (pool
// threads), in plain JavaScript so both load the one copy: the control block's
// layout, how a thread claims a row block, and how a block runs. See CTRL in
// matmul.ts for how the pieces fit together.

/**
 * Indexes into the shared Int32Array. SEQ: number of the latest job; NEXT: (job
 * tag << ITEM_BITS) | next unclaimed block; WORKER_BLOCKS: blocks the workers
 * computed; then RING job slots of SLOT_SIZE ints each: DONE count, then the job.
 */
export const CTRL = { SEQ: 0, NEXT: 1, WORKER_BLOCKS: 2, SLOTS: 8, SLOT_SIZE: 20, RING: 4 };
export const ITEM_BITS = 20;
export const ITEM_MASK = (1 << ITEM_BITS) - 1;
export const TAG_MASK = 0x7ff;

/** Ints of a job in its slot, after the DONE count (the list runBlock destructures). */
export const JOB_LENGTH = 16;

/**
 * Claims the next block of job `seq` by compare-and-swap, or returns −1 when it
 * has none left (or is no longer current).
 * @param {Int32Array} ctrl @param {number} seq @param {number} items
 */
export function claim(ctrl, seq, items) {
  const tag = (seq & TAG_MASK) << ITEM_BITS;
  for (;;) {
    const v = Atomics.load(ctrl, CTRL.NEXT);
    if ((v & ~ITEM_MASK) !== tag) return -1;
    const item = v & ITEM_MASK;
    if (item >= items) return -1;
    if (Atomics.compareExchange(ctrl, CTRL.NEXT, v, v + 1) === v) return item;
  }
}

/**
 * Runs block `item` of a job: rows [r0, r1) of one batch entry's C, with the
 * accumulating kernel or the overwriting one as the job says.
 * @param {[Function, Function]} kernels [C += A·B, C = A·B] (the wasm exports gemm, gemmSet)
 * @param {ArrayLike<number>} job the JOB_LENGTH ints, as matmul.ts writes them
 * @param {number} item
 */
export function runBlock(kernels, job, item) {
  const [, blocksPerBatch, rowsPerBlock, Mp, K, Np, aBase, bBase, cBase, aSize, bSize, cSize, sharedB, rsA, ksA, set] =
    job;
  const p = Math.floor(item / blocksPerBatch);
  const r0 = (item % blocksPerBatch) * rowsPerBlock;
  kernels[set ? 1 : 0](
    (aBase + p * aSize) * 4,
    (bBase + (sharedB ? 0 : p) * bSize) * 4,
    (cBase + p * cSize) * 4,
    K,
    Np,
    r0,
    Math.min(r0 + rowsPerBlock, Mp),
    rsA,
    ksA,
  );
}

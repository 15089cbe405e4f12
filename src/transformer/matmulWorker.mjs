// A matmul pool thread (see the protocol at CTRL in matmul.ts). Plain
// JavaScript so it starts without a TypeScript loader under vitest, tsx and
// bin/genera.js alike. It instantiates the main thread's wasm kernel over the
// same shared memory, sleeps on the control block until a job is published,
// and claims row blocks until none are left. It never returns to its event
// loop; the main thread terminates it (or the process exits, as it is unref'd).
import { workerData } from "node:worker_threads";

const { module, memory, ctrl } = workerData;
const { gemm, gemmSet } = new WebAssembly.Instance(module, { env: { memory } }).exports;
// Must match CTRL in matmul.ts.
const SEQ = 0;
const NEXT = 1;
const WORKER_BLOCKS = 2;
const SLOTS = 8;
const SLOT_SIZE = 20;
const RING = 4;
const ITEM_BITS = 20;
const ITEM_MASK = (1 << ITEM_BITS) - 1;
const TAG_MASK = 0x7ff;

/** Same as claim() in matmul.ts. */
function claim(seq, items) {
  const tag = (seq & TAG_MASK) << ITEM_BITS;
  for (;;) {
    const v = Atomics.load(ctrl, NEXT);
    if ((v & ~ITEM_MASK) !== tag) return -1;
    const item = v & ITEM_MASK;
    if (item >= items) return -1;
    if (Atomics.compareExchange(ctrl, NEXT, v, v + 1) === v) return item;
  }
}

let seen = 0;
for (;;) {
  Atomics.wait(ctrl, SEQ, seen);
  const seq = Atomics.load(ctrl, SEQ);
  seen = seq;
  const slot = SLOTS + (seq % RING) * SLOT_SIZE;
  const [
    items,
    blocksPerBatch,
    rowsPerBlock,
    Mp,
    K,
    Np,
    aBase,
    bBase,
    cBase,
    aSize,
    bSize,
    cSize,
    sharedB,
    rsA,
    ksA,
    set,
  ] = ctrl.slice(slot + 1, slot + 17);
  const kernel = set ? gemmSet : gemm;
  for (let item = claim(seq, items); item >= 0; item = claim(seq, items)) {
    const p = Math.floor(item / blocksPerBatch);
    const r0 = (item % blocksPerBatch) * rowsPerBlock;
    const r1 = Math.min(r0 + rowsPerBlock, Mp);
    kernel(
      (aBase + p * aSize) * 4,
      (bBase + (sharedB ? 0 : p) * bSize) * 4,
      (cBase + p * cSize) * 4,
      K,
      Np,
      r0,
      r1,
      rsA,
      ksA,
    );
    Atomics.add(ctrl, WORKER_BLOCKS, 1);
    Atomics.add(ctrl, slot, 1);
    Atomics.notify(ctrl, slot);
  }
}

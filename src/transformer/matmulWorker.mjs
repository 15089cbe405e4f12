// A matmul pool thread (see the protocol at CTRL in matmul.ts). Plain
// JavaScript so it starts without a TypeScript loader under vitest, tsx and
// bin/genera.js alike. It instantiates the main thread's wasm kernel over the
// same shared memory, sleeps on the control block until a job is published,
// and claims row blocks until none are left. It never returns to its event
// loop; the main thread terminates it (or the process exits, as it is unref'd).
import { workerData } from "node:worker_threads";

const { module, memory, ctrl } = workerData;
const { gemm } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const SEQ = 0;
const ACTIVE = 1;
const NEXT = 2;
const DONE = 3;
const PARAMS = 4;
const WORKER_BLOCKS = 24;
const BUSY = -1;

let seen = 0;
for (;;) {
  Atomics.wait(ctrl, SEQ, seen);
  const seq = Atomics.load(ctrl, SEQ);
  if (seq === seen) continue;
  if (seq === BUSY) {
    Atomics.wait(ctrl, SEQ, BUSY); // the main thread is writing a job; it notifies when done
    continue;
  }
  Atomics.add(ctrl, ACTIVE, 1);
  if (Atomics.load(ctrl, SEQ) === seq) {
    seen = seq;
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
    ] = ctrl.subarray(PARAMS, PARAMS + 15);
    for (let item = Atomics.add(ctrl, NEXT, 1); item < items; item = Atomics.add(ctrl, NEXT, 1)) {
      const p = Math.floor(item / blocksPerBatch);
      const r0 = (item % blocksPerBatch) * rowsPerBlock;
      const r1 = Math.min(r0 + rowsPerBlock, Mp);
      gemm(
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
      Atomics.add(ctrl, DONE, 1);
      Atomics.notify(ctrl, DONE);
    }
  }
  Atomics.sub(ctrl, ACTIVE, 1);
  Atomics.notify(ctrl, ACTIVE);
}

// A matmul pool thread (see the protocol at CTRL in matmul.ts and matmulPool.mjs).
// Plain JavaScript so it starts without a TypeScript loader under vitest, scripts/ts.mjs and
// bin/genera.js alike. It instantiates the main thread's wasm kernel over the
// same shared memory, sleeps on the control block until a job is published,
// and claims row blocks until none are left. It never returns to its event
// loop; the main thread terminates it (or the process exits, as it is unref'd).
import { workerData } from "node:worker_threads";
import { CTRL, claim, JOB_LENGTH, runBlock } from "./matmulPool.mjs";

const { module, memory, ctrl } = workerData;
const { gemm, gemmSet } = new WebAssembly.Instance(module, { env: { memory } }).exports;
const kernels = [gemm, gemmSet];

let seen = 0;
for (;;) {
  Atomics.wait(ctrl, CTRL.SEQ, seen);
  const seq = Atomics.load(ctrl, CTRL.SEQ);
  seen = seq;
  const slot = CTRL.SLOTS + (seq % CTRL.RING) * CTRL.SLOT_SIZE;
  const job = ctrl.slice(slot + 1, slot + 1 + JOB_LENGTH);
  const items = job[0];
  for (let item = claim(ctrl, seq, items); item >= 0; item = claim(ctrl, seq, items)) {
    runBlock(kernels, job, item);
    Atomics.add(ctrl, CTRL.WORKER_BLOCKS, 1);
    Atomics.add(ctrl, slot, 1);
    Atomics.notify(ctrl, slot);
  }
}

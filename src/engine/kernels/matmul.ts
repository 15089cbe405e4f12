import { availableParallelism } from "node:os";
import v8 from "node:v8";
import { Worker } from "node:worker_threads";
import { gemmRows } from "./matmulKernel.mjs";
import { CTRL, claim, ITEM_BITS, ITEM_MASK, runBlock, TAG_MASK, type WasmGemm } from "./matmulPool.mjs";
import { buildGemmModule, PANEL, ROWS } from "./matmulWasm.js";

/**
 * The matrix multiply behind every Linear layer and attention product, the
 * engine's hot spot. Three tiers, picked by size:
 *
 * 1. tiny products: the scalar JavaScript kernel in matmulKernel.mjs, in place;
 * 2. larger ones: operands are copied into a shared WebAssembly memory (B
 *    packed into column panels, see packPanels) and multiplied by the SIMD kernel
 *    of matmulWasm.ts — the O(n²) copy is paid back by the O(n³) product;
 * 3. the largest: the same, with row blocks shared out among worker threads
 *    that instantiate the kernel over the same shared memory.
 *
 * The API stays synchronous: the main thread posts the job, takes row blocks
 * itself from an atomic counter, then waits (Atomics.wait) only for blocks a
 * worker has already claimed. A worker still starting simply finds no work
 * left, so a cold pool can never stall a multiply.
 */

/** One batched GEMM: C[p] += op(A[p]) · op(B[p]) for p < batch (strideB = 0 shares one B). */
export interface GemmJob {
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  batch: number;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  strideA: number;
  strideB: number;
  strideC: number;
  /** C's contents are ignored and replaced (C = op(A)·op(B)): spares copying C in. Default false. */
  overwrite?: boolean;
}

/** Below this many multiply-adds the copy into wasm memory costs more than it saves. */
const WASM_MIN_MACS = 16_384;
/**
 * Below this many multiply-adds (~0.5 ms on one thread) waking the workers
 * (measured 50–150 µs on a busy 2-core machine) costs more than it saves.
 */
const POOL_MIN_MACS = 1 << 22;
/** Row panels (of ROWS rows) per unit of work handed to a thread. */
const PANELS_PER_BLOCK = 8;

// The WebAssembly JS API, typed here because the project's lib (ES2023, no DOM) leaves it out.
interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface WasmKernel {
  memory: WasmMemory;
  module: object;
  fused: boolean;
  /** [C += A·B, C = A·B] */
  gemm: [WasmGemm, WasmGemm];
}

let wasm: WasmKernel | null | undefined;

function wasmKernel(): WasmKernel | null {
  if (wasm === undefined) wasm = instantiateGemmKernel(256);
  return wasm;
}

/** A kernel instance over a fresh shared memory of `pages` 64 KiB pages (the module is compiled once), or null without wasm SIMD. */
export function instantiateGemmKernel(pages: number): WasmKernel | null {
  try {
    compiled ??= compileKernel();
    const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared: true });
    const instance = new WebAssembly.Instance(compiled.module, { env: { memory } });
    const { gemm: add, gemmSet: set } = instance.exports as Record<string, WasmGemm>;
    return { memory, module: compiled.module, fused: compiled.fused, gemm: [add!, set!] };
  } catch {
    // No wasm SIMD or shared memory (an old or locked-down runtime): the JS kernel still works.
    return null;
  }
}
let compiled: { module: object; fused: boolean } | undefined;

/**
 * The fused multiply-add kernel where the runtime validates relaxed SIMD,
 * else the mul + add one. V8 ships relaxed SIMD from 11.4 (Node 22); Node
 * 20's V8 11.3 has it, complete, behind a flag that only affects wasm
 * validation, so it is switched on here rather than asking every user for a
 * command-line flag. GENERA_MATMUL_FMA=0 keeps the unfused kernel.
 */
function compileKernel(): { module: object; fused: boolean } {
  if (process.env.GENERA_MATMUL_FMA !== "0") {
    for (const enable of [false, true]) {
      try {
        if (enable) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
        return { module: new WebAssembly.Module(buildGemmModule(true)), fused: true };
      } catch {
        // Not validated: try the flag, then fall back to the unfused kernel.
      }
    }
  }
  return { module: new WebAssembly.Module(buildGemmModule(false)), fused: false };
}

/** Which kernel large products use: "wasm-fma", "wasm" (SIMD mul + add) or "js" (no wasm SIMD). */
export function matmulKernelName(): "wasm-fma" | "wasm" | "js" {
  const k = wasmKernel();
  return k ? (k.fused ? "wasm-fma" : "wasm") : "js";
}

/** GENERA_MATMUL_THREADS overrides the default (the number of cores, at most 8); 1 turns the pool off. */
const envThreads = Number.parseInt(process.env.GENERA_MATMUL_THREADS ?? "", 10);
let threadsWanted = envThreads >= 1 ? envThreads : Math.max(1, Math.min(8, availableParallelism()));

/**
 * The pool talks through one shared Int32Array (CTRL, in matmulPool.mjs, which
 * the workers load too), not postMessage (which measured ~4 ms a message on a
 * busy machine — longer than the products).
 *
 * - SEQ: number of the latest job; workers sleep on it (Atomics.wait).
 * - NEXT: (job tag << 20) | next unclaimed block. A thread claims a block by
 *   compare-and-swap, so a claim only succeeds while its job is current.
 * - four job slots (job n uses slot n mod 4): DONE count, then parameters.
 *
 * A thread reads the job's parameters, then claims; a successful claim proves
 * the job was still current, so the slot had not been reused and the
 * parameters it read were whole. Nobody ever waits for a late worker to
 * leave a finished job: the main thread waits only for blocks actually claimed.
 */

interface Pool {
  ctrl: Int32Array;
  workers: Worker[];
  seq: number;
}
let activePool: Pool | null = null;

/**
 * Sets how many threads (the calling thread included) large products use;
 * 1 disables the pool. Defaults to the number of cores, at most 8.
 */
export function setMatmulThreads(n: number): void {
  const want = Math.max(1, Math.floor(n));
  if (want === threadsWanted) return;
  threadsWanted = want;
  // Resize by starting over with a fresh control block.
  if (activePool) for (const w of activePool.workers) void w.terminate();
  activePool = null;
}

export function getMatmulThreads(): number {
  return threadsWanted;
}

/** Threads in use, workers started, and row blocks the workers (not the main thread) computed. */
export function matmulPoolStats(): { threads: number; workers: number; workerBlocks: number } {
  return {
    threads: threadsWanted,
    workers: activePool?.workers.length ?? 0,
    workerBlocks: activePool ? Atomics.load(activePool.ctrl, CTRL.WORKER_BLOCKS) : 0,
  };
}

/** Starts the workers on first use; unref'd so an idle pool never keeps the process alive. */
function pool(k: WasmKernel): Pool {
  if (activePool) return activePool;
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * (CTRL.SLOTS + CTRL.RING * CTRL.SLOT_SIZE)));
  const workers: Worker[] = [];
  for (let t = 1; t < threadsWanted; t++) {
    const w = new Worker(new URL("./matmulWorker.mjs", import.meta.url), {
      workerData: { module: k.module, memory: k.memory, ctrl },
      // Plain .mjs: skip the parent's loaders (scripts/ts.mjs, vitest), which cost start-up time per thread.
      execArgv: [],
    });
    w.unref();
    // A worker that dies only does less work: blocks it never claimed go to the others.
    w.on("error", () => undefined);
    workers.push(w);
  }
  activePool = { ctrl, workers, seq: 0 };
  return activePool;
}

/** Publishes a job (see CTRL) and returns the index of its DONE counter. */
function publish(pl: Pool, params: number[]): number {
  const { ctrl } = pl;
  pl.seq = pl.seq >= 0x3fffffff ? 1 : pl.seq + 1;
  const slot = CTRL.SLOTS + (pl.seq % CTRL.RING) * CTRL.SLOT_SIZE;
  ctrl.set(params, slot + 1);
  Atomics.store(ctrl, slot, 0);
  Atomics.store(ctrl, CTRL.NEXT, (pl.seq & TAG_MASK) << ITEM_BITS);
  Atomics.store(ctrl, CTRL.SEQ, pl.seq);
  Atomics.notify(ctrl, CTRL.SEQ);
  return slot;
}

/** Runs a GEMM job on this thread with the scalar JS kernel. */
export function gemmJS(job: GemmJob): void {
  const { a, b, c, batch, M, N, K, transA, transB, strideA, strideB, strideC } = job;
  if (job.overwrite) for (let p = 0; p < batch; p++) c.fill(0, p * strideC, p * strideC + M * N);
  for (let p = 0; p < batch; p++)
    gemmRows(a, p * strideA, b, p * strideB, c, p * strideC, M, N, K, transA, transB, 0, M);
}

/** Makes sure the shared memory holds `bytes`; growing keeps the same buffer object for workers. */
function reserve(k: WasmKernel, bytes: number): Float32Array {
  const have = k.memory.buffer.byteLength;
  if (bytes > have) k.memory.grow(Math.ceil((bytes - have) / 65536));
  return new Float32Array(k.memory.buffer);
}

const ceil = (n: number, m: number) => Math.ceil(n / m) * m;

/** C += op(A)·op(B) for every batch entry, choosing the JS kernel, wasm, or wasm across threads. */
export function gemm(job: GemmJob, opts: { threads?: number } = {}): void {
  const { batch, M, N, K } = job;
  const macs = batch * M * N * K;
  if (macs === 0) return;
  // Fewer than ROWS rows (one decoding step) would waste most of a wasm row panel
  // and still pay for copying B in; the JS kernel reads B where it lies.
  const k = macs >= WASM_MIN_MACS && M >= ROWS ? wasmKernel() : null;
  if (!k) {
    gemmJS(job);
    return;
  }

  // Layout in wasm memory (floats): each A[p] as given (the kernel reads it
  // row-major or transposed through strides), B[p] packed (K×Np), C[p] as Mp×Np.
  // Rows of A past M are read (into the next region) but only feed rows of C
  // that are never copied out.
  const Mp = ceil(M, ROWS);
  const Np = ceil(N, PANEL);
  const nB = job.strideB === 0 ? 1 : batch;
  const aSize = M * K;
  const bSize = K * Np;
  const cSize = Mp * Np;
  const aBase = 0;
  const bBase = ceil(batch * aSize + ROWS * (K + 1), 4);
  const cBase = bBase + nB * bSize;
  const heap = reserve(k, (cBase + batch * cSize) * 4);
  const rsA = (job.transA ? 1 : K) * 4;
  const ksA = (job.transA ? M : 1) * 4;

  const { a, c, strideA, strideC } = job;
  const overwrite = job.overwrite === true;
  for (let p = 0; p < batch; p++) {
    heap.set(a.subarray(p * strideA, p * strideA + aSize), aBase + p * aSize);
    if (p < nB) packPanels(job.b, p * job.strideB, K, N, job.transB, heap, bBase + p * bSize);
    // C is accumulated in place: copy it in, add, copy it back (or only back, when overwritten).
    const cOff = cBase + p * cSize;
    if (overwrite) continue;
    if (Np === N) heap.set(c.subarray(p * strideC, p * strideC + M * N), cOff);
    else {
      for (let i = 0; i < M; i++) {
        heap.set(c.subarray(p * strideC + i * N, p * strideC + (i + 1) * N), cOff + i * Np);
        heap.fill(0, cOff + i * Np + N, cOff + (i + 1) * Np);
      }
    }
    heap.fill(0, cOff + M * Np, cOff + cSize);
  }

  const rowsPerBlock = ROWS * PANELS_PER_BLOCK;
  const blocksPerBatch = Math.ceil(Mp / rowsPerBlock);
  const items = batch * blocksPerBatch;
  // The job in the order runBlock reads it (matmulPool.mjs), for this thread and the pool alike.
  const jobParams = [
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
    nB === 1 ? 1 : 0,
    rsA,
    ksA,
    overwrite ? 1 : 0,
  ];
  const run = (item: number) => runBlock(k.gemm, jobParams, item);

  const threads = Math.min(opts.threads ?? threadsWanted, threadsWanted);
  if (threads > 1 && items > 1 && items <= ITEM_MASK && macs >= POOL_MIN_MACS) {
    const pl = pool(k);
    const slot = publish(pl, jobParams);
    const { ctrl, seq } = pl;
    for (let item = claim(ctrl, seq, items); item >= 0; item = claim(ctrl, seq, items)) {
      run(item);
      Atomics.add(ctrl, slot, 1);
    }
    // Only blocks a running worker has claimed remain; wait for those.
    for (let done = Atomics.load(ctrl, slot); done < items; done = Atomics.load(ctrl, slot)) {
      Atomics.wait(ctrl, slot, done, 10);
    }
  } else {
    for (let item = 0; item < items; item++) run(item);
  }

  for (let p = 0; p < batch; p++) {
    const cOff = cBase + p * cSize;
    if (Np === N) c.set(heap.subarray(cOff, cOff + M * N), p * strideC);
    else for (let i = 0; i < M; i++) c.set(heap.subarray(cOff + i * Np, cOff + i * Np + N), p * strideC + i * N);
  }
}

/**
 * op(B) (K×N, B read from b[base]) packed at heap[off] as the kernel reads it:
 * ceil(N/PANEL) panels of K×PANEL floats, panel q holding columns
 * [q·PANEL, q·PANEL + PANEL), zero past N. Each k step of the kernel then
 * reads PANEL consecutive floats.
 */
export function packPanels(
  b: Float32Array,
  base: number,
  K: number,
  N: number,
  transB: boolean,
  heap: Float32Array,
  off: number,
): void {
  const Np = ceil(N, PANEL);
  for (let q = 0; q < Np; q += PANEL) {
    const panel = off + q * K;
    const w = Math.min(PANEL, N - q);
    if (w < PANEL) heap.fill(0, panel, panel + K * PANEL);
    if (transB) {
      // B is N×K: column q + t of op(B) is row q + t of B, read in order.
      for (let t = 0; t < w; t++) {
        const src = base + (q + t) * K;
        for (let kk = 0, d = panel + t; kk < K; kk++, d += PANEL) heap[d] = b[src + kk];
      }
    } else {
      for (let kk = 0, src = base + q, d = panel; kk < K; kk++, src += N, d += PANEL) {
        for (let t = 0; t < w; t++) heap[d + t] = b[src + t];
      }
    }
  }
}

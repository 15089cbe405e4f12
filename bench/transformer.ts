/**
 * Speed of the from-scratch transformer engine, against onnxruntime in the same run.
 *
 *   node --import ./scripts/ts.mjs bench/transformer.ts            (npm run bench:transformer)
 *
 * 1. GEMM GFLOP/s at the shapes training the default preset uses: our scalar
 *    JS kernel, our wasm SIMD kernel on one thread, the same over the worker
 *    pool, and onnxruntime-node's MatMul (a one-node ONNX model, encodeOnnxModel)
 *    with intraOpNumThreads 1 and with all cores.
 * 2. Generation tokens/s with and without the KV cache (256 new tokens).
 * 3. Training tokens/s (forward + backward + SGD) for the default preset.
 *
 * Timing is wall-clock best-of-several-rounds, so a busy machine shows as
 * lower numbers for everyone rather than as noise in the ratios.
 */
import { availableParallelism } from "node:os";
import * as ort from "onnxruntime-node";
import { type GemmJob, gemm, gemmJS, getMatmulThreads, matmulKernelName } from "../src/engine/kernels/matmul.js";
import { GPT, GPT_PRESETS } from "../src/engine/models/gpt.js";
import { seededRandom } from "../src/engine/random.js";
import { encodeOnnxModel } from "../src/util/onnxModel.js";

const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

type Bench = () => unknown | Promise<unknown>;

/** Calls per second of `fn` over one round of ~ROUND_MS. */
async function oneRound(fn: Bench): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ROUND_MS) {
    await fn();
    n++;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

/**
 * Best throughput (calls per second) of each function over ROUNDS rounds, the
 * functions taking turns round by round: on a shared machine a slow spell then
 * hits all of them rather than whichever happened to be running, so their
 * ratios hold even when the absolute figures swing.
 */
async function rates(fns: Bench[]): Promise<number[]> {
  // Warm-up for a whole round: JIT, worker start, session init, and V8's tier-up of
  // the wasm kernel from its baseline compiler (Liftoff) to the optimising one.
  for (const fn of fns) await oneRound(fn);
  const best = fns.map(() => 0);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, fn] of fns.entries()) best[i] = Math.max(best[i]!, await oneRound(fn));
  }
  return best;
}

const rate = async (fn: Bench): Promise<number> => (await rates([fn]))[0]!;

/** A one-node ONNX MatMul model with fixed shapes. */
function matmulModel(M: number, K: number, N: number): Uint8Array {
  return encodeOnnxModel({
    name: "matmul",
    nodes: [{ op: "MatMul", inputs: ["A", "B"], outputs: ["C"] }],
    inputs: [
      { name: "A", dims: [M, K] },
      { name: "B", dims: [K, N] },
    ],
    outputs: [{ name: "C", dims: [M, N] }],
  });
}

/** A one-node onnxruntime MatMul session on `threads` threads, as a benchmark function. */
async function ortMatmul(M: number, K: number, N: number, threads: number, a: Float32Array, b: Float32Array) {
  const session = await ort.InferenceSession.create(matmulModel(M, K, N), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const feeds = { A: new ort.Tensor("float32", a, [M, K]), B: new ort.Tensor("float32", b, [K, N]) };
  return { run: () => session.run(feeds), release: () => session.release() };
}

const f = (x: number, d = 1) => x.toFixed(d);

async function benchMatmul(): Promise<void> {
  const rng = seededRandom(1);
  const cores = availableParallelism();
  const pooled = getMatmulThreads();
  // [rows, K, N]: rows = B·T = 512 tokens of the "small" preset (dModel 128, dFF 512, vocab 256).
  const shapes: Array<[number, number, number, string]> = [
    [512, 128, 128, "attention projection (x·Wq)"],
    [512, 128, 512, "FFN up (x·W1)"],
    [512, 512, 128, "FFN down (h·W2)"],
    [512, 128, 256, "LM head (x·Eᵀ)"],
    [128, 32, 128, "attention scores (one head, Q·Kᵀ)"],
    [512, 512, 512, "square 512"],
  ];
  console.log(
    `\n### GEMM throughput, GFLOP/s (${cores} cores; pool = ${pooled} threads; kernel ${matmulKernelName()})\n`,
  );
  console.log(
    "| shape [M×K]·[K×N] | use | ours JS | ours wasm 1T | ours pool | ort 1T | ort all | ours 1T / ort 1T | ours pool / ort 1T |",
  );
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const [M, K, N, use] of shapes) {
    const a = Float32Array.from({ length: M * K }, () => rng() - 0.5);
    const b = Float32Array.from({ length: K * N }, () => rng() - 0.5);
    const job: GemmJob = {
      a,
      b,
      c: new Float32Array(M * N),
      batch: 1,
      M,
      N,
      K,
      transA: false,
      transB: false,
      strideA: M * K,
      strideB: 0,
      strideC: M * N,
      overwrite: true, // C = A·B, as onnxruntime's MatMul and the forward pass compute it
    };
    const flop = 2 * M * N * K;
    const gflops = (callsPerSecond: number) => (callsPerSecond * flop) / 1e9;
    const js = gflops(await rate(() => gemmJS(job)));
    const ort1 = await ortMatmul(M, K, N, 1, a, b);
    const ortN = await ortMatmul(M, K, N, cores, a, b);
    // Our single-thread kernel and onnxruntime's take turns, so their ratio is measured fairly.
    const [one, ortOne] = (await rates([() => gemm(job, { threads: 1 }), () => ort1.run()])).map(gflops) as [
      number,
      number,
    ];
    const [pool, ortAll] = (await rates([() => gemm(job), () => ortN.run()])).map(gflops) as [number, number];
    await ort1.release();
    await ortN.release();
    console.log(
      `| [${M}×${K}]·[${K}×${N}] | ${use} | ${f(js)} | ${f(one)} | ${f(pool)} | ${f(ortOne)} | ${f(ortAll)} | ${f((100 * one) / ortOne, 0)}% | ${f((100 * pool) / ortOne, 0)}% |`,
    );
  }
}

async function benchGeneration(): Promise<void> {
  // The default preset, with room for a 256-token continuation in one window.
  const config = { ...GPT_PRESETS.small, blockSize: 320, vocabSize: 256 };
  const model = new GPT(config, 3);
  const prompt = [1, 2, 3, 4, 5, 6, 7, 8];
  const tokens = 256;
  const time = (useKVCache: boolean) => {
    const t0 = performance.now();
    const out = model.generate(prompt, { maxNewTokens: tokens, greedy: true, useKVCache });
    return { ms: performance.now() - t0, out };
  };
  time(true); // warm-up
  const cached = time(true);
  const full = time(false);
  const same = cached.out.join() === full.out.join();
  console.log(
    `\n### Generation, ${tokens} new tokens, "small" preset (dModel ${config.dModel}, ${config.nLayers} layers)\n`,
  );
  console.log("| mode | tokens/s | ms/token |");
  console.log("|---|---:|---:|");
  console.log(`| KV cache | ${f((tokens * 1000) / cached.ms)} | ${f(cached.ms / tokens, 2)} |`);
  console.log(`| recompute (no cache) | ${f((tokens * 1000) / full.ms)} | ${f(full.ms / tokens, 2)} |`);
  console.log(`\nKV cache speed-up: ${f(full.ms / cached.ms)}× (same tokens: ${same})`);
}

async function benchTraining(): Promise<void> {
  const config = { ...GPT_PRESETS.small, vocabSize: 256 };
  const model = new GPT(config, 5);
  const B = 4;
  const T = config.blockSize;
  const rng = seededRandom(9);
  const idx = Int32Array.from({ length: B * T }, () => Math.floor(rng() * 256));
  const tgt = Int32Array.from({ length: B * T }, () => Math.floor(rng() * 256));
  const params = model.parameters();
  const step = () => {
    model.zeroGrad();
    const { loss } = model.forward({ ids: idx, batchSize: B, seqLen: T, targets: tgt });
    loss!.backward();
    for (const p of params) {
      const g = p.grad;
      if (!g) continue;
      for (let i = 0; i < p.size; i++) p.data[i] -= 1e-3 * g[i];
    }
  };
  step();
  const steps = 5;
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) step();
  const ms = (performance.now() - t0) / steps;
  console.log(
    `\n### Training, "small" preset (${(model.numParameters() / 1e6).toFixed(2)}M parameters), batch ${B}×${T}\n`,
  );
  console.log("| step (fwd+bwd+SGD) ms | tokens/s |");
  console.log("|---:|---:|");
  console.log(`| ${f(ms)} | ${f((B * T * 1000) / ms, 0)} |`);
}

await benchMatmul();
await benchGeneration();
await benchTraining();

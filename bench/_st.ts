import { gemm, setMatmulThreads } from "../src/transformer/matmul.js";
import { buildGemmModule } from "../src/transformer/matmulWasm.js";
setMatmulThreads(1);
const M = 512, K = 128, N = 512;
const a = Float32Array.from({ length: M * K }, () => Math.random()), b = Float32Array.from({ length: K * N }, () => Math.random());
const c = new Float32Array(M * N);
const job = { a, b, c, batch: 1, M, N, K, transA: false, transB: false, strideA: M * K, strideB: 0, strideC: M * N };
const memory = new WebAssembly.Memory({ initial: 200, maximum: 65536, shared: true });
const kern = new WebAssembly.Instance(new WebAssembly.Module(buildGemmModule()), { env: { memory } }).exports.gemm as (...x: number[]) => void;
const heap = new Float32Array(memory.buffer); heap.set(a, 0); heap.set(b, M * K);
const flop = 2 * M * N * K;
for (let round = 0; round < 4; round++) {
  for (const [name, fn] of [["kernel", () => kern(0, M * K * 4, (M * K + K * N) * 4, K, N, 0, M, K * 4, 4)], ["gemm()", () => gemm(job)], ["transB gemm", () => gemm({ ...job, transB: true })], ["transA gemm", () => gemm({ ...job, transA: true })]] as const) {
    const t = performance.now(); let n = 0;
    while (performance.now() - t < 300) { fn(); n++; }
    console.log(round, name, ((n * flop) / ((performance.now() - t) / 1000) / 1e9).toFixed(2));
  }
}

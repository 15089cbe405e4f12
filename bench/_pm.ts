import { gemm, setMatmulThreads } from "../src/transformer/matmul.js";
import { Worker } from "node:worker_threads";
const orig = Worker.prototype.postMessage;
let pmTime = 0, pmCount = 0;
Worker.prototype.postMessage = function (...args: Parameters<typeof orig>) { const t = performance.now(); const r = orig.apply(this, args); pmTime += performance.now() - t; pmCount++; return r; };
const M=512,N=512,K=128;
const a=new Float32Array(M*K).fill(0.1), b=new Float32Array(K*N).fill(0.2), c=new Float32Array(M*N);
const j={a,b,c,batch:1,M,N,K,transA:false,transB:false,strideA:M*K,strideB:0,strideC:M*N};
setMatmulThreads(2);
for (let r = 0; r < 5; r++) { pmTime = 0; pmCount = 0; const t = performance.now(); for (let i = 0; i < 20; i++) gemm(j); console.log("total", ((performance.now() - t) / 20).toFixed(2), "ms/gemm; postMessage", (pmTime / Math.max(1, pmCount)).toFixed(3), "ms x", pmCount); }
setMatmulThreads(1);
{ const t = performance.now(); for (let i = 0; i < 20; i++) gemm(j); console.log("single", ((performance.now() - t) / 20).toFixed(2)); }

import { GPT, GPT_PRESETS } from "../src/transformer/gpt.js";
import { seededRandom } from "../src/transformer/random.js";
const config = { ...GPT_PRESETS.small, vocabSize: 256 };
const model = new GPT(config, 5);
const B = 4, T = 128; const rng = seededRandom(9);
const idx = Int32Array.from({ length: B * T }, () => Math.floor(rng() * 256));
const tgt = Int32Array.from({ length: B * T }, () => Math.floor(rng() * 256));
for (let s = 0; s < 4; s++) { const t0 = performance.now(); model.zeroGrad(); const { loss } = model.forward(idx, B, T, tgt); const t1 = performance.now(); loss!.backward(); console.log("fwd", (t1 - t0).toFixed(0), "bwd", (performance.now() - t1).toFixed(0)); }

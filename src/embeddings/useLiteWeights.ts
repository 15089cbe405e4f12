import { GeneraError } from "../errors.js";
import { readUseWeights, USE_DIMENSION } from "./useLiteAssets.js";

/**
 * USE-lite's weights by role, read from model.json's manifest and shards. The
 * graph (a tensor2tensor "Kona" Transformer) is, per text of n tokens:
 *
 *   x = 2·embedding[ids] + timing(0..n-1)                      (256 wide)
 *   for each of 2 layers:
 *     h = out(attention(qkv(LN(x)))) + (layer 0 ? dense(x) : x) (512 wide)
 *     x = h + ffnOut(relu(ffnIn(LN(h))))
 *   y = tanh(hidden(mean over tokens of x)) / ‖…‖₂
 *
 * with 4 attention heads, scores scaled by 1/√(head width) (the graph's query scales,
 * 0.125 and 0.0884, are exactly that), LN epsilon 1e-6. The
 * embedding is added twice because the graph sums the scattered embeddings with
 * AddTimingSignal's output, which itself holds embedding + signal.
 */
export interface Dense {
  /** K×N, row-major. */
  w: Float32Array;
  bias: Float32Array;
  K: number;
  N: number;
}

export interface LayerNormWeights {
  scale: Float32Array;
  bias: Float32Array;
}

export interface UseLiteLayerWeights {
  /** Width of the layer's input: 256 for layer 0 (the token embeddings), 512 after. */
  width: number;
  attentionNorm: LayerNormWeights;
  qkv: Dense;
  output: Dense;
  /** Layer 0 widens the residual stream from 256 to 512 ("AdjustResidualInput"). */
  residual?: Dense;
  ffnNorm: LayerNormWeights;
  ffnIn: Dense;
  ffnOut: Dense;
}

export interface UseLiteWeights {
  /** 8002 × 256. */
  embedding: Float32Array;
  embeddingWidth: number;
  /** 128 inverse timescales: position p's signal is [sin(p·t), cos(p·t)]. */
  inverseTimescales: Float32Array;
  epsilon: number;
  layers: UseLiteLayerWeights[];
  hidden: Dense;
}

export const USE_HEADS = 4;
/** Width of the residual stream after layer 0 and of the FFNs' outputs. */
export const USE_WIDTH = 512;
const FFN_WIDTH = 1536;

const ENCODE = "module_apply_default/Encoder_en/KonaTransformer/Encode/";
const KERNELS = "module/Encoder_en/KonaTransformer/Encode/";
const STACK = `${ENCODE}TransformerStack/`;

export function readUseLiteWeights(dir: string): UseLiteWeights {
  const weights = readUseWeights(dir);
  const get = (name: string, size?: number): Float32Array => {
    const w = weights.get(name);
    if (!w || (size !== undefined && w.data.length !== size)) {
      throw new GeneraError("INDEX_CORRUPT", `USE-lite model in ${dir} lacks weight ${name} of the expected size`);
    }
    return w.data;
  };
  const dense = (kernel: string, bias: string, K: number, N: number): Dense => ({
    w: get(kernel, K * N),
    bias: get(bias, N),
    K,
    N,
  });
  const norm = (prefix: string, width: number): LayerNormWeights => ({
    scale: get(`${prefix}layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`, width),
    bias: get(`${prefix}layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`, width),
  });
  const embeddingWidth = 256;
  const layers = [0, 1].map((i): UseLiteLayerWeights => {
    const width = i === 0 ? embeddingWidth : USE_WIDTH;
    const own = `${ENCODE}Layer_${i}/TransformerLayer/`;
    const attention = `${KERNELS}Layer_${i}/TransformerLayer/MultiheadAttention/`;
    const ffn = `${STACK}Layer_${i}/TransformerLayer/FFN/`;
    const bias = (path: string) => `${own}${path}/bias/ConcatPartitions/concat`;
    return {
      width,
      attentionNorm: norm(own, width),
      qkv: dense(
        `${attention}qkv_transform_single/kernel/part_0`,
        bias("MultiheadAttention/qkv_transform_single"),
        width,
        3 * width,
      ),
      output: dense(
        `${attention}output_transform_single/kernel/part_0`,
        bias("MultiheadAttention/output_transform_single"),
        width,
        USE_WIDTH,
      ),
      residual:
        width === USE_WIDTH
          ? undefined
          : dense(`${own}dense/kernel/ConcatPartitions/concat`, bias("dense"), width, USE_WIDTH),
      ffnNorm: norm(`${own}FFN/`, USE_WIDTH),
      ffnIn: dense(`${ffn}conv1/Tensordot/Reshape_1`, bias("FFN/conv1"), USE_WIDTH, FFN_WIDTH),
      ffnOut: dense(`${ffn}conv2/Tensordot/Reshape_1`, bias("FFN/conv2"), FFN_WIDTH, USE_WIDTH),
    };
  });
  return {
    embedding: get("module/Embeddings_en"),
    embeddingWidth,
    inverseTimescales: get(`${STACK}Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`, embeddingWidth / 2),
    epsilon:
      weights.get(`${STACK}Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`)?.data[0] ?? 1e-6,
    layers,
    hidden: dense(
      "module/Encoder_en/hidden_layers/tanh_layer_0/weights",
      "module/Encoder_en/hidden_layers/tanh_layer_0/bias",
      USE_WIDTH,
      512,
    ),
  };
}

/** Timing signal rows for positions 0..count-1 (count × embeddingWidth), as the graph computes them in float32. */
export function timingSignal(weights: UseLiteWeights, count: number): Float32Array {
  const width = weights.embeddingWidth;
  const half = width / 2;
  const out = new Float32Array(count * width);
  for (let pos = 0; pos < count; pos++) {
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(pos * (weights.inverseTimescales[j] as number));
      out[pos * width + j] = Math.sin(angle);
      out[pos * width + half + j] = Math.cos(angle);
    }
  }
  return out;
}

/** out[row] = tanh(hidden[s]) scaled to unit length (the graph's last two steps). */
export function writeUnitTanh(hidden: Float32Array, s: number, out: Float32Array, row: number): void {
  const o = s * USE_DIMENSION;
  let sum = 0;
  for (let j = 0; j < USE_DIMENSION; j++) {
    const v = Math.tanh(hidden[o + j] as number);
    out[row * USE_DIMENSION + j] = v;
    sum += v * v;
  }
  const scale = 1 / Math.sqrt(Math.max(sum, 1e-12));
  for (let j = 0; j < USE_DIMENSION; j++) {
    out[row * USE_DIMENSION + j] = (out[row * USE_DIMENSION + j] as number) * scale;
  }
}

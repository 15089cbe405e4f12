import { GeneraError } from "../../errors.js";
import { atomicWriteFileSync } from "../../util/atomicWrite.js";
import { readFileOrThrow } from "../../util/readFileOrThrow.js";

/**
 * The safetensors format (https://github.com/huggingface/safetensors), byte for byte:
 *
 *   [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *   [N bytes]  JSON header, UTF-8, right-padded with spaces (0x20) so 8 + N is a multiple of 8
 *              { "<name>": { "dtype": "F32", "shape": [rows, cols], "data_offsets": [begin, end] }, ...,
 *                "__metadata__": { "<key>": "<string value>" } }
 *   [rest]     the tensor bytes, little-endian, row-major; offsets are relative to the start of this
 *              section, tensors are contiguous and in header order, with no gaps.
 *
 * We write F32 only (the engine is Float32 throughout) and read F32, F16, BF16 and F64
 * (converted to Float32), so weights exported elsewhere in half precision still load.
 *
 * Tensor names in genera checkpoints are the engine's Module.namedParameters() names
 * (field names joined by dots). A GPT with nLayers blocks (Linear weights are
 * [out, in], as in PyTorch):
 *   tokEmb.weight [V, d]            posEmb.weight [blockSize, d] (learned positions only)
 *   blocks.{i}.ln1.weight/bias [d]  blocks.{i}.attn.{q,k,v,o}.weight [d, d], .bias [d]
 *   blocks.{i}.ln2.weight/bias [d]  blocks.{i}.mlp.fc1.weight [dFF, d], .bias [dFF]
 *   blocks.{i}.mlp.fc2.weight [d, dFF], .bias [d]
 *   lnF.weight/bias [d]             head.weight [V, d] (only when tieWeights is false)
 * An EncoderDecoder uses srcEmb / tgtEmb / srcPos / tgtPos, encoder.{i}.{selfAttn,ln1,ffn,ln2}.*,
 * decoder.{i}.{selfAttn,crossAttn,ln1,ln2,ln3,ffn}.* and head.weight; a shared tensor
 * (tied embeddings) is stored once, under its first name. Optimizer state files use
 * "exp_avg.<param name>" / "exp_avg_sq.<param name>" (AdamW) or "momentum.<param name>" (SGD).
 */

export type SafetensorsDType = "F32" | "F16" | "BF16" | "F64";

export interface NamedTensorData {
  data: Float32Array;
  shape: number[];
}

export interface SafetensorsFile {
  tensors: Map<string, NamedTensorData>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
/** Larger headers mean a corrupt or hostile file; the reference implementation uses the same cap. */
const MAX_HEADER = 100_000_000;

/** Serialise tensors (in the order given) and string metadata to safetensors bytes. */
export function encodeSafetensors(
  tensors: Iterable<[string, NamedTensorData]> | Map<string, NamedTensorData>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = [...tensors];
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") throw new GeneraError("INVALID_INPUT", `safetensors metadata "${k}" must be a string`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === "__metadata__" || name in header) {
      throw new GeneraError("INVALID_INPUT", `tensor name "${name}" is reserved or duplicated`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new GeneraError(
        "INVALID_INPUT",
        `tensor "${name}" has shape [${t.shape}] (${count} values) but ${t.data.length} values`,
      );
    }
    header[name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  let json = JSON.stringify(header);
  const raw = new TextEncoder().encode(json);
  const pad = (8 - ((8 + raw.length) % 8)) % 8;
  json += " ".repeat(pad);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of entries) {
    // Float32Array is host-endian; write explicitly little-endian so files are portable.
    if (LITTLE_ENDIAN) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(at + i * 4, t.data[i], true);
    at += t.data.byteLength;
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Parse safetensors bytes; `source` names the file in error messages. */
export function decodeSafetensors(bytes: Uint8Array, source = "safetensors data"): SafetensorsFile {
  const corrupt = (why: string) => new GeneraError("INDEX_CORRUPT", `${source}: ${why}`, { details: { source } });
  if (bytes.length < 8) throw corrupt(`file is ${bytes.length} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) {
    throw corrupt(
      `header length ${n} exceeds the file size (${bytes.length} bytes); the file is truncated or not safetensors`,
    );
  }
  const headerLen = Number(n);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (error) {
    throw corrupt(`header is not valid JSON (${(error as Error).message})`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) throw corrupt("header is not a JSON object");
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, NamedTensorData>();
  const spans: Array<[number, number, string]> = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (info && typeof info === "object") {
        for (const [k, v] of Object.entries(info)) metadata[k] = String(v);
      }
      continue;
    }
    const { dtype, shape, data_offsets } = (info ?? {}) as { dtype?: string; shape?: unknown; data_offsets?: unknown };
    if (!dtype || !(dtype in BYTES)) throw corrupt(`tensor "${name}" has unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw corrupt(`tensor "${name}" has an invalid shape`);
    }
    if (
      !Array.isArray(data_offsets) ||
      data_offsets.length !== 2 ||
      !data_offsets.every((d) => Number.isInteger(d) && d >= 0)
    ) {
      throw corrupt(`tensor "${name}" has invalid data_offsets`);
    }
    const [begin, end] = data_offsets as [number, number];
    const width = BYTES[dtype as SafetensorsDType];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLen) {
      throw corrupt(
        `tensor "${name}" data [${begin}, ${end}) lies outside the ${dataLen} data bytes (truncated file?)`,
      );
    }
    if (end - begin !== count * width) {
      throw corrupt(`tensor "${name}" needs ${count * width} bytes for shape [${shape}] but has ${end - begin}`);
    }
    spans.push([begin, end, name]);
    const data = new Float32Array(count);
    const at = dataStart + begin;
    for (let i = 0; i < count; i++) {
      const p = at + i * width;
      switch (dtype) {
        case "F32":
          data[i] = view.getFloat32(p, true);
          break;
        case "F64":
          data[i] = view.getFloat64(p, true);
          break;
        case "F16":
          data[i] = f16ToF32(view.getUint16(p, true));
          break;
        case "BF16":
          data[i] = new Float32Array(new Uint32Array([view.getUint16(p, true) << 16]).buffer)[0];
          break;
      }
    }
    tensors.set(name, { data, shape: shape as number[] });
  }
  // The spec requires the buffer to be fully covered without overlaps; a gap means a damaged file.
  spans.sort((a, b) => a[0] - b[0]);
  let expected = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== expected) throw corrupt(`tensor "${name}" starts at ${begin}, expected ${expected} (overlap or gap)`);
    expected = end;
  }
  if (expected !== dataLen) throw corrupt(`${dataLen - expected} trailing bytes after the last tensor`);
  return { tensors, metadata };
}

export function saveSafetensors(
  path: string,
  tensors: Iterable<[string, NamedTensorData]> | Map<string, NamedTensorData>,
  metadata: Record<string, string> = {},
): void {
  atomicWriteFileSync(path, encodeSafetensors(tensors, metadata));
}

export function loadSafetensors(path: string): SafetensorsFile {
  return decodeSafetensors(readFileOrThrow(path, "weights file"), path);
}

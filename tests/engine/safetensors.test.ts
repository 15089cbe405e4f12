import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  saveSafetensors,
} from "../../src/engine/checkpoints/safetensors.js";

const dir = mkdtempSync(join(tmpdir(), "genera-st-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("safetensors", () => {
  const a = { data: Float32Array.from([1, -2.5, 3.25, 4, 5, 6]), shape: [2, 3] };
  const b = { data: Float32Array.from([0.1]), shape: [1] };

  it("writes the byte layout of the spec (hand-parsed)", () => {
    const bytes = encodeSafetensors(
      [
        ["tok_emb.weight", a],
        ["ln_f.bias", b],
      ],
      { format: "pt", step: "7" },
    );
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = Number(view.getBigUint64(0, true));
    // Header padded with spaces so the data section starts 8-byte aligned.
    expect((8 + n) % 8).toBe(0);
    const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(headerText.trimEnd().length).toBeLessThanOrEqual(n);
    expect(/^ *$/.test(headerText.slice(headerText.trimEnd().length))).toBe(true);
    const header = JSON.parse(headerText);
    expect(header.__metadata__).toEqual({ format: "pt", step: "7" });
    expect(header["tok_emb.weight"]).toEqual({ dtype: "F32", shape: [2, 3], data_offsets: [0, 24] });
    expect(header["ln_f.bias"]).toEqual({ dtype: "F32", shape: [1], data_offsets: [24, 28] });
    expect(bytes.length).toBe(8 + n + 28);
    // Little-endian float32 values, row-major.
    const at = 8 + n;
    expect(view.getFloat32(at + 4, true)).toBe(-2.5);
    expect(view.getFloat32(at + 8, true)).toBe(3.25);
    expect(view.getFloat32(at + 24, true)).toBeCloseTo(0.1, 7);
  });

  it("round-trips through a file", () => {
    const path = join(dir, "m.safetensors");
    saveSafetensors(
      path,
      new Map([
        ["x", a],
        ["y", b],
      ]),
      { k: "v" },
    );
    const f = loadSafetensors(path);
    expect(f.metadata).toEqual({ k: "v" });
    expect([...f.tensors.keys()]).toEqual(["x", "y"]);
    expect(Array.from(f.tensors.get("x")!.data)).toEqual(Array.from(a.data));
    expect(f.tensors.get("x")!.shape).toEqual([2, 3]);
  });

  it("reads a file written by hand with F16 and BF16 tensors", () => {
    const header = JSON.stringify({
      h: { dtype: "F16", shape: [2], data_offsets: [0, 4] },
      bf: { dtype: "BF16", shape: [1], data_offsets: [4, 6] },
    });
    const hb = new TextEncoder().encode(header);
    const buf = new Uint8Array(8 + hb.length + 6);
    const v = new DataView(buf.buffer);
    v.setBigUint64(0, BigInt(hb.length), true);
    buf.set(hb, 8);
    v.setUint16(8 + hb.length, 0x3c00, true); // 1.0
    v.setUint16(8 + hb.length + 2, 0xc000, true); // -2.0
    v.setUint16(8 + hb.length + 4, 0x4049, true); // bf16 ≈ 3.140625
    const f = decodeSafetensors(buf);
    expect(Array.from(f.tensors.get("h")!.data)).toEqual([1, -2]);
    expect(f.tensors.get("bf")!.data[0]).toBeCloseTo(3.140625, 6);
  });

  it("rejects truncated and damaged files with INDEX_CORRUPT naming the file", () => {
    const path = join(dir, "bad.safetensors");
    const good = encodeSafetensors([["x", a]]);
    writeFileSync(path, good.subarray(0, good.length - 3));
    expect(() => loadSafetensors(path)).toThrow(/bad\.safetensors.*outside/);
    writeFileSync(path, good.subarray(0, 5));
    expect(() => loadSafetensors(path)).toThrow(/too short/);
    const garbled = Uint8Array.from(good);
    garbled[9] = 0x7b; // break the JSON
    garbled[10] = 0x7b;
    writeFileSync(path, garbled);
    try {
      loadSafetensors(path);
      expect.unreachable();
    } catch (e) {
      expect((e as { code: string }).code).toBe("INDEX_CORRUPT");
    }
    expect(() => loadSafetensors(join(dir, "nope.safetensors"))).toThrow(/does not exist/);
    expect(() => encodeSafetensors([["x", { data: new Float32Array(5), shape: [2, 3] }]])).toThrow(/shape/);
    // The file on disk is untouched by a failed write.
    saveSafetensors(path, [["x", a]]);
    expect(() => saveSafetensors(path, [["x", { data: new Float32Array(5), shape: [2, 3] }]])).toThrow();
    expect(readFileSync(path)).toEqual(Buffer.from(encodeSafetensors([["x", a]])));
  });
});

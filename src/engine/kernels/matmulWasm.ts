/**
 * A WebAssembly SIMD GEMM micro-kernel, assembled here byte by byte (no
 * compiler, no dependency). JavaScript has no SIMD and V8 does not vectorise
 * Float32Array loops, so the same loop in wasm with 128-bit lanes is several
 * times faster than the best scalar JS kernel.
 *
 * The kernel does one thing, on operands the caller has copied into a shared
 * memory: C += A·B, with B packed in panels of 4·VECS columns (see
 * buildGemmModule). Each step of the k loop loads the VECS 4-lane vectors of
 * one panel row — consecutive bytes, so the whole panel streams from L1 —
 * broadcasts each of ROWS A values straight from memory (v128.load32_splat)
 * and multiply-adds them into a ROWS×4·VECS tile of C held in ROWS·VECS v128
 * accumulators. 4×8 uses 11 of the 16 SIMD registers, so nothing spills (6×8,
 * 4×12 and 3×16 measured slower; unrolling k measured slower too). The panel
 * loop is outside the row loop, so one panel (K·32 bytes: 16 KiB at K = 512)
 * serves every row strip of the caller's row block while it sits in L1.
 *
 * Multiply-add is fused (f32x4.relaxed_madd, one instruction, one rounding)
 * when the runtime has relaxed SIMD, ~1.25× the separate mul + add.
 */

// Opcodes (WebAssembly core spec §5.4 and the SIMD proposal).
const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f32Load: 0x2a,
  i32Const: 0x41,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Mul: 0x6c,
  i32Shl: 0x74,
  simd: 0xfd,
} as const;
const SIMD = {
  v128Load: 0x00,
  v128Load32Splat: 0x09,
  v128Store: 0x0b,
  v128Const: 0x0c,
  f32x4Splat: 0x13,
  f32x4Add: 0xe4,
  f32x4Mul: 0xe6,
  f32x4RelaxedMadd: 0x105, // relaxed SIMD: a·b + c, fused where the CPU has FMA
} as const;
const MAGIC_AND_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1
const I32 = 0x7f;
const V128 = 0x7b;
const EMPTY = 0x40;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** Function body builder: thin helpers so the kernel below reads like its pseudo-code. */
class Code {
  bytes: number[] = [];
  get(i: number) {
    this.bytes.push(OP.localGet, ...uleb(i));
    return this;
  }
  set(i: number) {
    this.bytes.push(OP.localSet, ...uleb(i));
    return this;
  }
  tee(i: number) {
    this.bytes.push(OP.localTee, ...uleb(i));
    return this;
  }
  i32(n: number) {
    this.bytes.push(OP.i32Const, ...sleb(n));
    return this;
  }
  op(...b: number[]) {
    this.bytes.push(...b);
    return this;
  }
  simd(op: number) {
    this.bytes.push(OP.simd, ...uleb(op));
    return this;
  }
  /** v128.load/store with a constant byte offset (align hint 2^4 is only a hint; unaligned is legal). */
  vload(offset: number) {
    this.simd(SIMD.v128Load).bytes.push(4, ...uleb(offset));
    return this;
  }
  vstore(offset: number) {
    this.simd(SIMD.v128Store).bytes.push(4, ...uleb(offset));
    return this;
  }
  f32load(offset: number) {
    this.bytes.push(OP.f32Load, 2, ...uleb(offset));
    return this;
  }
  /** A do-while loop: `body` ends with its own br_if 0 back to the top. */
  loop(body: () => void) {
    this.bytes.push(OP.loop, EMPTY);
    body();
    this.bytes.push(OP.end);
    return this;
  }
  zero() {
    this.simd(SIMD.v128Const).bytes.push(...new Array(16).fill(0));
    return this;
  }
}

/**
 * Builds the module: imports env.memory (shared), exports
 *
 *   gemm(a, b, c, K, N, i0, i1, rowStrideA, kStrideA)      C += A·B
 *   gemmSet(…the same…)                                    C  = A·B
 *
 * computing rows [i0, i1) (multiples of ROWS), where A[i, k] is
 * the float at byte a + i·rowStrideA + k·kStrideA — so A may be row-major
 * (K·4, 4) or stored transposed (4, M·4), which serves Aᵀ·B in backward
 * without a copy. C (rows × N) is row-major, N a multiple of PANEL. B (K×N)
 * is packed: panel q holds columns [q·PANEL, q·PANEL + PANEL) as K rows of
 * PANEL floats, and panels follow each other (see packPanels in matmul.ts).
 * `fma` selects f32x4.relaxed_madd, which only validates where the runtime
 * has relaxed SIMD.
 */
export const ROWS = 4;
export const VECS = 2;
/** Columns of B per packed panel. */
export const PANEL = 4 * VECS;
export function buildGemmModule(fma: boolean, R = ROWS, W = VECS): Uint8Array {
  const bodies = [gemmBody(fma, R, W, true), gemmBody(fma, R, W, false)].map((body) => [...uleb(body.length), ...body]);
  const bytes = [
    ...MAGIC_AND_VERSION,
    ...section(1, vec([[0x60, ...vec(new Array(9).fill([I32])), 0x00]])),
    // import "env" "memory": shared memory (flags 3 = has max + shared), min 1 page, max 65536 pages (4 GiB)
    ...section(2, vec([[...name("env"), ...name("memory"), 0x02, 0x03, ...uleb(1), ...uleb(65536)]])),
    ...section(3, vec([[0x00], [0x00]])),
    ...section(
      7,
      vec([
        [...name("gemm"), 0x00, 0x00],
        [...name("gemmSet"), 0x00, 0x01],
      ]),
    ),
    ...section(10, vec(bodies)),
  ];
  return Uint8Array.from(bytes);
}

/** One kernel's body (locals, code): `accumulate` adds the tile into C, otherwise it overwrites C. */
// biome-ignore format: one chained instruction sequence per line mirrors the pseudo-code
function gemmBody(fma: boolean, R: number, W: number, accumulate: boolean): number[] {
  const [a, b, c, K, N, i0, i1, rsA, ksA] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [i, j, k, pa, pb, pc, N4, panelB, panelBytes] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const rsMul = 18; // rsMul + r - 1 = r·rowStrideA for r = 1 … R−1
  const nI32 = rsMul + R - 1 - 9;
  const acc0 = rsMul + R - 1; // R·W accumulators: acc0 + W·r + h
  const bv0 = acc0 + R * W; // W vectors of one panel row
  const x = bv0 + W;
  const f = new Code();

  f.get(N).i32(2).op(OP.i32Shl).set(N4); // row stride of C in bytes
  f.get(K).i32(16 * W).op(OP.i32Mul).set(panelBytes);
  for (let r = 1; r < R; r++) f.get(rsA).i32(r).op(OP.i32Mul).set(rsMul + r - 1);
  f.get(b).set(panelB);
  f.i32(0).set(j);
  f.loop(() => {
    // for j in [0, N) step 4·W, panelB = the panel of columns j …
    f.get(i0).set(i);
    f.loop(() => {
      // for i in [i0, i1) step R
      for (let r = 0; r < R * W; r++) f.zero().set(acc0 + r);
      f.get(a).get(i).get(rsA).op(OP.i32Mul, OP.i32Add).set(pa);
      f.get(panelB).set(pb);
      f.get(K).set(k);
      f.loop(() => {
        // for k = K … 1: acc[r][h] += A[i + r, k] · B[k, j + 4h : j + 4h + 4]
        for (let h = 0; h < W; h++) f.get(pb).vload(16 * h).set(bv0 + h);
        for (let r = 0; r < R; r++) {
          f.get(pa);
          if (r > 0) f.get(rsMul + r - 1).op(OP.i32Add);
          f.simd(SIMD.v128Load32Splat).bytes.push(2, 0);
          f.set(x);
          for (let h = 0; h < W; h++) {
            const acc = acc0 + W * r + h;
            if (fma) f.get(x).get(bv0 + h).get(acc).simd(SIMD.f32x4RelaxedMadd).set(acc);
            else f.get(acc).get(x).get(bv0 + h).simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).set(acc);
          }
        }
        f.get(pa).get(ksA).op(OP.i32Add).set(pa);
        f.get(pb).i32(16 * W).op(OP.i32Add).set(pb);
        f.get(k).i32(-1).op(OP.i32Add).tee(k).op(OP.brIf, 0);
      });
      // C[i + r, j : j + 4W] += acc (or = acc)
      f.get(c).get(i).get(N4).op(OP.i32Mul, OP.i32Add).get(j).i32(2).op(OP.i32Shl, OP.i32Add).set(pc);
      for (let r = 0; r < R; r++) {
        for (let h = 0; h < W; h++) {
          f.get(pc);
          if (accumulate) f.get(pc).vload(16 * h).get(acc0 + W * r + h).simd(SIMD.f32x4Add);
          else f.get(acc0 + W * r + h);
          f.vstore(16 * h);
        }
        if (r < R - 1) f.get(pc).get(N4).op(OP.i32Add).set(pc);
      }
      f.get(i).i32(R).op(OP.i32Add).tee(i).get(i1).op(OP.i32LtU, OP.brIf, 0);
    });
    f.get(panelB).get(panelBytes).op(OP.i32Add).set(panelB);
    f.get(j).i32(4 * W).op(OP.i32Add).tee(j).get(N).op(OP.i32LtU, OP.brIf, 0);
  });
  f.op(OP.end);

  const locals = [
    [...uleb(nI32), I32],
    [...uleb(R * W + W + 1), V128],
  ];
  return [...vec(locals), ...f.bytes];
}

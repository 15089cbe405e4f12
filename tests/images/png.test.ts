import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodePng, encodePng, imageGrid, toGray } from "../../src/images/png.js";

describe("PNG", () => {
  it("round-trips 8-bit greyscale images of odd sizes", () => {
    for (const [w, h] of [
      [1, 1],
      [28, 28],
      [37, 5],
    ]) {
      const pixels = Uint8Array.from({ length: w * h }, (_, i) => (i * 37 + 11) % 256);
      const png = encodePng({ width: w, height: h, pixels });
      expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const back = decodePng(png);
      expect([back.width, back.height]).toEqual([w, h]);
      expect(Array.from(back.pixels)).toEqual(Array.from(pixels));
    }
  });

  it("reads rows written with the Sub, Up, Average and Paeth filters", () => {
    // A 3×4 image, one row per filter type 1-4, encoded by hand.
    const original = [
      [10, 20, 30],
      [15, 25, 40],
      [0, 255, 128],
      [7, 9, 200],
    ];
    const raw: number[] = [];
    const at = (y: number, x: number) => (y >= 0 && x >= 0 ? original[y][x] : 0);
    original.forEach((row, y) => {
      const filter = y + 1;
      raw.push(filter);
      row.forEach((v, x) => {
        const a = at(y, x - 1);
        const b = at(y - 1, x);
        const c = at(y - 1, x - 1);
        const p = a + b - c;
        const paeth =
          Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
            ? a
            : Math.abs(p - b) <= Math.abs(p - c)
              ? b
              : c;
        const pred = [0, a, b, (a + b) >> 1, paeth][filter];
        raw.push((v - pred + 256) & 0xff);
      });
    });
    const png = encodePng({ width: 3, height: 4, pixels: new Uint8Array(12) });
    // Swap the IDAT payload for the hand-filtered one (recomputing its CRC through a re-encode is overkill:
    // build the file from the encoder's IHDR plus our own IDAT).
    const idatStart = png.indexOf(Buffer.from("IDAT")) - 4;
    const head = png.subarray(0, idatStart);
    const body = deflateSync(Buffer.from(raw));
    const chunk = Buffer.alloc(12 + body.length);
    chunk.writeUInt32BE(body.length, 0);
    chunk.write("IDAT", 4, "latin1");
    body.copy(chunk, 8);
    const crcOf = (b: Buffer) => {
      let c = 0xffffffff;
      for (const byte of b) {
        c ^= byte;
        for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    chunk.writeUInt32BE(crcOf(chunk.subarray(4, 8 + body.length)), 8 + body.length);
    const iend = png.subarray(png.indexOf(Buffer.from("IEND")) - 4);
    const decoded = decodePng(Buffer.concat([head, chunk, iend]));
    expect(Array.from(decoded.pixels)).toEqual(original.flat());
  });

  it("rejects files that are not PNGs or are damaged", () => {
    expect(() => decodePng(Buffer.from("hello"))).toThrow(/signature/);
    const png = encodePng({ width: 2, height: 2, pixels: Uint8Array.of(1, 2, 3, 4) });
    png[20] ^= 0xff; // inside IHDR: its CRC no longer matches
    expect(() => decodePng(png)).toThrow(/CRC/);
    expect(() => encodePng({ width: 2, height: 2, pixels: new Uint8Array(3) })).toThrow(/needs 4 pixels/);
  });

  it("tiles a grid with borders and clamps float pixels", () => {
    const images = Float32Array.from({ length: 3 * 4 }, (_, i) => (i < 4 ? 1.5 : -1));
    const grid = imageGrid(images, 3, 2, 2, { columns: 2, gap: 1 });
    expect([grid.width, grid.height]).toEqual([7, 7]);
    expect(grid.pixels[1 * 7 + 1]).toBe(255); // first image, clamped to white
    expect(grid.pixels[1 * 7 + 4]).toBe(0); // second image, clamped to black
    expect(grid.pixels[0]).toBe(32); // border
    expect(Array.from(toGray([0, 0.5, 1], 3, 1).pixels)).toEqual([0, 128, 255]);
  });
});

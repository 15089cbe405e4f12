import { deflateSync, inflateSync } from "node:zlib";
import { GeneraError } from "../errors.js";

/**
 * A small PNG writer and reader for 8-bit greyscale images (PNG spec, ISO/IEC 15948):
 * signature, IHDR, one zlib-compressed IDAT, IEND, each chunk with its CRC-32. Samples
 * are written with filter type 0 (none); the reader undoes all five filter types, so it
 * also reads greyscale PNGs written by other tools.
 */

export interface GrayImage {
  width: number;
  height: number;
  /** Row-major pixels, 0 = black … 255 = white. */
  pixels: Uint8Array;
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

export function encodePng(image: GrayImage): Buffer {
  const { width, height, pixels } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new GeneraError("INVALID_INPUT", `PNG size must be positive integers, got ${width}×${height}`);
  }
  if (pixels.length !== width * height) {
    throw new GeneraError(
      "INVALID_INPUT",
      `PNG of ${width}×${height} needs ${width * height} pixels, got ${pixels.length}`,
    );
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // colour type: greyscale
  // compression 0, filter method 0, no interlace
  const raw = Buffer.alloc(height * (width + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([
    SIGNATURE,
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

export function decodePng(bytes: Uint8Array): GrayImage {
  const bad = (why: string) => new GeneraError("UNSUPPORTED_FILE", `not a PNG genera can read: ${why}`);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 8 || !SIGNATURE.every((b, i) => buf[i] === b)) throw bad("missing PNG signature");
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (off + 12 <= buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString("latin1", off + 4, off + 8);
    if (off + 12 + len > buf.length) throw bad(`chunk ${type} is truncated`);
    if (buf.readUInt32BE(off + 8 + len) !== crc32(buf.subarray(off + 4, off + 8 + len))) {
      throw bad(`chunk ${type} fails its CRC`);
    }
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 0 || data[12] !== 0) {
        throw bad("only 8-bit greyscale, non-interlaced images are supported");
      }
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    off += 12 + len;
  }
  if (!width || !height || idat.length === 0) throw bad("IHDR or IDAT is missing");
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length !== height * (width + 1)) throw bad("image data has the wrong length");
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (width + 1)];
    const line = raw.subarray(y * (width + 1) + 1, (y + 1) * (width + 1));
    for (let x = 0; x < width; x++) {
      const a = x > 0 ? pixels[y * width + x - 1] : 0;
      const b = y > 0 ? pixels[(y - 1) * width + x] : 0;
      const c = x > 0 && y > 0 ? pixels[(y - 1) * width + x - 1] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        // Paeth: the neighbour closest to a + b − c.
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw bad(`unknown filter type ${filter}`);
      pixels[y * width + x] = (line[x] + predictor) & 0xff;
    }
  }
  return { width, height, pixels };
}

/** Float pixels in [0, 1] (clamped) → 8-bit. */
export function toGray(values: ArrayLike<number>, width: number, height: number): GrayImage {
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.round(Math.min(1, Math.max(0, values[i])) * 255);
  return { width, height, pixels };
}

/**
 * Tiles `count` images of rows×cols (float, 0..1) into one picture of `columns` per
 * row, with a `gap`-pixel dark border, as sample grids are usually shown.
 */
export function imageGrid(
  images: Float32Array,
  count: number,
  rows: number,
  cols: number,
  options: { columns?: number; gap?: number; scale?: number } = {},
): GrayImage {
  const columns = options.columns ?? Math.ceil(Math.sqrt(count));
  const gap = options.gap ?? 2;
  const scale = options.scale ?? 1;
  const gridRows = Math.ceil(count / columns);
  const cellW = cols * scale + gap;
  const cellH = rows * scale + gap;
  const width = columns * cellW + gap;
  const height = gridRows * cellH + gap;
  const pixels = new Uint8Array(width * height).fill(32);
  for (let i = 0; i < count; i++) {
    const x0 = gap + (i % columns) * cellW;
    const y0 = gap + Math.floor(i / columns) * cellH;
    for (let y = 0; y < rows * scale; y++)
      for (let x = 0; x < cols * scale; x++) {
        const v = images[i * rows * cols + Math.floor(y / scale) * cols + Math.floor(x / scale)];
        pixels[(y0 + y) * width + x0 + x] = Math.round(Math.min(1, Math.max(0, v)) * 255);
      }
  }
  return { width, height, pixels };
}

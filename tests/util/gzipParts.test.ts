import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { gzipParts } from "../../src/util/gzipParts.js";

describe("gzipParts", () => {
  it("compresses text given in parts to what gunzip reads back whole", async () => {
    // ~3 MB in 100,000 small parts (a snapshot's terms), with multi-byte characters on piece boundaries.
    const parts = Array.from({ length: 100_000 }, (_, i) => `["tërm-${i}",{"0":{"${i}":${i % 7}}}],`);
    const data = await gzipParts(parts);
    expect(gunzipSync(data).toString("utf8")).toBe(parts.join(""));
    expect(data.byteLength).toBeLessThan(parts.join("").length / 3);
  });

  it("takes a generator, and nothing at all", async () => {
    function* pieces(): Generator<string> {
      yield '{"a":';
      yield "1}";
    }
    expect(gunzipSync(await gzipParts(pieces())).toString("utf8")).toBe('{"a":1}');
    expect(gunzipSync(await gzipParts([])).toString("utf8")).toBe("");
  });
});

import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Embeddings } from "@langchain/core/embeddings";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CachedEmbeddings } from "../../src/embeddings/CachedEmbeddings.js";

/** Deterministic 16-d vectors from the text's hash; counts what it is asked to embed. */
class CountingEmbeddings extends Embeddings {
  readonly modelId: string;
  embedded: string[] = [];
  queries = 0;
  constructor(
    modelId = "counting-16",
    private readonly broken = false,
  ) {
    super({});
    this.modelId = modelId;
  }
  vector(text: string): number[] {
    const digest = createHash("sha256").update(`${this.modelId}\u0000${text}`).digest();
    return Array.from({ length: 16 }, (_, i) => (digest[i] as number) / 255 - 0.5);
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.embedded.push(...texts);
    if (this.broken) return texts.map(() => [Number.NaN]);
    return texts.map((t) => this.vector(t));
  }
  async embedQuery(text: string): Promise<number[]> {
    this.queries++;
    return this.vector(text);
  }
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "genera-cache-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const f32 = (v: number[]) => Array.from(Float32Array.from(v));

describe("CachedEmbeddings", () => {
  it("embeds only what it has not seen, across instances (persisted on disk)", async () => {
    const dir = join(root, "persist");
    const inner = new CountingEmbeddings();
    const first = new CachedEmbeddings({ embeddings: inner, dir });
    expect(first.modelId).toBe("counting-16");
    const v1 = await first.embedDocuments(["alpha", "beta", "alpha", "gamma"]);
    expect(inner.embedded).toEqual(["alpha", "beta", "gamma"]);
    expect(first.stats).toEqual({ hits: 1, misses: 3 });
    expect(v1[0]).toEqual(v1[2]);
    expect(v1[1]).toEqual(f32(inner.vector("beta")));
    await first.close();

    const inner2 = new CountingEmbeddings();
    const second = new CachedEmbeddings({ embeddings: inner2, dir });
    const v2 = await second.embedDocuments(["gamma", "delta", "alpha", "beta"]);
    expect(inner2.embedded).toEqual(["delta"]);
    expect(second.stats).toEqual({ hits: 3, misses: 1 });
    expect(v2[0]).toEqual(v1[3]);
    expect(v2[2]).toEqual(v1[0]);
    expect(second.size()).toBe(4);
    await second.close();
  });

  it("keeps models apart: the same text under another model id is a miss", async () => {
    const dir = join(root, "models");
    const a = new CachedEmbeddings({ embeddings: new CountingEmbeddings("model-a"), dir });
    const innerB = new CountingEmbeddings("model-b");
    const b = new CachedEmbeddings({ embeddings: innerB, dir });
    const [va] = await a.embedDocuments(["shared text"]);
    const [vb] = await b.embedDocuments(["shared text"]);
    expect(innerB.embedded).toEqual(["shared text"]);
    expect(va).not.toEqual(vb);
    await a.close();
    await b.close();
  });

  it("passes queries through unless cacheQueries or recentQueries is on", async () => {
    const inner = new CountingEmbeddings();
    const plain = new CachedEmbeddings({ embeddings: inner, dir: join(root, "queries"), recentQueries: 0 });
    await plain.embedQuery("what is up");
    await plain.embedQuery("what is up");
    expect(inner.queries).toBe(2);
    expect(plain.stats).toEqual({ hits: 0, misses: 0 });
    const cachedInner = new CountingEmbeddings();
    const cached = new CachedEmbeddings({ embeddings: cachedInner, dir: join(root, "queries"), cacheQueries: true });
    const q1 = await cached.embedQuery("what is up");
    const q2 = await cached.embedQuery("what is up");
    expect(q1).toEqual(q2);
    expect(cachedInner.embedded).toEqual(["what is up"]);
    expect(cached.stats).toEqual({ hits: 1, misses: 1 });
    await plain.close();
    await cached.close();
  });

  it("keeps recent query vectors in memory: repeats and concurrent duplicates cost one call", async () => {
    let failNext = false;
    const inner = new CountingEmbeddings();
    const embedQuery = inner.embedQuery.bind(inner);
    inner.embedQuery = async (text: string) => {
      if (failNext) {
        failNext = false;
        inner.queries++;
        throw new Error("model down");
      }
      return embedQuery(text);
    };
    const cache = new CachedEmbeddings({ embeddings: inner, dir: join(root, "recent"), recentQueries: 2 });
    const [a1, a2] = await Promise.all([cache.embedQuery("a"), cache.embedQuery("a")]);
    expect(inner.queries).toBe(1);
    expect(a1).toEqual(inner.vector("a"));
    a1[0] = 99; // callers get copies
    expect(a2).toEqual(inner.vector("a"));
    expect(await cache.embedQuery("a")).toEqual(inner.vector("a"));
    expect(inner.queries).toBe(1);
    await cache.embedQuery("b");
    await cache.embedQuery("a"); // "a" is now the most recent, so "c" pushes out "b"
    await cache.embedQuery("c");
    expect(inner.queries).toBe(3);
    await cache.embedQuery("a");
    expect(inner.queries).toBe(3);
    await cache.embedQuery("b");
    expect(inner.queries).toBe(4);
    // A failure is not remembered.
    failNext = true;
    await expect(cache.embedQuery("d")).rejects.toThrow("model down");
    expect(await cache.embedQuery("d")).toEqual(inner.vector("d"));
    expect(inner.queries).toBe(6);
    expect(() => new CachedEmbeddings({ embeddings: inner, dir: root, recentQueries: -1 })).toThrow(/recentQueries/);
    await cache.close();
  });

  it("stores each slice as it completes, so an interrupted run keeps its progress", async () => {
    const dir = join(root, "slices");
    class FailingAfterFirst extends CountingEmbeddings {
      override async embedDocuments(texts: string[]): Promise<number[][]> {
        if (this.embedded.length > 0) throw new Error("simulated crash");
        return super.embedDocuments(texts);
      }
    }
    const texts = Array.from({ length: 10 }, (_, i) => `chunk ${i}`);
    const failing = new CachedEmbeddings({ embeddings: new FailingAfterFirst(), dir, writeEvery: 4 });
    await expect(failing.embedDocuments(texts)).rejects.toThrow(/simulated crash/);
    await failing.close();
    const inner = new CountingEmbeddings();
    const resumed = new CachedEmbeddings({ embeddings: inner, dir, writeEvery: 4 });
    await resumed.embedDocuments(texts);
    expect(inner.embedded).toEqual(texts.slice(4));
    await resumed.close();
  });

  it("refuses malformed vectors and stores nothing", async () => {
    const dir = join(root, "broken");
    const cache = new CachedEmbeddings({ embeddings: new CountingEmbeddings("broken", true), dir });
    await expect(cache.embedDocuments(["x"])).rejects.toMatchObject({ code: "INTERNAL" });
    expect(cache.size()).toBe(0);
    await cache.close();
  });

  it("sets a damaged cache file aside (never deleting it) and rebuilds", async () => {
    for (const damage of ["garbage", "truncated"] as const) {
      const dir = join(root, `damaged-${damage}`);
      const healthy = new CachedEmbeddings({ embeddings: new CountingEmbeddings(), dir });
      await healthy.embedDocuments(Array.from({ length: 300 }, (_, i) => `keep me ${i} ${"x".repeat(200)}`));
      await healthy.close();
      const path = join(dir, "embeddings.sqlite");
      rmSync(`${path}-wal`, { force: true });
      rmSync(`${path}-shm`, { force: true });
      const damaged = damage === "garbage" ? Buffer.alloc(8192, 0x5a) : readFileSync(path).subarray(0, 3 * 4096);
      writeFileSync(path, damaged);

      const logged: string[] = [];
      const inner = new CountingEmbeddings();
      const cache = new CachedEmbeddings({ embeddings: inner, dir, log: (line) => logged.push(line) });
      const health = cache.health();
      expect(health.ok).toBe(true);
      expect(health.detail).toMatch(/moved to .*embeddings\.sqlite\.damaged-/);
      expect(logged.join("")).toMatch(/damaged/);
      // The damaged file is kept, byte for byte, beside the new one.
      const aside = readdirSync(dir).filter(
        (name) => name.startsWith("embeddings.sqlite.damaged-") && !/-(wal|shm)$/.test(name),
      );
      expect(aside).toHaveLength(1);
      expect(readFileSync(join(dir, aside[0] as string)).equals(damaged)).toBe(true);
      // The new cache works and fills again.
      const [vector] = await cache.embedDocuments(["keep me 1"]);
      expect(vector).toHaveLength(16);
      await cache.embedDocuments(["keep me 1"]);
      expect(inner.embedded).toEqual(["keep me 1"]);
      expect(cache.size()).toBe(1);
      await cache.close();
    }
  });

  it("handles tens of thousands of entries", async () => {
    const dir = join(root, "bulk");
    const inner = new CountingEmbeddings();
    const cache = new CachedEmbeddings({ embeddings: inner, dir, writeEvery: 5_000 });
    const texts = Array.from({ length: 20_000 }, (_, i) => `document number ${i} with some text`);
    await cache.embedDocuments(texts);
    const again = await cache.embedDocuments(texts);
    expect(again).toHaveLength(20_000);
    expect(cache.stats).toEqual({ hits: 20_000, misses: 20_000 });
    expect(inner.embedded).toHaveLength(20_000);
    await cache.close();
  });

  it("validates its options and input", async () => {
    expect(() => new CachedEmbeddings({ embeddings: undefined as never, dir: root })).toThrow(/embeddings/);
    expect(() => new CachedEmbeddings({ embeddings: new CountingEmbeddings(), dir: "" })).toThrow(/dir/);
    const cache = new CachedEmbeddings({ embeddings: new CountingEmbeddings(), dir: join(root, "validate") });
    await expect(cache.embedDocuments([null as unknown as string])).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await cache.close();
  });
});

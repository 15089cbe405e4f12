import { seededRandom as mulberry32 } from "../../src/engine/random.js";

export { mulberry32 };
/** Seeded clustered unit vectors and exact k-NN, shared by the HNSW store tests. */

export function gaussian(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function normalise(v: number[]): number[] {
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/** `count` unit vectors around `clusters` Gaussian centroids with per-coordinate noise `noise`. */
export function clusteredVectors(count: number, dimension: number, clusters: number, seed: number, noise = 0.35) {
  const random = mulberry32(seed);
  const centroids = Array.from({ length: clusters }, () =>
    normalise(Array.from({ length: dimension }, () => gaussian(random))),
  );
  const sample = () => {
    const c = centroids[Math.floor(random() * clusters)];
    return normalise(c.map((x) => x + (noise / Math.sqrt(dimension)) * gaussian(random) * 3));
  };
  return { vectors: Array.from({ length: count }, sample), sample };
}

/** Indices of the k vectors with the highest dot product with the query (cosine for unit vectors). */
export function exactTopK(vectors: number[][], query: number[], k: number): number[] {
  const scores = vectors.map((v, i) => {
    let s = 0;
    for (let j = 0; j < v.length; j++) s += v[j] * query[j];
    return { i, s };
  });
  scores.sort((a, b) => b.s - a.s);
  return scores.slice(0, k).map((x) => x.i);
}

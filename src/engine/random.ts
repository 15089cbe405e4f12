/**
 * mulberry32: a tiny, fast, well-mixed 32-bit generator. Every random choice in
 * the engine (init, dropout, sampling) takes one of these so runs are repeatable.
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draw by Box–Muller from a uniform generator. */
export function gaussian(rng: () => number): number {
  let u = rng();
  while (u <= 1e-12) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** A source of uniform numbers in [0, 1): what layers take for initialisation and dropout. */
export type Rng = () => number;

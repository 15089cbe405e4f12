/**
 * mulberry32: a tiny, fast, well-mixed 32-bit generator. Every random choice in the
 * engine (init, dropout, batches, sampling, diffusion noise) draws from one of these,
 * and its whole state is one integer, so a checkpoint can save it and a resumed run
 * draws exactly the numbers the uninterrupted run would have.
 */
export class SeededRng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A standard normal draw. */
  gaussian(): number {
    return gaussian(() => this.next());
  }

  get state(): number {
    return this.s;
  }

  set state(value: number) {
    this.s = value >>> 0;
  }
}

/** A source of uniform numbers in [0, 1): what layers take for initialisation and dropout. */
export type Rng = () => number;

/** A SeededRng as a plain function, for code that only needs draws. */
export function seededRandom(seed: number): Rng {
  const rng = new SeededRng(seed);
  return () => rng.next();
}

/** Standard normal draw by Box–Muller from a uniform generator. */
export function gaussian(rng: Rng): number {
  let u = rng();
  while (u <= 1e-12) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

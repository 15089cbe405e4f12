/** A small synthetic corpus with learnable structure (repeated phrases, counting), generated, never downloaded. */
export function syntheticCorpus(chars = 20_000, seed = 3): string {
  const subjects = ["the cat", "a dog", "the model", "my friend", "the teacher"];
  const verbs = ["sees", "likes", "trains", "reads", "finds"];
  const objects = ["the mat.", "a book.", "the data.", "some tokens.", "the garden."];
  let s = seed >>> 0;
  const rnd = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  let out = "";
  let n = 0;
  while (out.length < chars) {
    out += `${pick(subjects)} ${pick(verbs)} ${pick(objects)} ${n % 10} ${(n + 1) % 10}\n`;
    n++;
  }
  return out;
}

export const TINY_CONFIG = {
  blockSize: 16,
  dModel: 32,
  nHeads: 2,
  nLayers: 1,
  dFF: 64,
  dropout: 0,
  positional: "learned" as const,
  tieWeights: true,
};

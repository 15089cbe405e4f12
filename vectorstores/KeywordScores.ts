/**
 * The BM25 scores of one keyword search, read as a map from id to score.
 *
 * Why not a Map: a query's terms match thousands of chunks (2,000 of 10,000 on the latency
 * bench), and putting each into a Map (and then ranking them from it) cost more than scoring
 * them. The hybrid retriever only needs the best `fetchK` and the scores of a hundred or so other
 * candidates, so the scores stay in a typed array indexed by the index's internal document
 * number: `top(k)` ranks the matches without building anything per match, `get(id)` is one
 * look-up, and ids are read only for what is asked for.
 */
export class KeywordScores implements ReadonlyMap<string, number> {
  /**
   * `docs`: the internal numbers of the matching documents; `scores`: their scores, in the same
   * order; `scoreOf`: the same scores by internal number (0 for any other document); `idOf` and
   * `numberOf`: the index's maps between ids and numbers (numbers are never reused for another
   * document, so a document removed after the search is simply left out).
   */
  constructor(
    private readonly docs: Int32Array,
    private readonly scores: Float64Array,
    private readonly scoreOf: Float64Array,
    private readonly idOf: (doc: number) => string | undefined,
    private readonly numberOf: (id: string) => number | undefined,
  ) {}

  get size(): number {
    return this.docs.length;
  }

  get(id: string): number | undefined {
    const doc = this.numberOf(id);
    const score = doc === undefined ? 0 : (this.scoreOf[doc] ?? 0);
    return score > 0 ? score : undefined;
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** The ids of the `k` best scores, best first, equal scores by id (as `topIds` ranks a Map). */
  top(k: number): string[] {
    const { docs, scores } = this;
    const idOf = (i: number) => this.idOf(docs[i] as number) ?? "";
    const better = (a: number, b: number) => scores[a]! > scores[b]! || (scores[a] === scores[b] && idOf(a) < idOf(b));
    // A min-heap of the positions of the best k seen so far; its root is the worst of them.
    const heap: number[] = [];
    let worst = Number.NEGATIVE_INFINITY;
    for (let p = 0; p < (k >= 1 ? scores.length : 0); p++) {
      // Most matches score below the worst of the k kept: one comparison turns them away.
      if (scores[p]! < worst) continue;
      if (heap.length < k) {
        heap.push(p);
        for (let i = heap.length - 1; i > 0; ) {
          const parent = (i - 1) >> 1;
          if (!better(heap[parent]!, heap[i]!)) break;
          [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
          i = parent;
        }
      } else if (better(p, heap[0]!)) {
        heap[0] = p;
        for (let i = 0; ; ) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < heap.length && better(heap[m]!, heap[l]!)) m = l;
          if (r < heap.length && better(heap[m]!, heap[r]!)) m = r;
          if (m === i) break;
          [heap[i], heap[m]] = [heap[m]!, heap[i]!];
          i = m;
        }
      }
      if (heap.length === k) worst = scores[heap[0]!]!;
    }
    const ids: string[] = [];
    for (const p of heap.sort((a, b) => (better(a, b) ? -1 : 1))) {
      const id = this.idOf(docs[p] as number);
      if (id !== undefined) ids.push(id);
    }
    return ids;
  }

  forEach(callback: (value: number, key: string, map: ReadonlyMap<string, number>) => void, thisArg?: unknown): void {
    for (const [id, score] of this.entries()) callback.call(thisArg, score, id, this);
  }

  *entries(): MapIterator<[string, number]> {
    for (const doc of this.docs) {
      const id = this.idOf(doc);
      if (id !== undefined) yield [id, this.scoreOf[doc] as number];
    }
  }

  *keys(): MapIterator<string> {
    for (const [id] of this.entries()) yield id;
  }

  *values(): MapIterator<number> {
    for (const [, score] of this.entries()) yield score;
  }

  [Symbol.iterator](): MapIterator<[string, number]> {
    return this.entries();
  }
}

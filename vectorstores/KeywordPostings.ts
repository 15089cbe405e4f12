/**
 * A KeywordIndex's postings as flat arrays, for scoring. MiniSearch keeps each term's postings
 * as a Map per field (document number → term frequency) and each document's field lengths in
 * another Map; walking those costs 75–250 ns an entry (bench/README "Retrieval latency"), which
 * made BM25 scoring most of a hybrid search beside the query embedding. Here a term's postings
 * are copied out of MiniSearch the first time a search uses the term and then kept in step with
 * the index: documents added later are appended, documents removed are flagged dead and skipped
 * until the next compaction. Reading them costs a few nanoseconds an entry.
 *
 * Nothing here depends on the corpus statistics (document count, average lengths), so a change
 * never invalidates what was copied: BM25 is computed from these numbers at search time.
 */

/** One term's postings in one field: document numbers and term frequencies, in pairs. */
export interface FieldPostings {
  /** [doc₀, tf₀, doc₁, tf₁, …]; entries past `count` are spare capacity. */
  data: Int32Array;
  count: number;
}

/** The parts of MiniSearch 7's instance read here (the package version is pinned). */
export interface MiniSearchPostings {
  _index: { get(term: string): Map<number, Map<number, number>> | undefined };
  _documentIds: Map<number, string>;
  _fieldLength: Map<number, number[]>;
  _nextId: number;
}

function grow<T extends Int32Array | Float64Array | Uint8Array>(
  array: T,
  size: number,
  make: (n: number) => T,
  least = 1024,
): T {
  if (array.length >= size) return array;
  const grown = make(Math.max(size, Math.ceil(array.length * 1.5), least));
  grown.set(array);
  return grown;
}

export class KeywordPostings {
  /** Term → its postings per field id; only terms some search has used. */
  private readonly terms = new Map<string, FieldPostings[]>();
  /** Field lengths by document number: [doc × fields + field]. */
  private lengths = new Float64Array(0);
  /** 1 for a document removed since its postings were copied (skipped until `compact`). */
  private dead = new Uint8Array(0);
  /** Documents flagged dead that the copied postings may still hold. */
  private deadCount = 0;

  constructor(
    private readonly mini: MiniSearchPostings,
    private readonly fields: number,
  ) {
    for (const [doc, lengths] of mini._fieldLength) this.setLengths(doc, lengths);
  }

  /** A term's postings per field id (empty lists for fields without it), copied on first use; undefined if no document has it. */
  get(term: string): FieldPostings[] | undefined {
    const known = this.terms.get(term);
    if (known) return known;
    const fieldData = this.mini._index.get(term);
    if (!fieldData) return undefined;
    const live = this.mini._documentIds;
    const lists: FieldPostings[] = [];
    for (let field = 0; field < this.fields; field++) {
      const freqs = fieldData.get(field);
      if (!freqs || freqs.size === 0) {
        lists.push({ data: new Int32Array(0), count: 0 });
        continue;
      }
      const data = new Int32Array(2 * freqs.size);
      let n = 0;
      for (const [doc, tf] of freqs) {
        // MiniSearch keeps a discarded document's entries until it vacuums.
        if (!live.has(doc)) continue;
        data[n++] = doc;
        data[n++] = tf;
      }
      lists.push({ data, count: n >> 1 });
    }
    this.terms.set(term, lists);
    return lists;
  }

  /** Whether `doc` is a live document (false for one removed since the postings were copied). */
  isLive(doc: number): boolean {
    return this.dead[doc] !== 1;
  }

  /** True when every copied entry belongs to a live document (no `isLive` check needed). */
  get clean(): boolean {
    return this.deadCount === 0;
  }

  /** How many live documents a field list holds: MiniSearch's document frequency without the removed ones. */
  liveCount(list: FieldPostings): number {
    if (this.deadCount === 0) return list.count;
    let n = 0;
    for (let i = 0; i < list.count; i++) if (this.dead[list.data[2 * i] as number] !== 1) n++;
    return n;
  }

  /** Length of `field` in `doc`, as MiniSearch counts it. */
  length(doc: number, field: number): number {
    return this.lengths[doc * this.fields + field] as number;
  }

  /**
   * Records a document MiniSearch has just added as `doc`: its field lengths, and its terms in
   * every copied term's postings. `fieldTerms`: each field's terms, space-separated, by field id.
   */
  added(doc: number, fieldTerms: readonly string[]): void {
    const lengths = this.mini._fieldLength.get(doc);
    if (lengths) this.setLengths(doc, lengths);
    if (this.terms.size === 0) return;
    for (let field = 0; field < this.fields; field++) {
      const text = fieldTerms[field];
      if (!text) continue;
      const counts = new Map<string, number>();
      for (const term of text.split(" ")) if (this.terms.has(term)) counts.set(term, (counts.get(term) ?? 0) + 1);
      for (const [term, tf] of counts) {
        const list = (this.terms.get(term) as FieldPostings[])[field] as FieldPostings;
        list.data = grow(list.data, 2 * list.count + 2, (n) => new Int32Array(n), 8);
        list.data[2 * list.count] = doc;
        list.data[2 * list.count + 1] = tf;
        list.count++;
      }
    }
  }

  /** Records that MiniSearch discarded `doc`. */
  removed(doc: number): void {
    this.dead = grow(this.dead, doc + 1, (n) => new Uint8Array(n));
    if (this.dead[doc] === 1) return;
    this.dead[doc] = 1;
    this.deadCount++;
  }

  /** Drops removed documents' entries (after MiniSearch vacuums, or when many are dead). */
  compact(): void {
    if (this.deadCount === 0) return;
    for (const lists of this.terms.values()) {
      for (const list of lists) {
        let n = 0;
        for (let i = 0; i < list.count; i++) {
          const doc = list.data[2 * i] as number;
          if (this.dead[doc] === 1) continue;
          list.data[2 * n] = doc;
          list.data[2 * n + 1] = list.data[2 * i + 1] as number;
          n++;
        }
        list.count = n;
      }
    }
    this.deadCount = 0;
  }

  private setLengths(doc: number, lengths: readonly number[]): void {
    this.lengths = grow(this.lengths, (doc + 1) * this.fields, (n) => new Float64Array(n));
    for (let field = 0; field < this.fields; field++) this.lengths[doc * this.fields + field] = lengths[field] ?? 0;
  }
}

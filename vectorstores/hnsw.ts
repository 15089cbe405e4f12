import { createHash, randomBytes, randomUUID } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { Callbacks } from "@langchain/core/callbacks/manager";
import { Document } from "@langchain/core/documents";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { type MaxMarginalRelevanceSearchOptions, SaveableVectorStore } from "@langchain/core/vectorstores";
import type hnswlibModule from "hnswlib-node";
import { z } from "zod";
import { embeddingsModelId } from "../src/embeddings/embeddingsModelId.js";
import { GeneraError } from "../src/errors.js";
import { atomicWriteFileSync } from "../src/util/atomicWrite.js";
import { digestFile } from "../src/util/digestFile.js";

type HierarchicalNSW = InstanceType<typeof hnswlibModule.HierarchicalNSW>;

// hnswlib-node (CommonJS, native) loads when an index is first built or read, not when genera is imported.
const require = createRequire(import.meta.url);
const hnswlib = (): typeof hnswlibModule => require("hnswlib-node");

/**
 * Distance space of the index, and how a search result's similarity score (higher is better) is derived
 * from hnswlib's distance `d`:
 * - `cosine`: d = 1 − cos(a, b); score = 1 − d = cosine similarity in [−1, 1]. Vectors are stored unit-normalised.
 * - `ip`: d = 1 − a·b; score = 1 − d = the inner product.
 * - `l2`: d = ‖a − b‖²; score = 1 / (1 + ‖a − b‖) in (0, 1].
 */
export type HNSWSpace = "cosine" | "ip" | "l2";

export interface HNSWVectorStoreOptions {
  /** Distance space (default `cosine`). Saved with the index. */
  space?: HNSWSpace;
  /** Graph out-degree (default 16). Saved with the index. */
  M?: number;
  /** Candidate list size while building (default 200). Saved with the index. */
  efConstruction?: number;
  /** Candidate list size while searching (default 64); raised to k when k is larger. Saved with the index. */
  efSearch?: number;
  /** Vector length; taken from the first vector added when omitted. */
  dimension?: number;
  /** Slots reserved before the first resize (default 1024); capacity then doubles as needed. */
  initialCapacity?: number;
  /** Name of the embedding model; loading an index saved under another model id fails with MODEL_MISMATCH. */
  modelId?: string;
}

/** What `load` accepts: the model/dimension/space the caller expects, and a search-time ef to override the saved one. */
export type HNSWLoadOptions = Pick<HNSWVectorStoreOptions, "modelId" | "dimension" | "space" | "efSearch">;

/** Every key must equal the document's metadata value (arrays and objects compared structurally). */
export type HNSWMetadataFilter = Record<string, unknown>;
/** A metadata filter, or a predicate over the stored document (it must not mutate the document). */
export type HNSWFilter = HNSWMetadataFilter | ((doc: Document) => boolean);

export interface HNSWAddOptions {
  /** One id per document; an id already in the store replaces that entry (upsert). */
  ids?: string[];
  /**
   * One graph label per document, for a caller that keeps its own docstore keyed by label (the
   * knowledge base's SQLite rows): labels must be unused non-negative integers; default: the next free ones.
   */
  labels?: number[];
}

/** A document and the label its vector has in a graph file written by `writeGraph`. */
export interface HNSWLabelledDocument {
  label: number;
  document: Document;
}

export interface HNSWMaxMarginalRelevanceOptions {
  k: number;
  /** Candidates fetched before re-ranking (default max(20, k)). */
  fetchK?: number;
  /** 1 = pure relevance, 0 = pure diversity (default 0.5). */
  lambda?: number;
  filter?: HNSWFilter;
}

export const HNSW_DEFAULTS = {
  space: "cosine" as HNSWSpace,
  M: 16,
  // Insertion cost grows with efConstruction, recall saturates early: on the 100k×384 benchmark,
  // 64 (with efSearch 64) gave recall@10 0.9999 at a fifth of hnswlib's usual 200's cost per add
  // (0.34 vs 1.66 ms); 48 fell to 0.989 and M = 12 to 0.987.
  efConstruction: 64,
  // The search breadth of both stores (hnswlib's ef here, pgvector's hnsw.ef_search in PostgresStore;
  // each widens it to k when k is larger), so the two return the same approximate neighbours as far
  // as their graphs allow. The hybrid retriever asks for fetchK 50, close to 64: on clustered
  // 100k×384 vectors with queries near the data (bench:scale recall), recall@10 was hnswlib 0.93 /
  // pgvector 0.96 at 64 and 0.97 / 0.99 at 100, and at 64 the two stores' eval figures drifted apart
  // (valgrind R@1 0.014). bench:retrieval: the hybrid query costs about the same either way (its keyword
  // side dominates).
  efSearch: 100,
  initialCapacity: 1024,
} as const;

/*
 * On-disk layout of a saved store (one directory):
 *   manifest.json             format/version, model id, dimension, space, M, efConstruction, efSearch, count,
 *                             next label, the label → id map, and name/size/SHA-256 of the two files below
 *   index.<generation>.hnsw   hnswlib's own index file
 *   docstore.<generation>.json  { format, documents: [{ id, pageContent, metadata }] }
 * Each save writes a new generation and swaps manifest.json atomically; files of other generations are garbage.
 */
const MANIFEST_FILE = "manifest.json";
const MANIFEST_FORMAT = "genera-hnsw";
const MANIFEST_VERSION = 1;
const DOCSTORE_FORMAT = "genera-hnsw-docstore";
const MAX_LABEL = 0xffff_ffff; // hnswlib-node converts labels with Uint32Value.
const RANDOM_SEED = 100;
const FLOAT32_MAX = 3.4028234663852886e38;
const GENERATION_FILE = /^(index|docstore)\.([a-z0-9]+)\.(hnsw|json)$/;
const MANIFEST_TEMP_FILE = /^manifest\.json\..+\.tmp$/;

const fileRefSchema = z.object({
  name: z.string().regex(GENERATION_FILE),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

const manifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  version: z.number().int(),
  generation: z.string(),
  savedAt: z.string(),
  modelId: z.string(),
  dimension: z.number().int().positive().nullable(),
  space: z.enum(["cosine", "ip", "l2"]),
  M: z.number().int().positive(),
  efConstruction: z.number().int().positive(),
  efSearch: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  nextLabel: z.number().int().nonnegative().max(MAX_LABEL),
  labels: z.array(z.tuple([z.number().int().nonnegative(), z.string().min(1)])),
  files: z.object({ index: fileRefSchema.nullable(), docstore: fileRefSchema }),
});
type Manifest = z.infer<typeof manifestSchema>;

const docstoreSchema = z.object({
  format: z.literal(DOCSTORE_FORMAT),
  documents: z.array(
    z.object({ id: z.string().min(1), pageContent: z.string(), metadata: z.record(z.string(), z.unknown()) }),
  ),
});

interface PreparedEntry {
  id: string;
  label: number | undefined;
  vector: number[];
  pageContent: string;
  metadata: Record<string, unknown>;
}

/**
 * A LangChain vector store over hnswlib-node with what the community `HNSWLib` wrapper lacks: a search ef that
 * reaches recall@10 ≥ 0.99 by default, real deletes and upserts by id, filters applied inside the graph search,
 * MMR, geometric capacity growth, and crash-safe generational saves checked by SHA-256 on load.
 *
 * Every mutating call validates all of its input before touching the index, so a rejected call changes nothing.
 */
export class HNSWVectorStore extends SaveableVectorStore {
  declare FilterType: HNSWFilter;

  readonly modelId: string;
  readonly space: HNSWSpace;
  readonly M: number;
  readonly efConstruction: number;

  private _efSearch: number;
  private _dimension: number | undefined;
  private readonly initialCapacity: number;
  private index: HierarchicalNSW | undefined;
  private readonly docs = new Map<string, Document>();
  private readonly idToLabel = new Map<string, number>();
  // Indexed by label (labels are dense): one array read per hit instead of two hash lookups, which matters
  // because after a graph walk these lookups miss the CPU cache. Deleted labels hold undefined.
  private labelToDoc: (Document | undefined)[] = [];
  // Labels are never reused: hnswlib's replace-deleted bookkeeping keys on the old label of a recycled slot.
  private nextLabel = 0;

  _vectorstoreType(): string {
    return "genera-hnsw";
  }

  constructor(embeddings: EmbeddingsInterface, options: HNSWVectorStoreOptions = {}) {
    super(embeddings, options);
    if (options === null || typeof options !== "object") {
      throw new GeneraError("INVALID_INPUT", "HNSWVectorStore options must be an object");
    }
    const space = options.space ?? HNSW_DEFAULTS.space;
    if (space !== "cosine" && space !== "ip" && space !== "l2") {
      throw new GeneraError(
        "INVALID_INPUT",
        `HNSWVectorStore space must be "cosine", "ip" or "l2", got ${String(space)}`,
      );
    }
    this.space = space;
    this.M = positiveInteger("M", options.M ?? HNSW_DEFAULTS.M);
    this.efConstruction = positiveInteger("efConstruction", options.efConstruction ?? HNSW_DEFAULTS.efConstruction);
    this._efSearch = positiveInteger("efSearch", options.efSearch ?? HNSW_DEFAULTS.efSearch);
    this.initialCapacity = positiveInteger("initialCapacity", options.initialCapacity ?? HNSW_DEFAULTS.initialCapacity);
    this._dimension = options.dimension === undefined ? undefined : positiveInteger("dimension", options.dimension);
    const modelId = options.modelId ?? embeddingsModelId(embeddings);
    if (typeof modelId !== "string" || modelId.length === 0) {
      throw new GeneraError("INVALID_INPUT", "HNSWVectorStore modelId must be a non-empty string");
    }
    this.modelId = modelId;
  }

  /** Vector length, or undefined until the first vector fixes it. */
  get dimension(): number | undefined {
    return this._dimension;
  }

  get efSearch(): number {
    return this._efSearch;
  }

  set efSearch(value: number) {
    this._efSearch = positiveInteger("efSearch", value);
    this.index?.setEf(this._efSearch);
  }

  /** Number of live documents. */
  get size(): number {
    return this.docs.size;
  }

  has(id: string): boolean {
    return this.docs.has(id);
  }

  ids(): string[] {
    return [...this.docs.keys()];
  }

  getDocument(id: string): Document | undefined {
    const doc = this.docs.get(id);
    return doc === undefined ? undefined : copyDocument(doc);
  }

  /** Parallel to `ids`: undefined where an id is not in the store. */
  getDocuments(ids: string[]): (Document | undefined)[] {
    if (!Array.isArray(ids)) throw new GeneraError("INVALID_INPUT", "getDocuments expects an array of ids");
    return ids.map((id) => this.getDocument(id));
  }

  listDocuments(): Document[] {
    return [...this.docs.values()].map(copyDocument);
  }

  /** The stored vector (unit-normalised in the cosine space, as hnswlib keeps it). */
  getVector(id: string): number[] | undefined {
    const label = this.idToLabel.get(id);
    if (label === undefined || this.index === undefined) return undefined;
    return this.index.getPoint(label);
  }

  async addDocuments(documents: Document[], options?: HNSWAddOptions): Promise<string[]> {
    // Check documents and ids before paying for embeddings; addVectors re-checks everything with the vectors.
    validateDocuments(documents);
    validateIds(options?.ids, documents.length);
    if (documents.length === 0) return [];
    const vectors = await this.embeddings.embedDocuments(documents.map((doc) => doc.pageContent));
    return this.addVectors(vectors, documents, options);
  }

  async addVectors(vectors: number[][], documents: Document[], options?: HNSWAddOptions): Promise<string[]> {
    const entries = this.prepare(vectors, documents, options?.ids, options?.labels);
    this.commit(entries);
    return entries.map((entry) => entry.id);
  }

  /**
   * Removes documents by id. Ids that are not in the store are skipped, as LangChain's other
   * stores do: `index()` with cleanup deletes every id its record manager remembers, including
   * ones that are already gone (removed by hand, or a crash between the store's save and the
   * record's), and a throw there would stop the cleanup half way. A non-string id is a caller
   * bug and fails the whole call (INVALID_INPUT) before anything is removed.
   */
  override async delete(params?: { ids?: string[] }): Promise<void> {
    const ids = params?.ids;
    if (!Array.isArray(ids)) throw new GeneraError("INVALID_INPUT", "delete expects { ids: string[] }");
    const invalid = ids.filter((id) => typeof id !== "string");
    if (invalid.length > 0) {
      throw new GeneraError("INVALID_INPUT", `delete: ids must be strings, got ${preview(invalid)}`);
    }
    for (const id of new Set(ids)) this.forget(id);
  }

  async similaritySearchVectorWithScore(
    query: number[],
    k: number,
    filter?: this["FilterType"],
  ): Promise<[Document, number][]> {
    const hits = this.searchLabels(query, k, filter);
    return hits.labels.map((label, i) => [copyDocument(this.labelToDoc[label]!), this.score(hits.distances[i])]);
  }

  override async maxMarginalRelevanceSearch(
    query: string,
    options: MaxMarginalRelevanceSearchOptions<this["FilterType"]>,
    _callbacks?: Callbacks,
  ): Promise<Document[]> {
    if (typeof query !== "string") throw new GeneraError("INVALID_INPUT", "MMR query must be a string");
    validateMmrOptions(options);
    return this.maxMarginalRelevanceSearchByVector(await this.embeddings.embedQuery(query), options);
  }

  /**
   * Greedy MMR over the fetchK nearest candidates: each pick maximises
   * λ·sim(query, d) − (1 − λ)·max sim(d, picked), with sim the same score the store reports.
   */
  maxMarginalRelevanceSearchByVector(query: number[], options: HNSWMaxMarginalRelevanceOptions): Document[] {
    validateMmrOptions(options);
    const k = options.k;
    const fetchK = Math.max(options.fetchK ?? 20, k);
    const lambda = options.lambda ?? 0.5;
    const hits = this.searchLabels(query, fetchK, options.filter);
    const n = hits.labels.length;
    const index = this.index;
    if (n === 0 || index === undefined) return [];
    const vectors = hits.labels.map((label) => index.getPoint(label));
    const relevance = hits.distances.map((d) => this.score(d));
    const redundancy = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
    const picked: number[] = [];
    const taken = new Uint8Array(n);
    while (picked.length < Math.min(k, n)) {
      let best = -1;
      let bestValue = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < n; i++) {
        if (taken[i]) continue;
        const value = lambda * relevance[i] - (picked.length === 0 ? 0 : (1 - lambda) * redundancy[i]);
        if (value > bestValue) {
          bestValue = value;
          best = i;
        }
      }
      picked.push(best);
      taken[best] = 1;
      for (let i = 0; i < n; i++) {
        if (taken[i]) continue;
        const sim = this.score(spaceDistance(this.space, vectors[best], vectors[i]));
        if (sim > redundancy[i]) redundancy[i] = sim;
      }
    }
    return picked.map((i) => copyDocument(this.labelToDoc[hits.labels[i]]!));
  }

  /**
   * Writes a new generation (index file, docstore, then manifest.json naming both) and removes older generations.
   * The manifest is replaced atomically last, so a crash at any point leaves the previous generation loadable.
   */
  async save(directory: string): Promise<void> {
    if (typeof directory !== "string" || directory.length === 0) {
      throw new GeneraError("INVALID_INPUT", "save expects a directory path");
    }
    // Serialise first: metadata that JSON cannot hold fails before anything is written.
    const documents = [...this.docs.values()].map((doc) => ({
      id: doc.id!,
      pageContent: doc.pageContent,
      metadata: doc.metadata,
    }));
    let docstoreJson: string;
    try {
      docstoreJson = JSON.stringify({ format: DOCSTORE_FORMAT, documents });
    } catch (error) {
      throw new GeneraError("INVALID_INPUT", `save: document metadata is not JSON-serialisable (${errorText(error)})`, {
        cause: error,
      });
    }
    mkdirSync(directory, { recursive: true });
    const generation = `${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
    const written: string[] = [];
    try {
      let indexRef: Manifest["files"]["index"] = null;
      if (this.index !== undefined) {
        const name = `index.${generation}.hnsw`;
        const path = join(directory, name);
        written.push(path);
        this.index.writeIndexSync(path);
        fsyncPath(path);
        indexRef = { name, ...digestFile(path) };
      }
      const docstoreName = `docstore.${generation}.json`;
      const docstorePath = join(directory, docstoreName);
      const docstoreBytes = Buffer.from(docstoreJson, "utf8");
      written.push(docstorePath);
      writeFileSync(docstorePath, docstoreBytes);
      fsyncPath(docstorePath);
      fsyncPath(directory);
      const manifest: Manifest = {
        format: MANIFEST_FORMAT,
        version: MANIFEST_VERSION,
        generation,
        savedAt: new Date().toISOString(),
        modelId: this.modelId,
        dimension: this._dimension ?? null,
        space: this.space,
        M: this.M,
        efConstruction: this.efConstruction,
        efSearch: this._efSearch,
        count: this.docs.size,
        nextLabel: this.nextLabel,
        labels: [...this.idToLabel].map(([id, label]) => [label, id] as [number, string]),
        files: {
          index: indexRef,
          docstore: { name: docstoreName, bytes: docstoreBytes.length, sha256: sha256(docstoreBytes) },
        },
      };
      atomicWriteFileSync(join(directory, MANIFEST_FILE), JSON.stringify(manifest));
      fsyncPath(directory);
    } catch (error) {
      for (const path of written) rmSync(path, { force: true });
      throw error;
    }
    removeStaleGenerations(directory, generation);
  }

  /** Whether `directory` holds a saved store (its manifest); files of a save that never completed do not count. */
  static exists(directory: string): boolean {
    return existsSync(join(directory, MANIFEST_FILE));
  }

  /**
   * Opens a store saved by `save`. The caller's model id (from options or the embeddings) and dimension (from
   * options, or the embeddings' own `dimension`/`dimensions` field) must match the saved ones (MODEL_MISMATCH);
   * damaged files or an unknown format version give INDEX_CORRUPT; no manifest gives NOT_FOUND.
   */
  static override async load(
    directory: string,
    embeddings: EmbeddingsInterface,
    options: HNSWLoadOptions = {},
  ): Promise<HNSWVectorStore> {
    const manifestPath = join(directory, MANIFEST_FILE);
    if (!existsSync(manifestPath)) {
      throw new GeneraError("NOT_FOUND", `No saved HNSW index in ${directory} (${MANIFEST_FILE} is missing)`, {
        details: { path: manifestPath },
      });
    }
    const manifest = readManifest(manifestPath);
    const expectedModel = options.modelId ?? embeddingsModelId(embeddings);
    if (manifest.modelId !== expectedModel) {
      throw new GeneraError(
        "MODEL_MISMATCH",
        `Index in ${directory} was built with embedding model "${manifest.modelId}", not "${expectedModel}"; re-index with the current model`,
        { details: { saved: manifest.modelId, expected: expectedModel } },
      );
    }
    const expectedDimension = options.dimension ?? declaredDimension(embeddings);
    if (expectedDimension !== undefined && manifest.dimension !== null && expectedDimension !== manifest.dimension) {
      throw new GeneraError(
        "MODEL_MISMATCH",
        `Index in ${directory} holds ${manifest.dimension}-d vectors, not ${expectedDimension}-d`,
        { details: { saved: manifest.dimension, expected: expectedDimension } },
      );
    }
    if (options.space !== undefined && options.space !== manifest.space) {
      throw new GeneraError(
        "MODEL_MISMATCH",
        `Index in ${directory} uses the ${manifest.space} space, not ${options.space}`,
        { details: { saved: manifest.space, expected: options.space } },
      );
    }

    const docstoreBytes = readVerified(directory, manifest.files.docstore);
    let docstore: z.infer<typeof docstoreSchema>;
    try {
      docstore = docstoreSchema.parse(JSON.parse(docstoreBytes.toString("utf8")));
    } catch (error) {
      throw corrupt(directory, `docstore ${manifest.files.docstore.name} is malformed`, error);
    }
    checkConsistency(directory, manifest, docstore.documents);

    const store = new HNSWVectorStore(embeddings, {
      space: manifest.space,
      M: manifest.M,
      efConstruction: manifest.efConstruction,
      efSearch: options.efSearch ?? manifest.efSearch,
      dimension: manifest.dimension ?? undefined,
      modelId: manifest.modelId,
    });
    if (manifest.files.index !== null) {
      const ref = manifest.files.index;
      const path = join(directory, ref.name);
      verifyFile(directory, path, ref);
      // The checksum is verified first because hnswlib trusts the file's structure and may crash on a damaged one.
      const index = new (hnswlib().HierarchicalNSW)(manifest.space, manifest.dimension!);
      try {
        index.readIndexSync(path, true);
      } catch (error) {
        throw corrupt(directory, `hnswlib could not read ${ref.name}`, error);
      }
      if (index.getCurrentCount() < manifest.count) {
        throw corrupt(
          directory,
          `${ref.name} holds ${index.getCurrentCount()} points, manifest says ${manifest.count}`,
        );
      }
      index.setEf(store._efSearch);
      store.index = index;
    } else if (manifest.count > 0) {
      throw corrupt(directory, "manifest lists documents but names no index file");
    }
    store.labelToDoc = new Array<Document | undefined>(manifest.nextLabel).fill(undefined);
    for (const doc of docstore.documents) {
      store.docs.set(doc.id, new Document({ id: doc.id, pageContent: doc.pageContent, metadata: doc.metadata }));
    }
    for (const [label, id] of manifest.labels) {
      store.idToLabel.set(id, label);
      store.labelToDoc[label] = store.docs.get(id);
    }
    store.nextLabel = manifest.nextLabel;
    return store;
  }

  static override async fromTexts(
    texts: string[],
    metadatas: object[] | object,
    embeddings: EmbeddingsInterface,
    options?: HNSWVectorStoreOptions & HNSWAddOptions,
  ): Promise<HNSWVectorStore> {
    if (!Array.isArray(texts)) throw new GeneraError("INVALID_INPUT", "fromTexts expects an array of texts");
    if (Array.isArray(metadatas) && metadatas.length !== texts.length) {
      throw new GeneraError(
        "INVALID_INPUT",
        `fromTexts: ${texts.length} texts but ${metadatas.length} metadata objects`,
      );
    }
    const docs = texts.map(
      (text, i) =>
        new Document({
          pageContent: text,
          metadata: { ...((Array.isArray(metadatas) ? metadatas[i] : metadatas) ?? {}) },
        }),
    );
    return HNSWVectorStore.fromDocuments(docs, embeddings, options);
  }

  static override async fromDocuments(
    docs: Document[],
    embeddings: EmbeddingsInterface,
    options?: HNSWVectorStoreOptions & HNSWAddOptions,
  ): Promise<HNSWVectorStore> {
    const { ids, ...storeOptions } = options ?? {};
    const store = new HNSWVectorStore(embeddings, storeOptions);
    await store.addDocuments(docs, { ids });
    return store;
  }

  /** The graph label of a stored id (the knowledge base keys its docstore rows by it). */
  labelOf(id: string): number | undefined {
    return this.idToLabel.get(id);
  }

  /**
   * Writes only hnswlib's graph file (vectors and links, no ids or documents) and fsyncs it: for a caller
   * that keeps documents and the label → id map itself and reopens the graph with `openGraph`.
   */
  writeGraph(path: string): void {
    if (this.index === undefined) throw new GeneraError("INVALID_INPUT", "writeGraph: the store holds no vectors yet");
    this.index.writeIndexSync(path);
    fsyncPath(path);
  }

  /**
   * Reopens a graph file written by `writeGraph` around documents kept elsewhere. Labels in the file
   * with no document are marked deleted (their documents went after the file was written); documents
   * whose label the file lacks come back in `missing`, for the caller to add with `addVectors` and
   * `labels`. The caller checks the file's integrity first: hnswlib trusts the file's structure.
   */
  static openGraph(
    path: string,
    embeddings: EmbeddingsInterface,
    options: HNSWVectorStoreOptions & { dimension: number },
    documents: Iterable<HNSWLabelledDocument>,
  ): { store: HNSWVectorStore; missing: HNSWLabelledDocument[] } {
    const store = new HNSWVectorStore(embeddings, options);
    const index = new (hnswlib().HierarchicalNSW)(store.space, options.dimension);
    try {
      index.readIndexSync(path, true);
    } catch (error) {
      throw corrupt(path, "hnswlib could not read the graph file", error);
    }
    index.setEf(store._efSearch);
    store.index = index;
    store._dimension = options.dimension;
    const inFile = new Set(index.getIdsList());
    const missing: HNSWLabelledDocument[] = [];
    let maxLabel = -1;
    for (const entry of documents) {
      maxLabel = Math.max(maxLabel, entry.label);
      if (!inFile.delete(entry.label)) {
        missing.push(entry);
        continue;
      }
      const doc = entry.document;
      store.docs.set(doc.id as string, doc);
      store.idToLabel.set(doc.id as string, entry.label);
      store.labelToDoc[entry.label] = doc;
    }
    for (const label of inFile) {
      maxLabel = Math.max(maxLabel, label);
      try {
        index.markDelete(label);
      } catch {
        // Already marked deleted when the file was written.
      }
    }
    store.nextLabel = maxLabel + 1;
    return { store, missing };
  }

  /** Validates a whole batch without touching the store; ids default to document.id, then to a random UUID. */
  private prepare(vectors: unknown, documents: unknown, ids: unknown, labels?: unknown): PreparedEntry[] {
    if (!Array.isArray(vectors)) throw new GeneraError("INVALID_INPUT", "addVectors: vectors must be an array");
    validateDocuments(documents);
    if (vectors.length !== documents.length) {
      throw new GeneraError("INVALID_INPUT", `addVectors: ${vectors.length} vectors but ${documents.length} documents`);
    }
    validateIds(ids, documents.length);
    validateLabels(labels, documents.length);
    let dimension = this._dimension;
    const entries: PreparedEntry[] = new Array(vectors.length);
    for (let i = 0; i < vectors.length; i++) {
      const vector = toVector(vectors[i], dimension, `vector ${i}`);
      dimension ??= vector.length;
      const doc = documents[i];
      entries[i] = {
        id: (ids as string[] | undefined)?.[i] ?? (doc.id as string | undefined) ?? randomUUID(),
        label: (labels as number[] | undefined)?.[i],
        vector,
        pageContent: doc.pageContent,
        metadata: { ...(doc.metadata ?? {}) },
      };
    }
    if (this.nextLabel + entries.length > MAX_LABEL) {
      throw new GeneraError("TOO_LARGE", "HNSW label space exhausted; rebuild the index into a new store");
    }
    return entries;
  }

  private commit(entries: PreparedEntry[]): void {
    if (entries.length === 0) return;
    // Within one batch the last entry for an id wins, as if the batch were added one call at a time.
    const last = new Map<string, number>();
    for (let i = 0; i < entries.length; i++) last.set(entries[i].id, i);
    const index = this.ensureIndex(entries[0].vector.length);
    this.reserve(index, last.size);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      if (last.get(entry.id) !== i) continue;
      this.forget(entry.id);
      const label = entry.label ?? this.nextLabel;
      this.nextLabel = Math.max(this.nextLabel, label + 1);
      // replaceDeleted recycles slots freed by deletes and upserts, so churn does not grow the index.
      index.addPoint(entry.vector, label, true);
      const doc = new Document({ id: entry.id, pageContent: entry.pageContent, metadata: entry.metadata });
      this.idToLabel.set(entry.id, label);
      this.labelToDoc[label] = doc;
      this.docs.set(entry.id, doc);
    }
  }

  private forget(id: string): void {
    const label = this.idToLabel.get(id);
    if (label === undefined) return;
    this.index!.markDelete(label);
    this.idToLabel.delete(id);
    this.labelToDoc[label] = undefined;
    this.docs.delete(id);
  }

  private ensureIndex(dimension: number): HierarchicalNSW {
    if (this.index !== undefined) return this.index;
    const index = new (hnswlib().HierarchicalNSW)(this.space, dimension);
    index.initIndex(this.initialCapacity, this.M, this.efConstruction, RANDOM_SEED, true);
    index.setEf(this._efSearch);
    this._dimension = dimension;
    this.index = index;
    return index;
  }

  /** Doubles capacity until `extra` more points fit, so n single adds cost O(log n) resizes, not n. */
  private reserve(index: HierarchicalNSW, extra: number): void {
    const needed = index.getCurrentCount() + extra;
    let capacity = index.getMaxElements();
    if (needed <= capacity) return;
    while (capacity < needed) capacity *= 2;
    index.resizeIndex(capacity);
  }

  private score(distance: number): number {
    return this.space === "l2" ? 1 / (1 + Math.sqrt(Math.max(0, distance))) : 1 - distance;
  }

  /** Nearest live labels (best first) with hnswlib distances, honouring the filter inside the graph walk. */
  private searchLabels(query: unknown, k: unknown, filter: unknown): { labels: number[]; distances: number[] } {
    if (typeof k !== "number" || !Number.isInteger(k) || k < 1) {
      throw new GeneraError("INVALID_INPUT", `search: k must be a positive integer, got ${String(k)}`);
    }
    const predicate = compileFilter(filter);
    const vector = toVector(query, this._dimension, "query vector");
    const index = this.index;
    if (index === undefined || this.docs.size === 0) return { labels: [], distances: [] };
    const wanted = Math.min(k, this.docs.size);
    let failure: { error: unknown } | undefined;
    const labelFilter =
      predicate === undefined
        ? undefined
        : (label: number): boolean => {
            if (failure !== undefined) return false;
            const doc = this.labelToDoc[label];
            if (doc === undefined) return false;
            try {
              return predicate(doc) === true;
            } catch (error) {
              failure = { error };
              return false;
            }
          };
    const result = index.searchKnn(vector, wanted, labelFilter);
    if (failure !== undefined) {
      throw new GeneraError("INVALID_INPUT", `search: the filter function threw (${errorText(failure.error)})`, {
        cause: failure.error,
      });
    }
    if (result.neighbors.length >= wanted) return { labels: result.neighbors, distances: result.distances };
    // The graph walk can come back short when a filter is very selective or deletions cut paths; scan exactly.
    return this.exactSearch(index, vector, wanted, predicate, result);
  }

  private exactSearch(
    index: HierarchicalNSW,
    query: number[],
    k: number,
    predicate: ((doc: Document) => boolean) | undefined,
    approximate: { neighbors: number[]; distances: number[] },
  ): { labels: number[]; distances: number[] } {
    const candidates: number[] = [];
    try {
      for (const [id, doc] of this.docs) {
        if (predicate === undefined || predicate(doc) === true) candidates.push(this.idToLabel.get(id)!);
      }
    } catch (error) {
      throw new GeneraError("INVALID_INPUT", `search: the filter function threw (${errorText(error)})`, {
        cause: error,
      });
    }
    // Everything that matches was already found: the graph walk was complete, just short of k.
    if (candidates.length <= approximate.neighbors.length) {
      return { labels: approximate.neighbors, distances: approximate.distances };
    }
    const q = this.space === "cosine" ? unit(query) : query;
    const scored = candidates.map((label) => ({
      label,
      distance: spaceDistance(this.space, q, index.getPoint(label)),
    }));
    scored.sort((a, b) => a.distance - b.distance);
    const top = scored.slice(0, k);
    return { labels: top.map((s) => s.label), distances: top.map((s) => s.distance) };
  }
}

/** The output size an embeddings object declares about itself, when it does (`dimension` or `dimensions`). */
function declaredDimension(embeddings: EmbeddingsInterface): number | undefined {
  const fields = embeddings as unknown as { dimension?: unknown; dimensions?: unknown };
  for (const value of [fields.dimension, fields.dimensions]) {
    if (typeof value === "number" && Number.isInteger(value) && value > 0) return value;
  }
  return undefined;
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new GeneraError("INVALID_INPUT", `HNSWVectorStore ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** A plain finite number[] of the expected length (hnswlib-node rejects typed arrays). */
function toVector(value: unknown, dimension: number | undefined, what: string): number[] {
  let vector: number[];
  if (Array.isArray(value)) vector = value;
  else if (ArrayBuffer.isView(value) && !(value instanceof DataView)) vector = Array.from(value as Float32Array);
  else throw new GeneraError("INVALID_INPUT", `${what} must be an array of numbers`);
  if (vector.length === 0) throw new GeneraError("INVALID_INPUT", `${what} is empty`);
  if (dimension !== undefined && vector.length !== dimension) {
    throw new GeneraError("INVALID_INPUT", `${what} has ${vector.length} dimensions, the store holds ${dimension}`, {
      details: { expected: dimension, got: vector.length },
    });
  }
  for (let j = 0; j < vector.length; j++) {
    const x = vector[j];
    // hnswlib stores float32: a finite double beyond its range would silently become Infinity there.
    if (typeof x !== "number" || !(Math.abs(x) <= FLOAT32_MAX)) {
      throw new GeneraError(
        "INVALID_INPUT",
        `${what} has a value at position ${j} that is not a finite float32 number: ${String(x)}`,
      );
    }
  }
  return vector;
}

function validateDocuments(documents: unknown): asserts documents is Document[] {
  if (!Array.isArray(documents)) throw new GeneraError("INVALID_INPUT", "documents must be an array");
  for (let i = 0; i < documents.length; i++) {
    const doc = documents[i];
    if (doc === null || typeof doc !== "object") {
      throw new GeneraError("INVALID_INPUT", `document ${i} is not an object`);
    }
    if (typeof doc.pageContent !== "string") {
      throw new GeneraError("INVALID_INPUT", `document ${i} has a non-string pageContent (${typeof doc.pageContent})`);
    }
    const metadata = doc.metadata;
    if (metadata !== undefined && (metadata === null || typeof metadata !== "object" || Array.isArray(metadata))) {
      throw new GeneraError("INVALID_INPUT", `document ${i} metadata must be a plain object`);
    }
    if (doc.id !== undefined && doc.id !== null && (typeof doc.id !== "string" || doc.id.length === 0)) {
      throw new GeneraError("INVALID_INPUT", `document ${i} id must be a non-empty string`);
    }
  }
}

function validateIds(ids: unknown, count: number): void {
  if (ids === undefined) return;
  if (!Array.isArray(ids)) throw new GeneraError("INVALID_INPUT", "ids must be an array of strings");
  if (ids.length !== count) {
    throw new GeneraError("INVALID_INPUT", `${ids.length} ids given for ${count} documents`);
  }
  ids.forEach((id, i) => {
    if (typeof id !== "string" || id.length === 0) {
      throw new GeneraError("INVALID_INPUT", `ids[${i}] must be a non-empty string`);
    }
  });
}

function validateLabels(labels: unknown, count: number): void {
  if (labels === undefined) return;
  if (!Array.isArray(labels) || labels.length !== count) {
    throw new GeneraError("INVALID_INPUT", `labels must be an array of ${count} integers`);
  }
  for (const label of labels) {
    if (typeof label !== "number" || !Number.isInteger(label) || label < 0 || label > MAX_LABEL) {
      throw new GeneraError("INVALID_INPUT", `label ${String(label)} is not an integer in [0, ${MAX_LABEL}]`);
    }
  }
}

function validateMmrOptions(options: unknown): asserts options is HNSWMaxMarginalRelevanceOptions {
  if (options === null || typeof options !== "object") {
    throw new GeneraError("INVALID_INPUT", "MMR options must be an object with k");
  }
  const { k, fetchK, lambda } = options as HNSWMaxMarginalRelevanceOptions;
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1) {
    throw new GeneraError("INVALID_INPUT", `MMR k must be a positive integer, got ${String(k)}`);
  }
  if (fetchK !== undefined && (typeof fetchK !== "number" || !Number.isInteger(fetchK) || fetchK < 1)) {
    throw new GeneraError("INVALID_INPUT", `MMR fetchK must be a positive integer, got ${String(fetchK)}`);
  }
  if (lambda !== undefined && (typeof lambda !== "number" || !(lambda >= 0 && lambda <= 1))) {
    throw new GeneraError("INVALID_INPUT", `MMR lambda must be between 0 and 1, got ${String(lambda)}`);
  }
}

function compileFilter(filter: unknown): ((doc: Document) => boolean) | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter === "function") return (doc) => Boolean(filter(doc));
  if (typeof filter !== "object" || Array.isArray(filter)) {
    throw new GeneraError("INVALID_INPUT", "filter must be a metadata object or a predicate function");
  }
  const expected = Object.entries(filter);
  if (expected.length === 0) return undefined;
  return (doc) => expected.every(([key, value]) => sameValue(doc.metadata?.[key], value));
}

function sameValue(actual: unknown, expected: unknown): boolean {
  if (Object.is(actual, expected)) return true;
  if (actual === null || expected === null || typeof actual !== "object" || typeof expected !== "object") return false;
  return JSON.stringify(actual) === JSON.stringify(expected);
}

function copyDocument(doc: Document): Document {
  return new Document({ id: doc.id, pageContent: doc.pageContent, metadata: { ...doc.metadata } });
}

/** The distance hnswlib would report for two stored (already normalised, in cosine space) vectors. */
function spaceDistance(space: HNSWSpace, a: number[], b: number[]): number {
  let sum = 0;
  if (space === "l2") {
    for (let i = 0; i < a.length; i++) {
      const d = a[i] - b[i];
      sum += d * d;
    }
    return sum;
  }
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return 1 - sum;
}

function unit(v: number[]): number[] {
  let norm = 0;
  for (const x of v) norm += x * x;
  const scale = 1 / (Math.sqrt(norm) + 1e-30);
  return v.map((x) => x * scale);
}

function preview(ids: unknown[]): string {
  const shown = ids.slice(0, 5).map((id) => JSON.stringify(id));
  return ids.length > 5 ? `${shown.join(", ")}, …` : shown.join(", ");
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function corrupt(directory: string, reason: string, cause?: unknown): GeneraError {
  return new GeneraError("INDEX_CORRUPT", `HNSW index in ${directory} is damaged: ${reason}`, {
    cause,
    details: { directory },
  });
}

function readManifest(path: string): Manifest {
  const directory = join(path, "..");
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw corrupt(directory, `${MANIFEST_FILE} is not valid JSON`, error);
  }
  const header = raw as { format?: unknown; version?: unknown } | null;
  if (header === null || typeof header !== "object" || header.format !== MANIFEST_FORMAT) {
    throw corrupt(directory, `${MANIFEST_FILE} is not a ${MANIFEST_FORMAT} manifest`);
  }
  if (header.version !== MANIFEST_VERSION) {
    throw new GeneraError(
      "INDEX_CORRUPT",
      `HNSW index in ${directory} has format version ${String(header.version)}; this build reads version ${MANIFEST_VERSION}`,
      { details: { directory, version: header.version } },
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw corrupt(directory, `${MANIFEST_FILE} is malformed (${parsed.error.issues[0]?.message})`);
  return parsed.data;
}

function verifyFile(directory: string, path: string, ref: { name: string; bytes: number; sha256: string }): void {
  if (!existsSync(path)) throw corrupt(directory, `${ref.name} named by the manifest is missing`);
  const size = statSync(path).size;
  if (size !== ref.bytes) throw corrupt(directory, `${ref.name} has ${size} bytes, expected ${ref.bytes}`);
  if (digestFile(path).sha256 !== ref.sha256) throw corrupt(directory, `${ref.name} fails its SHA-256 check`);
}

function readVerified(directory: string, ref: { name: string; bytes: number; sha256: string }): Buffer {
  const path = join(directory, ref.name);
  if (!existsSync(path)) throw corrupt(directory, `${ref.name} named by the manifest is missing`);
  const bytes = readFileSync(path);
  if (bytes.length !== ref.bytes)
    throw corrupt(directory, `${ref.name} has ${bytes.length} bytes, expected ${ref.bytes}`);
  if (sha256(bytes) !== ref.sha256) throw corrupt(directory, `${ref.name} fails its SHA-256 check`);
  return bytes;
}

function checkConsistency(directory: string, manifest: Manifest, documents: { id: string }[]): void {
  if (manifest.labels.length !== manifest.count || documents.length !== manifest.count) {
    throw corrupt(
      directory,
      `manifest count ${manifest.count}, label map ${manifest.labels.length}, docstore ${documents.length}`,
    );
  }
  const labelled = new Set<string>();
  const labels = new Set<number>();
  for (const [label, id] of manifest.labels) {
    if (label >= manifest.nextLabel || labels.has(label) || labelled.has(id)) {
      throw corrupt(directory, `label map entry ${label} → ${id} is invalid or repeated`);
    }
    labels.add(label);
    labelled.add(id);
  }
  for (const doc of documents) {
    if (!labelled.has(doc.id)) throw corrupt(directory, `document ${doc.id} has no vector label`);
  }
  if (manifest.count > 0 && manifest.dimension === null)
    throw corrupt(directory, "manifest has documents but no dimension");
}

/** Best effort: files of other generations and temp files are garbage once the new manifest is in place. */
function removeStaleGenerations(directory: string, keep: string): void {
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return;
  }
  for (const name of names) {
    const match = GENERATION_FILE.exec(name);
    if ((match !== null && match[2] !== keep) || MANIFEST_TEMP_FILE.test(name)) {
      rmSync(join(directory, name), { force: true });
    }
  }
}

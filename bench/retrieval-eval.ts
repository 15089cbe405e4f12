/**
 * Retrieval quality of the hybrid retriever's settings on every QA set shipped in
 * examples/eval, with the offline USE-lite encoder:
 *   - examples/eval/knowledge-qa.jsonl over examples/knowledge/
 *   - examples/eval/<name>/qa.jsonl over examples/eval/<name>/corpus/
 *
 * Run: node --import ./scripts/ts.mjs bench/retrieval-eval.ts            (first run embeds the corpora, later runs reuse them)
 *      node --import ./scripts/ts.mjs bench/retrieval-eval.ts --defaults  (baselines and the shipped defaults only, no grid)
 *      node --import ./scripts/ts.mjs bench/retrieval-eval.ts --finalists (baselines, the finalists table and the defaults)
 *      node --import ./scripts/ts.mjs bench/retrieval-eval.ts --compare   (defaults vs BM25 per chunk vs BM25 per whole file only)
 *      … --answers [--lexical-answers]             (also the answer table of the default chain; see answerTable)
 *      GENERA_BENCH_RETRIEVER='{"documentWeight":0.5}'  to try other retriever settings as "defaults"
 *      GENERA_BENCH_CACHE=/some/dir  to move the cache (default: <os tmp>/genera-retrieval-eval)
 *      GENERA_BENCH_HEADERS=off      to index without contextual chunk headers (title and headings)
 *
 * Prints, per set and averaged over sets, recall@1, recall@5 and MRR (over the top 10)
 * for keyword-only BM25, dense-only, hybrid RRF and a grid of hybrid convex settings
 * (keyword weight × normalisation × title boost × aggregation), then a sweep of the
 * secondary knobs around the best grid point. The retriever's defaults
 * (HYBRID_DEFAULTS in vectorstores/HybridRetriever.ts) are the grid point with the best
 * AVERAGE over all sets of (recall@1 + recall@5 + MRR) / 3 among those that are at least
 * as good as keyword-only on every metric of every set — a setting tuned on one corpus
 * alone overfits it. Ratios are against keyword-only BM25 in the same run.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Document } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";
import { createRagChain } from "../chains/createRagChain.js";
import { UniversalSentenceEncoderEmbeddings } from "../src/embeddings/UniversalSentenceEncoderEmbeddings.js";
import { evaluateAnswers } from "../src/eval/evaluateAnswers.js";
import { evaluateRetriever, type RetrievalQA } from "../src/eval/retrievalMetrics.js";
import { KnowledgeBase } from "../src/knowledge/KnowledgeBase.js";
import { ExtractiveAnswerer, type ExtractiveAnswererOptions, NO_ANSWER_TEXT } from "../src/llms/ExtractiveAnswerer.js";
import { atomicWriteFileSync } from "../src/util/atomicWrite.js";
import { HYBRID_DEFAULTS, HybridRetriever, type HybridRetrieverOptions } from "../vectorstores/HybridRetriever.js";
import { KeywordIndex, type KeywordIndexOptions } from "../vectorstores/KeywordIndex.js";
import { WholeDocumentIndex } from "../vectorstores/WholeDocumentIndex.js";

const ROOT = resolve(import.meta.dirname, "..");
const CACHE = process.env.GENERA_BENCH_CACHE ?? join(tmpdir(), "genera-retrieval-eval");

interface EvalSet {
  name: string;
  corpus: string;
  qa: RetrievalQA[];
}

function readJsonl(path: string): RetrievalQA[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as RetrievalQA);
}

/** Sets whose corpus a build.ts rebuilds from a Debian package: built here when missing. */
async function buildMissingCorpora(evalDir: string): Promise<void> {
  for (const name of existsSync(evalDir) ? readdirSync(evalDir).sort() : []) {
    const build = join(evalDir, name, "build.ts");
    if (existsSync(join(evalDir, name, "corpus")) || !existsSync(build)) continue;
    const module = (await import(build)) as { buildCorpus?: () => unknown };
    if (!module.buildCorpus) continue;
    try {
      module.buildCorpus();
      console.error(`${name}: corpus rebuilt by ${build}`);
    } catch (error) {
      console.error(`${name}: skipped (${(error as Error).message})`);
    }
  }
}

function discoverSets(): EvalSet[] {
  const evalDir = join(ROOT, "examples", "eval");
  const sets: EvalSet[] = [];
  const knowledgeQa = join(evalDir, "knowledge-qa.jsonl");
  if (existsSync(knowledgeQa)) {
    sets.push({ name: "knowledge", corpus: join(ROOT, "examples", "knowledge"), qa: readJsonl(knowledgeQa) });
  }
  for (const name of existsSync(evalDir) ? readdirSync(evalDir).sort() : []) {
    const dir = join(evalDir, name);
    if (!statSync(dir).isDirectory()) continue;
    const qa = join(dir, "qa.jsonl");
    const corpus = join(dir, "corpus");
    if (existsSync(qa) && existsSync(corpus)) sets.push({ name, corpus, qa: readJsonl(qa) });
  }
  return sets;
}

/**
 * Answer quality of the default chain (hybrid retriever, k = 5, extractive answerer) on every
 * set: contains-gold, right document cited first, decline precision/recall, answerable
 * questions declined. `--lexical-answers` leaves the answerer's sentence embeddings out (fast,
 * for exploring); GENERA_BENCH_ANSWERER='{"minCoverage":0.5}' overrides answerer options.
 */
async function answerTable(
  sets: EvalSet[],
  kbs: Map<string, KnowledgeBase>,
  embeddings: MemoQueryEmbeddings,
  retrieverOptions: Config,
): Promise<void> {
  const lexical = process.argv.includes("--lexical-answers");
  const options = JSON.parse(process.env.GENERA_BENCH_ANSWERER ?? "{}") as ExtractiveAnswererOptions;
  console.log(
    `\n### Answers: default chain, extractive answerer${lexical ? " without sentence embeddings" : " with USE-lite"}${
      Object.keys(options).length ? ` ${JSON.stringify(options)}` : ""
    }\n`,
  );
  console.log(
    "| set | questions | unanswerable | contains gold | right doc cited first | decline precision | decline recall | answerable declined |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  const rows: number[][] = [];
  const misses: string[] = [];
  for (const set of sets) {
    const { keyword: _k, ...retrieverConfig } = retrieverOptions;
    const retriever = kbs.get(set.name)!.asRetriever({ ...retrieverConfig, k: 5 });
    const llm = new ExtractiveAnswerer({ ...options, embeddings: lexical ? undefined : embeddings });
    const chain = createRagChain({ retriever, llm });
    const r = await evaluateAnswers(chain, set.qa, { noAnswerText: NO_ANSWER_TEXT, concurrency: 4 });
    embeddings.save();
    const row = [r.containsAnswer, r.citedFirst, r.declinePrecision, r.declineRecall, r.falseDeclineRate];
    rows.push(row);
    console.log(`| ${set.name} | ${r.questions} | ${r.unanswerable} | ${row.map(f3).join(" | ")} |`);
    for (const d of r.details) {
      const wrong = d.unanswerable ? !d.declined : d.contains === false || d.citedFirst === false;
      if (wrong)
        misses.push(
          `${set.name}\t${d.unanswerable ? "UNANSWERABLE" : JSON.stringify(d.gold)}\t${d.question}\t${d.answer.slice(0, 300)}`,
        );
    }
  }
  const meanRow = rows[0]!.map((_, i) => rows.reduce((a, r) => a + r[i]!, 0) / rows.length);
  console.log(`| average | | | ${meanRow.map(f3).join(" | ")} |`);
  if (process.env.GENERA_BENCH_MISSES) atomicWriteFileSync(process.env.GENERA_BENCH_MISSES, `${misses.join("\n")}\n`);
}

/**
 * Query vectors memoised in memory and on disk: the grid asks every question dozens
 * of times, and USE-lite runs ~20 texts/s, so each question is embedded once ever.
 */
class MemoQueryEmbeddings extends Embeddings {
  readonly modelId: string;
  private readonly memo = new Map<string, number[]>();
  private dirty = false;
  embedded = 0;

  constructor(
    private readonly inner: UniversalSentenceEncoderEmbeddings,
    private readonly file: string,
  ) {
    super({});
    this.modelId = inner.modelId;
    if (existsSync(file)) {
      for (const [k, v] of Object.entries(JSON.parse(readFileSync(file, "utf8")) as Record<string, number[]>)) {
        this.memo.set(k, v);
      }
    }
  }

  private key(text: string): string {
    return createHash("sha256").update(`${this.modelId}\0${text}`).digest("hex");
  }

  /**
   * Memoised too (in a binary file beside the query vectors): the answerer embeds the same
   * retrieved sentences for many questions. Indexing goes through here as well, once.
   */
  async embedDocuments(texts: string[]): Promise<number[][]> {
    this.loadSentences();
    const missing = [...new Set(texts.filter((t) => !this.sentences.has(this.key(t))))];
    if (missing.length > 0) {
      const vectors = await this.inner.embedDocuments(missing);
      missing.forEach((t, i) => {
        this.sentences.set(this.key(t), Float32Array.from(vectors[i]!));
      });
      this.sentencesDirty = true;
      this.embedded += missing.length;
    }
    return texts.map((t) => Array.from(this.sentences.get(this.key(t))!));
  }

  private sentences = new Map<string, Float32Array>();
  private sentencesLoaded = false;
  private sentencesDirty = false;

  private loadSentences(): void {
    if (this.sentencesLoaded) return;
    this.sentencesLoaded = true;
    const keysFile = `${this.file}.sentences.json`;
    if (!existsSync(keysFile)) return;
    const { keys, dim } = JSON.parse(readFileSync(keysFile, "utf8")) as { keys: string[]; dim: number };
    const data = readFileSync(`${this.file}.sentences.bin`);
    const all = new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
    keys.forEach((k, i) => {
      this.sentences.set(k, all.slice(i * dim, (i + 1) * dim));
    });
  }

  private saveSentences(): void {
    if (!this.sentencesDirty || this.sentences.size === 0) return;
    const keys = [...this.sentences.keys()];
    const dim = this.sentences.get(keys[0]!)!.length;
    const all = new Float32Array(keys.length * dim);
    keys.forEach((k, i) => {
      all.set(this.sentences.get(k)!, i * dim);
    });
    atomicWriteFileSync(`${this.file}.sentences.bin`, Buffer.from(all.buffer));
    atomicWriteFileSync(`${this.file}.sentences.json`, JSON.stringify({ keys, dim }));
    this.sentencesDirty = false;
  }

  async embedQuery(text: string): Promise<number[]> {
    const key = this.key(text);
    let v = this.memo.get(key);
    if (!v) {
      v = await this.inner.embedQuery(text);
      this.memo.set(key, v);
      this.dirty = true;
      this.embedded++;
    }
    return v;
  }

  save(): void {
    if (this.dirty) atomicWriteFileSync(this.file, JSON.stringify(Object.fromEntries(this.memo)));
    this.dirty = false;
    this.saveSentences();
  }
}

type Config = Partial<Omit<HybridRetrieverOptions, "vectorStore" | "keywordIndex">> & { keyword?: KeywordIndexOptions };

interface Scores {
  r1: number;
  r5: number;
  mrr: number;
}

const avg = (s: Scores) => (s.r1 + s.r5 + s.mrr) / 3;
const f3 = (x: number) => x.toFixed(3);

function describe(c: Config): string {
  if (c.mode === "keyword" || c.mode === "dense") {
    return `${c.mode}${c.aggregate === "document" ? " +doc" : ""}${c.titleBoost ? ` +title ${c.titleBoost}` : ""}${c.keyword ? ` ${JSON.stringify(c.keyword)}` : ""}`;
  }
  const parts = [c.fusion === "rrf" ? "hybrid rrf" : `convex w=${c.keywordWeight}`];
  if (c.fusion !== "rrf") parts.push(c.normalization ?? "minmax");
  parts.push(`title=${c.titleBoost ?? 0}`);
  parts.push(c.aggregate === "document" ? `doc(+${c.aggregateBonus ?? HYBRID_DEFAULTS.aggregateBonus})` : "chunk");
  if (c.titleMinCoverage !== undefined) parts.push(`cover≥${c.titleMinCoverage}`);
  if (c.fetchK !== undefined) parts.push(`fetchK=${c.fetchK}`);
  if (c.denseCompletion === false) parts.push("no dense completion");
  if (c.documentWeight !== undefined) parts.push(`doc BM25 ${c.documentWeight}`);
  if (c.expandWindow) parts.push(`±${c.expandWindow} chunks`);
  if (c.keyword) parts.push(JSON.stringify(c.keyword));
  return parts.join(" ");
}

async function main(): Promise<void> {
  await buildMissingCorpora(join(ROOT, "examples", "eval"));
  // GENERA_BENCH_SETS=knowledge,elements: only these sets (e.g. for the slow answer table with embeddings).
  const only = process.env.GENERA_BENCH_SETS?.split(",").filter(Boolean);
  // GENERA_BENCH_HEADERS=off: every set indexed without contextual chunk headers (its own cache).
  const headers = process.env.GENERA_BENCH_HEADERS !== "off";
  const sets = discoverSets().filter((s) => !only || only.includes(s.name));
  if (sets.length === 0) {
    console.error("No QA sets found under examples/eval.");
    process.exitCode = 1;
    return;
  }
  mkdirSync(CACHE, { recursive: true });
  const use = new UniversalSentenceEncoderEmbeddings();
  const embeddings = new MemoQueryEmbeddings(use, join(CACHE, "query-vectors.json"));
  const t0 = performance.now();
  const kbs = new Map<string, KnowledgeBase>();
  try {
    for (const set of sets) {
      const kb = await KnowledgeBase.open({
        dir: join(CACHE, headers ? set.name : `${set.name}-no-headers`),
        embeddings,
        modelId: use.modelId,
        contextualHeaders: headers,
      });
      const summary = await kb.index([set.corpus]);
      await kb.save();
      kbs.set(set.name, kb);
      // Embed the questions up front, concurrently, so the worker pool is busy.
      await Promise.all(set.qa.map((q) => embeddings.embedQuery(q.question)));
      embeddings.save();
      console.error(
        `${set.name}: ${set.qa.length} questions, ${kb.vectorStore.size} chunks (${summary.added} files embedded now), ${((performance.now() - t0) / 1000).toFixed(0)} s`,
      );
    }

    const keywordCache = new Map<string, KeywordIndex>();
    const keywordIndexFor = (set: string, options: KeywordIndexOptions | undefined) => {
      const kb = kbs.get(set)!;
      if (!options) return kb.keywordIndex;
      const key = `${set}\0${JSON.stringify(options)}`;
      let index = keywordCache.get(key);
      if (!index) {
        index = KeywordIndex.rebuildFrom(kb.vectorStore.listDocuments(), options);
        keywordCache.set(key, index);
      }
      return index;
    };

    const run = async (config: Config): Promise<Map<string, Scores>> => {
      const out = new Map<string, Scores>();
      for (const set of sets) {
        const { keyword, ...options } = config;
        const retriever = new HybridRetriever({
          ...options,
          k: 10,
          vectorStore: kbs.get(set.name)!.vectorStore,
          keywordIndex: keywordIndexFor(set.name, keyword),
        });
        const r = await evaluateRetriever(retriever, set.qa, { ks: [1, 5, 10] });
        out.set(set.name, { r1: r.recall[1], r5: r.recall[5], mrr: r.mrr });
      }
      return out;
    };
    const mean = (scores: Map<string, Scores>): Scores => {
      const all = [...scores.values()];
      return {
        r1: all.reduce((a, s) => a + s.r1, 0) / all.length,
        r5: all.reduce((a, s) => a + s.r5, 0) / all.length,
        mrr: all.reduce((a, s) => a + s.mrr, 0) / all.length,
      };
    };

    // Every knob is set explicitly so the tables do not shift when HYBRID_DEFAULTS change.
    const plain = { aggregate: "none", titleBoost: 0, termBoost: 0, denseCompletion: true, documentWeight: 0 } as const;
    const baselines: Config[] = [
      { mode: "keyword", ...plain },
      { mode: "dense", ...plain },
      { mode: "hybrid", fusion: "rrf", ...plain },
      { mode: "hybrid", fusion: "convex", keywordWeight: 0.5, normalization: "minmax", ...plain },
      { mode: "keyword", aggregate: "document", aggregateBonus: 0.1, titleBoost: 0, termBoost: 0 },
    ];
    const grid: Config[] = [];
    for (const keywordWeight of [0.3, 0.5, 0.6, 0.7, 0.8]) {
      for (const normalization of ["minmax", "zscore"] as const) {
        for (const titleBoost of [0, 0.1, 0.2, 0.3]) {
          for (const aggregate of ["none", "document"] as const) {
            grid.push({
              mode: "hybrid",
              fusion: "convex",
              keywordWeight,
              normalization,
              titleBoost,
              aggregate,
              aggregateBonus: 0.1,
              denseCompletion: true,
            });
          }
        }
      }
    }

    const finalistsOnly = process.argv.includes("--finalists");
    const defaultsOnly = process.argv.includes("--defaults") || process.argv.includes("--compare") || finalistsOnly;
    const results = new Map<string, Map<string, Scores>>();
    // --compare: only what the defaults are judged against (BM25 per chunk; per whole file below).
    const compareOnly = process.argv.includes("--compare");
    for (const config of compareOnly ? baselines.slice(0, 1) : defaultsOnly ? baselines : [...baselines, ...grid]) {
      results.set(describe(config), await run(config));
    }
    const keywordOnly = results.get(describe(baselines[0]))!;

    const beatsKeywordEverywhere = (scores: Map<string, Scores>) =>
      sets.every((set) => {
        const s = scores.get(set.name)!;
        const b = keywordOnly.get(set.name)!;
        return s.r1 >= b.r1 && s.r5 >= b.r5 && s.mrr >= b.mrr;
      });

    const table = (title: string, rows: Array<[string, Map<string, Scores>]>) => {
      console.log(`\n### ${title}\n`);
      const header = [
        "setting",
        ...sets.flatMap((s) => [`${s.name} R@1`, "R@5", "MRR"]),
        "avg R@1",
        "avg R@5",
        "avg MRR",
        "avg / BM25",
      ];
      console.log(`| ${header.join(" | ")} |`);
      console.log(`|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
      const base = avg(mean(keywordOnly));
      for (const [name, scores] of rows) {
        const m = mean(scores);
        const cells = sets.flatMap((s) => {
          const x = scores.get(s.name)!;
          return [f3(x.r1), f3(x.r5), f3(x.mrr)];
        });
        console.log(
          `| ${name} | ${cells.join(" | ")} | ${f3(m.r1)} | ${f3(m.r5)} | ${f3(m.mrr)} | ${(avg(m) / base).toFixed(3)} |`,
        );
      }
    };

    console.log(
      `\nSets: ${sets.map((s) => `${s.name} (${s.qa.length} questions, ${kbs.get(s.name)!.vectorStore.size} chunks)`).join(", ")}`,
    );
    table(
      "Baselines",
      baselines.filter((c) => results.has(describe(c))).map((c) => [describe(c), results.get(describe(c))!]),
    );

    // Rank the grid, then vary the secondary knobs one at a time around its best point.
    const exploreGrid = async (): Promise<void> => {
      const ranked = grid
        .map((c) => ({ c, scores: results.get(describe(c))! }))
        .sort((a, b) => avg(mean(b.scores)) - avg(mean(a.scores)));
      table(
        "Hybrid convex grid, best 15 by average (R@1 + R@5 + MRR) / 3 over sets",
        ranked.slice(0, 15).map((r) => [describe(r.c), r.scores]),
      );
      const byWeight = [0.3, 0.5, 0.6, 0.7, 0.8].map((w) => ranked.find((r) => r.c.keywordWeight === w)!);
      table(
        "Best grid point per keyword weight",
        byWeight.map((r) => [describe(r.c), r.scores]),
      );

      const best = ranked.find((r) => beatsKeywordEverywhere(r.scores)) ?? ranked[0];
      const around: Config[] = [];
      for (const aggregateBonus of [0, 0.05, 0.1, 0.2, 0.3])
        around.push({ ...best.c, aggregate: "document", aggregateBonus });
      for (const titleMinCoverage of [0.5, 0.67, 1]) around.push({ ...best.c, titleMinCoverage });
      for (const fetchK of [20, 50, 100]) around.push({ ...best.c, fetchK });
      around.push({ ...best.c, keyword: { stem: false } });
      around.push({ ...best.c, keyword: { boosts: { title: 1, headings: 1, body: 1 } } });
      around.push({ ...best.c, keyword: { boosts: { title: 3, headings: 2, body: 1 } } });
      around.push({ ...best.c, fusion: "rrf" });
      around.push({ ...best.c, denseCompletion: false });
      const aroundRows: Array<[string, Map<string, Scores>]> = [];
      for (const c of around) aroundRows.push([describe(c), await run(c)]);
      table(`Secondary knobs around the best grid point (${describe(best.c)})`, aroundRows);
      console.log(`\nBest grid point by average, ≥ keyword everywhere: ${describe(best.c)}`);
    };
    if (!defaultsOnly) await exploreGrid();

    // Combinations of the secondary knobs that each helped alone around the grid's best point.
    const finalists: Config[] = [];
    for (const keywordWeight of [0.7, 0.8]) {
      for (const titleBoost of [0, 0.1]) {
        for (const aggregateBonus of [0, 0.1]) {
          for (const denseCompletion of [true, false]) {
            finalists.push({
              keywordWeight,
              normalization: "zscore",
              titleBoost,
              aggregate: "document",
              aggregateBonus,
              denseCompletion,
            });
          }
        }
      }
    }
    if (finalistsOnly || !defaultsOnly) {
      const rows: Array<[string, Map<string, Scores>]> = [];
      for (const c of finalists) rows.push([describe({ mode: "hybrid", fusion: "convex", ...c }), await run(c)]);
      rows.sort((a, b) => avg(mean(b[1])) - avg(mean(a[1])));
      table(
        "Finalists (✓ = ≥ keyword-only on every metric of every set)",
        rows.map(([name, scores]) => [`${beatsKeywordEverywhere(scores) ? "✓" : "✗"} ${name}`, scores]),
      );
    }

    const overrides = JSON.parse(process.env.GENERA_BENCH_RETRIEVER ?? "{}") as Config;
    const defaults = await run(overrides);
    // BM25 over whole files: every source's chunks as one document, ranked by one BM25 score.
    const wholeFile = new Map<string, Scores>();
    for (const set of sets) {
      const whole = WholeDocumentIndex.of(kbs.get(set.name)!.keywordIndex);
      const retriever = {
        invoke: async (query: string) =>
          whole.keywordIndex
            .search(query, { k: 10 })
            .map((r) => new Document({ pageContent: "", metadata: { source: r.id } })),
      };
      const r = await evaluateRetriever(retriever, set.qa, { ks: [1, 5, 10] });
      wholeFile.set(set.name, { r1: r.recall[1], r5: r.recall[5], mrr: r.mrr });
    }
    const wholeKey = "BM25 per whole file";
    table("Shipped defaults (HYBRID_DEFAULTS) vs BM25 per chunk and per whole file", [
      ["BM25 per chunk (keyword-only)", keywordOnly],
      [wholeKey, wholeFile],
      [`defaults: ${describe({ ...HYBRID_DEFAULTS, ...overrides })}`, defaults],
    ]);
    const beatsBoth = sets.every((set) => {
      const d = defaults.get(set.name)!;
      const a = keywordOnly.get(set.name)!;
      const b = wholeFile.get(set.name)!;
      return d.r1 >= Math.max(a.r1, b.r1) && d.r5 >= Math.max(a.r5, b.r5) && d.mrr >= Math.max(a.mrr, b.mrr);
    });
    console.log(
      `\nDefaults ${beatsBoth ? "are" : "are NOT"} ≥ the better of BM25 per chunk and per whole file on R@1, R@5 and MRR on every set.`,
    );
    if (process.argv.includes("--answers")) await answerTable(sets, kbs, embeddings, overrides);
    console.log(
      `\nDefaults ${beatsKeywordEverywhere(defaults) ? "are" : "are NOT"} ≥ keyword-only on R@1, R@5 and MRR on every set; ` +
        `average ${(avg(mean(defaults)) / avg(mean(keywordOnly))).toFixed(3)}× keyword-only.`,
    );
    console.error(
      `total ${((performance.now() - t0) / 1000).toFixed(0)} s, ${embeddings.embedded} queries embedded this run`,
    );
  } finally {
    embeddings.save();
    for (const kb of kbs.values()) await kb.close();
    await use.close();
  }
}

await main();

import type { Document } from "@langchain/core/documents";
import type { Command } from "commander";
import type { GeneraConfig } from "../../config.js";
import { loadCliConfig, openKnowledgeBase } from "../context.js";
import { kFlag, modeFlag, requireText } from "../flags.js";

/** "file (page 2)" / "file (Heading > Sub)" — the position a person can open. */
export function describePosition(metadata: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof metadata.page === "number") parts.push(`page ${metadata.page}`);
  if (typeof metadata.image === "number") parts.push(`image ${metadata.image}`);
  if (typeof metadata.timeSpan === "string") parts.push(metadata.timeSpan);
  if (Array.isArray(metadata.headings) && metadata.headings.length) parts.push(metadata.headings.join(" > "));
  if (typeof metadata.line === "number") parts.push(`line ${metadata.line}`);
  return parts.length ? `${metadata.source} (${parts.join(", ")})` : String(metadata.source);
}

function toJson(doc: Document) {
  const { score, denseScore, keywordScore, ...metadata } = doc.metadata;
  return { id: doc.id, source: metadata.source, score, denseScore, keywordScore, text: doc.pageContent, metadata };
}

/**
 * Whether a hybrid or keyword result list matches the query at all. The dense side always
 * returns the nearest chunks, related or not, and its similarity cannot tell them apart: with
 * USE-lite on the bundled knowledge base, "xyzzy plugh" reaches cosine 0.33 and "attention" 0.33.
 * A list in which no chunk contains any of the query's words is therefore "no match"; `--mode
 * dense` still lists the nearest chunks by meaning for those who want them.
 */
export function matchesQuery(docs: Document[], mode: string): boolean {
  if (mode === "dense") return docs.length > 0;
  return docs.some((d) => typeof d.metadata.keywordScore === "number" && d.metadata.keywordScore > 0);
}

/**
 * Scores as shown to people: per query, relative to the best result (1 = the best match,
 * 0.5 = half its score). The retriever's own scores are z-scores fused and shifted so the
 * weakest candidate is 0; their scale means nothing across queries (5.77 for one, 0.72 for
 * another), while the ratio to the best is what a reader compares. `--json` keeps the raw ones.
 */
export function relativeScores(docs: Document[]): number[] {
  const scores = docs.map((d) => Math.max(0, Number(d.metadata.score) || 0));
  const best = Math.max(0, ...scores);
  return scores.map((s) => (best > 0 ? s / best : 1));
}

export function register(program: Command): void {
  program
    .command("search")
    .description("show the chunks that best match a query")
    .argument("<query>", "what to look for")
    .option("--store <dir>", "index folder (default <dataDir>/index)")
    .option("-k, --k <n>", "number of results", kFlag)
    .option("--mode <mode>", "hybrid | keyword | dense", modeFlag)
    .option("--mmr", "diversify results with maximal marginal relevance")
    .option("--images", "search the image index: images whose picture matches the text")
    .option("--json", "print one JSON object")
    .action(async (query: string, opts, command: Command) => {
      requireText("query", query, 'genera search "attention heads"');
      const config = loadCliConfig(command, { retrieval: { k: opts.k, mode: opts.mode } });
      if (opts.images) {
        await searchImages(config, query, { store: opts.store, k: opts.k ?? 10, json: opts.json });
        return;
      }
      const kb = await openKnowledgeBase(config, { store: opts.store });
      try {
        const { chunks, dir } = await kb.stats();
        const retriever = kb.asRetriever({
          k: config.retrieval.k,
          mode: config.retrieval.mode,
          ...(opts.mmr ? { mmr: { lambda: 0.5 } } : {}),
        });
        const found = chunks > 0 ? await retriever.invoke(query) : [];
        const docs = matchesQuery(found, config.retrieval.mode) ? found : [];
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ query, mode: config.retrieval.mode, results: docs.map(toJson) })}\n`,
          );
          return;
        }
        if (chunks === 0) {
          process.stdout.write(`Nothing is indexed in ${dir} yet: run \`genera index <files or folders>\` first.\n`);
          return;
        }
        if (!docs.length) {
          // Imported here so that a flag error never loads the stores (the knowledge base has loaded it by now).
          const { analyzeText } = await import("../../../vectorstores/KeywordIndex.js");
          const why =
            analyzeText(query).length === 0
              ? "its words are all too common to search for (such as “the” or “of”)"
              : "none contains any of its words";
          process.stdout.write(
            `No indexed passage matches ${JSON.stringify(query)}: ${why}. ` +
              "Try other words, or --mode dense for the passages nearest in meaning.\n",
          );
          return;
        }
        const shown = relativeScores(docs);
        process.stdout.write("score: relative to the best match (1.00)\n");
        docs.forEach((doc, i) => {
          const snippet = doc.pageContent.replace(/\s+/g, " ").slice(0, 240);
          process.stdout.write(
            `${i + 1}. [${(shown[i] as number).toFixed(2)}] ${describePosition(doc.metadata)}\n   ${snippet}\n`,
          );
        });
      } finally {
        await kb.close();
      }
    });
}

async function searchImages(
  config: GeneraConfig,
  query: string,
  opts: { store?: string; k: number; json?: boolean },
): Promise<void> {
  // The image index and its encoder load only for `--images`.
  const { imageIndexDir, openImageIndex } = await import("../imageIndex.js");
  const index = await openImageIndex(config, opts.store);
  try {
    const hits = await index.search(query, opts.k);
    if (opts.json) {
      const results = hits.map(({ source, score, caption, ocrText }) => ({ source, score, caption, ocrText }));
      process.stdout.write(`${JSON.stringify({ query, modality: "image", results })}\n`);
      return;
    }
    if (!hits.length) {
      process.stdout.write(
        `No images indexed in ${imageIndexDir(config, opts.store)}. Index a folder with images first.\n`,
      );
    }
    hits.forEach((hit, i) => {
      const text = [hit.caption, hit.ocrText].filter(Boolean).join(" | ").replace(/\s+/g, " ").slice(0, 200);
      process.stdout.write(`${i + 1}. [${hit.score.toFixed(3)}] ${hit.source}${text ? `\n   ${text}` : ""}\n`);
    });
  } finally {
    await index.close();
  }
}

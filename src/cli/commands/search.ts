import type { Document } from "@langchain/core/documents";
import type { Command } from "commander";
import { loadCliConfig, openKnowledgeBase } from "../context.js";

/** "file (page 2)" / "file (Heading > Sub)" — the position a person can open. */
export function describePosition(metadata: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof metadata.page === "number") parts.push(`page ${metadata.page}`);
  if (Array.isArray(metadata.headings) && metadata.headings.length) parts.push(metadata.headings.join(" > "));
  if (typeof metadata.line === "number") parts.push(`line ${metadata.line}`);
  return parts.length ? `${metadata.source} (${parts.join(", ")})` : String(metadata.source);
}

function toJson(doc: Document) {
  const { score, denseScore, keywordScore, ...metadata } = doc.metadata;
  return { id: doc.id, source: metadata.source, score, denseScore, keywordScore, text: doc.pageContent, metadata };
}

export function register(program: Command): void {
  program
    .command("search")
    .description("show the chunks that best match a query")
    .argument("<query>", "what to look for")
    .option("--store <dir>", "index folder (default <dataDir>/index)")
    .option("-k, --k <n>", "number of results", Number)
    .option("--mode <mode>", "hybrid | keyword | dense")
    .option("--mmr", "diversify results with maximal marginal relevance")
    .option("--json", "print one JSON object")
    .action(async (query: string, opts, command: Command) => {
      const config = loadCliConfig(command, { retrieval: { k: opts.k, mode: opts.mode } });
      const kb = await openKnowledgeBase(config, { store: opts.store });
      try {
        const retriever = kb.asRetriever({
          k: config.retrieval.k,
          mode: config.retrieval.mode,
          ...(opts.mmr ? { mmr: { lambda: 0.5 } } : {}),
        });
        const docs = await retriever.invoke(query);
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ query, mode: config.retrieval.mode, results: docs.map(toJson) })}\n`,
          );
          return;
        }
        if (!docs.length) process.stdout.write("No matches. Is anything indexed? Try `genera stats`.\n");
        docs.forEach((doc, i) => {
          const score = Number(doc.metadata.score ?? 0).toFixed(3);
          const snippet = doc.pageContent.replace(/\s+/g, " ").slice(0, 240);
          process.stdout.write(`${i + 1}. [${score}] ${describePosition(doc.metadata)}\n   ${snippet}\n`);
        });
      } finally {
        await kb.close();
      }
    });
}

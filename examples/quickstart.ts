// The README's library example: index the bundled knowledge base and print the
// best matches for a question. Run: node --import ./scripts/ts.mjs examples/quickstart.ts "your question"
import { join } from "node:path";
import { KnowledgeBase, UniversalSentenceEncoderEmbeddings } from "genera";

const question = process.argv[2] ?? "How does multi-head attention combine its heads?";
const embeddings = new UniversalSentenceEncoderEmbeddings();
const dir = join(process.env.GENERA_DATA_DIR ?? ".genera", "quickstart");
const kb = await KnowledgeBase.open({ dir, embeddings, ownsEmbeddings: true });

// Only new or changed files are embedded; a second run takes a moment.
const summary = await kb.index([new URL("./knowledge", import.meta.url).pathname], {
  onProgress: (e) => e.phase === "index" && process.stderr.write(`\rindexed ${e.filesDone}/${e.filesTotal} files`),
});
process.stderr.write(`\n${summary.added + summary.updated} files indexed, ${summary.unchanged} unchanged\n`);

// The default retriever is hybrid: BM25 keywords + HNSW dense vectors, fused.
const results = await kb.asRetriever({ k: 3 }).invoke(question);
console.log(`Q: ${question}`);
for (const [i, doc] of results.entries()) {
  const where = [doc.metadata.source, ...(doc.metadata.headings ?? [])].join(" > ");
  console.log(`${i + 1}. (${Number(doc.metadata.score).toFixed(3)}) ${where}`);
  console.log(`   ${doc.pageContent.replace(/\s+/g, " ").slice(0, 200)}…`);
}
await kb.close();

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { embeddingText } from "../../src/knowledge/embeddingText.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** HashEmbeddings that remembers every text it was asked to embed. */
class RecordingEmbeddings extends HashEmbeddings {
  readonly seen: string[] = [];
  override async embedDocuments(texts: string[]): Promise<number[][]> {
    this.seen.push(...texts);
    return super.embedDocuments(texts);
  }
}

function corpus(): { docs: string; store: string } {
  const root = mkdtempSync(join(tmpdir(), "genera-headers-"));
  dirs.push(root);
  const docs = join(root, "docs");
  mkdirSync(docs);
  // The title is in front matter only, so the chunk's own text never says "otters".
  writeFileSync(
    join(docs, "otters.md"),
    "---\ntitle: Otters\n---\n\n## Diet\n\nThey eat fish and crabs near the shore.\n",
  );
  writeFileSync(join(docs, "herons.md"), "---\ntitle: Herons\n---\n\n## Nests\n\nThey build nests high in trees.\n");
  return { docs, store: join(root, "store") };
}

describe("contextual chunk headers", () => {
  it("are on by default: the encoder and BM25 see the title and heading path, citations the chunk", async () => {
    const { docs, store } = corpus();
    const embeddings = new RecordingEmbeddings();
    const kb = await KnowledgeBase.open({ dir: store, embeddings });
    await kb.index([docs]);
    expect(embeddings.seen.some((t) => t.startsWith("Otters > Diet\n"))).toBe(true);
    // "otters" is only in the title: BM25 finds the chunk through it.
    const [hit] = await kb.asRetriever({ k: 1, mode: "keyword" }).invoke("otters");
    expect(hit?.metadata.source).toBe("otters.md");
    expect(hit?.pageContent).not.toContain("Otters >");
    await kb.close();
  });

  it("can be switched off; a store built one way refuses to open the other way", async () => {
    const { docs, store } = corpus();
    const embeddings = new RecordingEmbeddings();
    const kb = await KnowledgeBase.open({ dir: store, embeddings, contextualHeaders: false });
    await kb.index([docs]);
    const chunks = await kb.documentChunks("otters.md");
    expect(embeddings.seen).toContain(chunks[0]?.pageContent);
    expect(embeddings.seen.some((t) => t.includes(" > "))).toBe(false);
    expect(embeddingText(chunks[0]!, { contextualHeaders: false })).toBe(chunks[0]?.pageContent);
    // The body says "fish"; the title alone no longer matches.
    expect((await kb.asRetriever({ k: 1, mode: "keyword" }).invoke("fish"))[0]?.metadata.source).toBe("otters.md");
    expect(await kb.asRetriever({ k: 1, mode: "keyword" }).invoke("otters")).toEqual([]);
    await kb.close();
    await expect(KnowledgeBase.open({ dir: store, embeddings })).rejects.toMatchObject({ code: "MODEL_MISMATCH" });
  });
});

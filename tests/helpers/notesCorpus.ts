import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";

const TOPICS = ["attention", "tokenizer", "diffusion", "retrieval", "optimizer", "embedding", "decoder", "gradient"];

/** `files` Markdown notes of six paragraphs each, topics cycling, under `root`. */
export function writeNotesCorpus(root: string, files: number): void {
  mkdirSync(root, { recursive: true });
  for (let i = 0; i < files; i++) {
    const topic = TOPICS[i % TOPICS.length] as string;
    const body = Array.from(
      { length: 6 },
      (_, p) => `Paragraph ${p} of note ${i} explains the ${topic} idea number ${i * 7 + p} in plain words.`,
    ).join("\n\n");
    writeFileSync(join(root, `note-${i}.md`), `# Note ${i} about ${topic}\n\n## Details\n\n${body}\n`);
  }
}

/** Every stored source's chunks are in both in-memory indexes, and nothing else is. */
export async function assertConsistent(kb: KnowledgeBase): Promise<void> {
  const storeIds = new Set(kb.vectorStore.ids());
  let owned = 0;
  for (const source of await kb.store.listSources()) {
    for (const id of source.chunkIds) {
      expect(storeIds.has(id)).toBe(true);
      expect(kb.keywordIndex.has(id)).toBe(true);
    }
    owned += source.chunkIds.length;
  }
  expect(storeIds.size).toBe(owned);
  expect(kb.keywordIndex.size).toBe(owned);
}

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type IndexProgress, KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";

// Issue 13 item 6: a job over one large file reported 0 progress until it was done.

describe("index progress", () => {
  it("moves while one large file is embedded, not only when it is committed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "genera-progress-"));
    try {
      const paragraphs = Array.from(
        { length: 600 },
        (_, i) => `Paragraph ${i} explains topic ${i % 17} with enough words to fill a chunk of its own, more or less.`,
      );
      const file = join(dir, "large.md");
      writeFileSync(file, `# Large\n\n${paragraphs.join("\n\n")}\n`);
      const kb = await KnowledgeBase.open({ dir: join(dir, "index"), embeddings: new HashEmbeddings() });
      const events: IndexProgress[] = [];
      const summary = await kb.index([file], { chunkSize: 200, chunkOverlap: 0, onProgress: (e) => events.push(e) });
      await kb.close();
      const total = summary.chunksAdded;
      expect(total).toBeGreaterThan(200);
      // Partial figures were reported while chunksDone was still 0 (the file not yet committed).
      const partial = events.filter((e) => e.chunksDone === 0 && e.chunksEmbedded > 0 && e.chunksEmbedded < total);
      expect(partial.length).toBeGreaterThanOrEqual(2);
      expect(partial.every((e) => e.chunksSplit === total)).toBe(true);
      expect(events.at(-1)).toMatchObject({ phase: "done", chunksDone: total, chunksEmbedded: total });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

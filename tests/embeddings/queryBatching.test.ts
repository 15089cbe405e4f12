import { afterAll, describe, expect, it } from "vitest";
import { UniversalSentenceEncoderEmbeddings } from "../../src/embeddings/UniversalSentenceEncoderEmbeddings.js";

const embeddings = new UniversalSentenceEncoderEmbeddings({ workers: 1 });
afterAll(() => embeddings.close());

describe("concurrent embedQuery calls", () => {
  it("are batched together and give the same vectors as one at a time", async () => {
    const questions = Array.from({ length: 12 }, (_, i) => `What does question number ${i} ask about attention?`);
    const together = await Promise.all(questions.map((q) => embeddings.embedQuery(q)));
    for (const [i, q] of questions.entries()) {
      const alone = await embeddings.embedQuery(q);
      expect(alone.length).toBe(512);
      for (let d = 0; d < 512; d += 37) expect(together[i]?.[d]).toBeCloseTo(alone[d] as number, 5);
    }
    await expect(embeddings.embedQuery(42 as unknown as string)).rejects.toMatchObject({ code: "INVALID_INPUT" });
  });

  it("go ahead of document batches already waiting (searches keep their latency during indexing)", async () => {
    // One worker, 13 document batches queued first: in arrival order the query would come last.
    const texts = Array.from({ length: 400 }, (_, i) => `Document chunk ${i} about transformers and attention heads.`);
    const finished: string[] = [];
    const documents = embeddings.embedDocuments(texts).then(() => finished.push("documents"));
    const query = embeddings.embedQuery("Which chunk mentions attention heads?").then(() => finished.push("query"));
    await Promise.all([documents, query]);
    expect(finished).toEqual(["query", "documents"]);
  });
});

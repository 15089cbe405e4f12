import { readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
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

  it("do not wait for document batches (searches keep their latency during indexing)", async () => {
    // 13 document batches queued first: on one shared worker the query would come last.
    const texts = Array.from({ length: 400 }, (_, i) => `Document chunk ${i} about transformers and attention heads.`);
    const finished: string[] = [];
    const documents = embeddings.embedDocuments(texts).then(() => finished.push("documents"));
    const query = embeddings.embedQuery("Which chunk mentions attention heads?").then(() => finished.push("query"));
    await Promise.all([documents, query]);
    expect(finished).toEqual(["query", "documents"]);
  });
});

/** Nice values of this process's threads (Linux: each thread has its own). */
function threadNiceValues(): number[] {
  return readdirSync("/proc/self/task").map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at state (field 3); nice is field 19.
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
  });
}

describe.runIf(process.platform === "linux")("thread priorities", () => {
  it("run document batches below this thread's priority and queries at it", async () => {
    const own = getPriority(0);
    // Already at the lowest priority there is nothing lower to go to.
    if (own >= 19) return;
    const lowered = () => threadNiceValues().filter((nice) => nice > own).length;
    const fresh = new UniversalSentenceEncoderEmbeddings({ workers: 2 });
    try {
      const before = lowered();
      await fresh.embedQuery("a question about attention heads");
      expect(lowered()).toBe(before);
      await fresh.embedDocuments(Array.from({ length: 40 }, (_, i) => `Document chunk ${i} about attention.`));
      // The document worker's thread and the onnxruntime threads it started.
      expect(lowered()).toBeGreaterThanOrEqual(before + 1);
    } finally {
      await fresh.close();
    }
  });
});

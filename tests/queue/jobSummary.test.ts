import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { emptyIndexSummary, type IndexSummary } from "../../src/knowledge/KnowledgeBase.js";
import { jobSummary } from "../../src/queue/IndexWorker.js";

const dir = mkdtempSync(join(tmpdir(), "genera-jobsummary-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const [a, b, c, d] = ["a.md", "b.md", "c.md", "d.md"].map((name) => {
  writeFileSync(join(dir, name), name);
  return join(dir, name);
}) as [string, string, string, string];

function attempt(over: Partial<IndexSummary>): IndexSummary {
  return { ...emptyIndexSummary(), seconds: 1, ...over };
}

describe("jobSummary", () => {
  it("counts what the job did since before its first attempt, whatever its last attempt saw", () => {
    // The last attempt found a and b already committed (by an attempt that was killed) and indexed c.
    const last = attempt({
      unchanged: 3,
      added: 1,
      chunksAdded: 4,
      failed: 1,
      failures: [{ path: "d.md", code: "X", reason: "bad" }],
    });
    const summary = jobSummary(
      last,
      { [a]: null, [b]: { hash: "old", chunks: 2 }, [c]: null, [d]: { hash: "d", chunks: 1 } },
      {
        [a]: { hash: "a", chunks: 3 },
        [b]: { hash: "new", chunks: 5 },
        [c]: { hash: "c", chunks: 4 },
        [d]: { hash: "d", chunks: 1 },
      },
      dir,
      [a, b, c, d],
    );
    expect(summary).toMatchObject({ added: 2, updated: 1, unchanged: 0, failed: 1, chunksAdded: 12, chunksDeleted: 2 });
  });

  it("is the attempt's own summary when nothing changed under it, and when a path is a folder", () => {
    const only = attempt({ added: 1, unchanged: 1, chunksAdded: 3 });
    const states = { [a]: { hash: "a", chunks: 1 }, [b]: null };
    expect(
      jobSummary(
        only,
        { [a]: { hash: "a", chunks: 1 }, [b]: null },
        { ...states, [b]: { hash: "b", chunks: 3 } },
        dir,
        [a, b],
      ),
    ).toMatchObject({
      added: 1,
      unchanged: 1,
      chunksAdded: 3,
    });
    expect(jobSummary(only, {}, {}, dir, [dir])).toBe(only);
  });
});

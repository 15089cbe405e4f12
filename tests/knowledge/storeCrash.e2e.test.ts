import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { assertConsistent, writeNotesCorpus } from "../helpers/notesCorpus.js";
import { TS_NODE_FLAGS } from "../helpers/tsNode.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "genera-crash-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(store: string): Promise<KnowledgeBase> {
  return KnowledgeBase.open({ dir: store, embeddings: new HashEmbeddings(), onRepair: () => {} });
}

/**
 * Runs the indexing child and SIGKILLs it after `afterCommits` commits or `afterMs`, whichever
 * comes first; returns the chunk count of the last commit it reported.
 */
function killChild(
  store: string,
  root: string,
  kill: { afterCommits?: number; afterMs?: number },
  checkpointEvery?: number,
) {
  const args = [...TS_NODE_FLAGS, "tests/ingest/fixtures/indexChild.ts", store, root];
  if (checkpointEvery) args.push(String(checkpointEvery));
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  let committed = 0;
  let commits = 0;
  let timer: NodeJS.Timeout | undefined;
  return new Promise<number>((resolve) => {
    child.stdout.on("data", (data: Buffer) => {
      for (const match of data.toString().matchAll(/saved (\d+)/g)) {
        commits++;
        committed = Number(match[1]);
        if (commits === 1 && kill.afterMs !== undefined) timer = setTimeout(() => child.kill("SIGKILL"), kill.afterMs);
      }
      if (kill.afterCommits !== undefined && commits >= kill.afterCommits) child.kill("SIGKILL");
    });
    child.on("exit", () => {
      clearTimeout(timer);
      resolve(committed);
    });
  });
}

async function finishAndCompare(store: string, root: string): Promise<void> {
  const kb = await open(store);
  const summary = await kb.index([root], { embedBatchSize: 20 });
  expect(summary.failed).toBe(0);
  expect((await kb.stats()).documents).toBe(60);
  await assertConsistent(kb);
  const clean = await open(join(tempDir(), "clean"));
  await clean.index([root]);
  expect((await kb.stats()).chunks).toBe((await clean.stats()).chunks);
  expect(kb.vectorStore.ids().sort()).toEqual(clean.vectorStore.ids().sort());
  await kb.close();
  await clean.close();
}

describe("the knowledge store under SIGKILL", () => {
  it("keeps every reported commit when killed between or inside commits, and the next run finishes the job", async () => {
    const root = join(tempDir(), "docs");
    const store = join(tempDir(), "store");
    writeNotesCorpus(root, 60);
    for (let attempt = 0; attempt < 3; attempt++) {
      const committed = await killChild(store, root, { afterCommits: attempt + 1 });
      const kb = await open(store);
      await assertConsistent(kb);
      expect((await kb.stats()).chunks).toBeGreaterThanOrEqual(committed);
      await kb.close();
    }
    await finishAndCompare(store, root);
  });

  it("keeps every reported commit when killed while the graph file is being written", async () => {
    const root = join(tempDir(), "docs");
    const store = join(tempDir(), "store");
    writeNotesCorpus(root, 60);
    // A checkpoint every 30 chunks: kills at these delays land in graph writes as well as commits.
    for (const afterMs of [0, 15, 40, 80, 150]) {
      const committed = await killChild(store, root, { afterMs }, 30);
      const kb = await open(store);
      await assertConsistent(kb);
      expect((await kb.stats()).chunks).toBeGreaterThanOrEqual(committed);
      // A graph file a kill left half-written is never the one in use, and is cleaned up.
      expect(readdirSync(store).filter((f) => /^graph-\d+\.hnsw$/.test(f)).length).toBeLessThanOrEqual(1);
      await kb.close();
    }
    await finishAndCompare(store, root);
  });
});

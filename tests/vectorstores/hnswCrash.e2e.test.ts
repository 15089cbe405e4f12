import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Document } from "@langchain/core/documents";
import { afterAll, describe, expect, it } from "vitest";
import { HNSWVectorStore } from "../../vectorstores/index.js";
import { TS_NODE_FLAGS } from "../helpers/tsNode.js";
import { clusteredVectors } from "./clustered.js";
import { BagOfWordsEmbeddings } from "./fakeEmbeddings.js";

const childScript = fileURLToPath(new URL("./fixtures/hnswSaveLoop.ts", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "genera-hnsw-crash-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DIMENSION = 64;
const COUNT = 8_000;

/** Runs the save loop, SIGKILLs it `delayMs` after it is ready, and reports how far it got. */
function killDuringSaves(dir: string, delayMs: number): Promise<{ started: number[]; finished: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE_FLAGS, childScript, dir, String(DIMENSION)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const started: number[] = [];
    const finished: number[] = [];
    let stderr = "";
    let buffered = "";
    let timer: NodeJS.Timeout | undefined;
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const [word, n] = line.split(" ");
        if (word === "ready" && timer === undefined) timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
        if (word === "saving") started.push(Number(n));
        if (word === "saved") finished.push(Number(n));
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL") resolve({ started, finished });
      else reject(new Error(`save loop exited with ${code}: ${stderr}`));
    });
  });
}

describe("HNSWVectorStore crash safety", () => {
  it("a process killed with SIGKILL at any moment of a save leaves a loadable index", async () => {
    const dir = join(root, "store");
    const embeddings = new BagOfWordsEmbeddings({ dimension: DIMENSION });
    const { vectors } = clusteredVectors(COUNT, DIMENSION, 100, 11);
    const store = new HNSWVectorStore(embeddings, { efConstruction: 40, M: 8 });
    await store.addVectors(
      vectors,
      vectors.map((_, i) => new Document({ pageContent: `document number ${i}`, metadata: { i } })),
    );
    await store.save(dir);

    let size = COUNT;
    let killedMidSave = 0;
    // Spread the kills so they land in different phases: index write, docstore write, manifest rename, cleanup.
    for (const delayMs of [5, 60, 140, 230, 330, 450]) {
      const { started, finished } = await killDuringSaves(dir, delayMs);
      if (started.length > finished.length) killedMidSave++;
      const loaded = await HNSWVectorStore.load(dir, embeddings);
      // Whatever generation survived is one the child had started: never older than its last completed save.
      const lastDone = finished.at(-1) ?? size;
      const lastStarted = started.at(-1) ?? size;
      expect(loaded.size).toBeGreaterThanOrEqual(lastDone);
      expect(loaded.size).toBeLessThanOrEqual(lastStarted);
      const [top] = await loaded.similaritySearchVectorWithScore(vectors[123], 1);
      expect(top[0].metadata.i).toBe(123);
      size = loaded.size;
    }
    expect(killedMidSave).toBeGreaterThanOrEqual(3);
    // Torn generations pile up only until the next completed save, which leaves just the live one.
    await (await HNSWVectorStore.load(dir, embeddings)).save(dir);
    const files = readdirSync(dir);
    expect(files).toHaveLength(3);
    expect(files.filter((f) => f.endsWith(".hnsw") || f.startsWith("docstore."))).toHaveLength(2);
  }, 300_000);
});

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Document } from "@langchain/core/documents";
import type { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { PostgresStore } from "../../src/knowledge/PostgresStore.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { startPostgres, type TestPostgres } from "../helpers/postgres.js";
import { TS_NODE_FLAGS } from "../helpers/tsNode.js";
import { firstLoadVector } from "./fixtures/firstLoadVectors.js";

/**
 * A first load into an empty Postgres store goes in without the HNSW index and builds it once
 * after the rows (CREATE INDEX over 100k rows took a ninth of inserting them into the index one
 * commit at a time); later loads insert into the built index; a loader that dies mid-load loses
 * no acknowledged row, and the index it put off is built by the next opening after the lease.
 */
let pg: TestPostgres;
let client: Client;
let root = "";
beforeAll(async () => {
  pg = await startPostgres();
  const { default: pgClient } = await import("pg");
  client = new pgClient.Client({ connectionString: pg.url });
  await client.connect();
  root = mkdtempSync(join(tmpdir(), "genera-first-load-"));
});
afterAll(async () => {
  await client?.end();
  await pg?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function vectorIndex(prefix: string): Promise<string | undefined> {
  const { rows } = await client.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = $1", [
    `${prefix}_chunks_embedding`,
  ]);
  return rows[0]?.indexdef;
}

async function deferredMark(prefix: string): Promise<string | undefined> {
  const { rows } = await client.query<{ value: string }>(
    `SELECT value FROM ${prefix}_meta WHERE key = 'vectorIndexDeferred'`,
  );
  return rows[0]?.value;
}

function put(f: number) {
  const ids = Array.from({ length: 10 }, (_, i) => f * 10 + i);
  return {
    record: {
      path: `/load/f${f}.md`,
      root: "/load",
      source: `f${f}.md`,
      hash: String(f),
      size: 1,
      mtimeMs: 0,
      indexedAt: "",
    },
    chunks: ids.map((i) => new Document({ id: `c${i}`, pageContent: `chunk ${i}` })),
    vectors: ids.map(firstLoadVector),
  };
}

describe("PostgresStore: the first load builds the vector index once, after the rows", () => {
  it("defers the index through the load's commits, builds it at finishLoad, and inserts into it afterwards", async () => {
    const store = await PostgresStore.open({
      url: pg.url,
      modelId: "first-load",
      tablePrefix: "bulk",
      maxConnections: 1,
    });
    for (let f = 0; f < 5; f++) await store.commit({ put: [put(f)] });
    expect(await vectorIndex("bulk")).toBeUndefined();
    expect(await deferredMark("bulk")).toMatch(/^\d+$/);
    // Without the index dense search scans every row: exact, so the chunk's own vector finds it first.
    expect((await store.denseSearch(firstLoadVector(23), { k: 3 }))[0]?.document.id).toBe("c23");

    await store.finishLoad();
    expect(await vectorIndex("bulk")).toMatch(/USING hnsw \(embedding vector_cosine_ops\)/);
    expect(await deferredMark("bulk")).toBeUndefined();
    await store.finishLoad(); // nothing left to do
    // A later load goes into the built index: nothing is put off again.
    await store.commit({ put: [put(5)] });
    expect(await deferredMark("bulk")).toBeUndefined();
    expect(await store.counts()).toEqual({ sources: 6, chunks: 60 });
    expect((await store.denseSearch(firstLoadVector(57), { k: 3 }))[0]?.document.id).toBe("c57");
    await store.close();
  });

  it("an index run ends the load; a worker's run (finishLoad: false) leaves it to the worker", async () => {
    const docs = join(root, "docs");
    mkdirSync(docs, { recursive: true });
    for (let f = 0; f < 3; f++)
      writeFileSync(join(docs, `n${f}.md`), `# Note ${f}\n\nThe river ${f} runs by mill ${f}.`);
    const embeddings = new HashEmbeddings({ dimension: 16 });
    const open = (prefix: string) =>
      PostgresStore.open({ url: pg.url, modelId: embeddings.modelId, tablePrefix: prefix, maxConnections: 1 });
    const worker = await KnowledgeBase.open({ dir: join(root, "unused"), embeddings, store: await open("worker") });
    await worker.index([join(docs, "n0.md")], { root: docs, finishLoad: false });
    await worker.index([join(docs, "n1.md")], { root: docs, finishLoad: false });
    expect(await vectorIndex("worker")).toBeUndefined();
    await worker.finishLoad();
    expect(await vectorIndex("worker")).toBeDefined();
    await worker.close();

    const cli = await KnowledgeBase.open({ dir: join(root, "unused"), embeddings, store: await open("cli") });
    expect(await cli.index([docs])).toMatchObject({ added: 3, failed: 0 });
    expect(await vectorIndex("cli")).toBeDefined();
    expect(await deferredMark("cli")).toBeUndefined();
    await cli.close();
  });

  it("a loader SIGKILLed mid-load loses no acknowledged row, and the next opening after the lease builds the index", async () => {
    const child = spawn(
      process.execPath,
      [...TS_NODE_FLAGS, "tests/knowledge/fixtures/firstLoadChild.ts", pg.url, "crash"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const acknowledged = await new Promise<number>((resolve) => {
      let last = 0;
      child.stdout.on("data", (data: Buffer) => {
        for (const match of data.toString().matchAll(/committed (\d+)/g)) last = Number(match[1]);
        if (last >= 40) child.kill("SIGKILL");
      });
      child.on("exit", () => resolve(last));
    });
    expect(acknowledged).toBeGreaterThanOrEqual(40);
    expect(await vectorIndex("crash")).toBeUndefined();

    // Within the lease the load may still be going on (another worker): opening leaves it alone.
    const early = await PostgresStore.open({
      url: pg.url,
      modelId: "first-load",
      tablePrefix: "crash",
      maxConnections: 1,
    });
    expect(await vectorIndex("crash")).toBeUndefined();
    await early.close();
    // After it, the opening builds the index over every row the loader committed.
    const later = await PostgresStore.open({
      url: pg.url,
      modelId: "first-load",
      tablePrefix: "crash",
      maxConnections: 1,
      loadLeaseMs: 0,
    });
    expect(await vectorIndex("crash")).toBeDefined();
    expect(await deferredMark("crash")).toBeUndefined();
    const { chunks } = await later.counts();
    expect(chunks).toBeGreaterThanOrEqual(acknowledged);
    for (const i of [0, 17, acknowledged - 1]) {
      expect((await later.denseSearch(firstLoadVector(i), { k: 1 }))[0]?.document.id).toBe(`c${i}`);
    }
    await later.close();
  }, 60_000);
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import type { KeywordIndex } from "../../vectorstores/KeywordIndex.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { startPostgres } from "../helpers/postgres.js";

let root = "";
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "genera-parity-"));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const WORDS =
  "granite basalt magma crust mantle quartz feldspar erosion sediment glacier delta river canyon plateau fault tremor".split(
    " ",
  );

/** Profiles of imaginary minerals: parallel sections, so a question's name is what tells them apart. */
function writeCorpus(dir: string): void {
  mkdirSync(dir, { recursive: true });
  let seed = 11;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed >> 8; // the low bits of this generator repeat quickly
  };
  const prose = (n: number) => Array.from({ length: n }, () => WORDS[next() % WORDS.length]).join(" ");
  for (let f = 0; f < 14; f++) {
    const name = `Mineral ${String.fromCharCode(65 + f)}${f}`;
    const sections = ["Identity", "Formation", "Uses", "History"].map(
      (heading, s) =>
        `## ${heading}\n\n${name} ${heading.toLowerCase()}: ${prose(40 + (next() % 60))}.\n\n${s === 0 ? `Hardness ${f % 7} and density ${f}.${f}.` : prose(30)}.`,
    );
    writeFileSync(join(dir, `mineral-${f}.md`), `# ${name}\n\n${sections.join("\n\n")}\n`);
  }
}

describe("hybrid retrieval on the Postgres store", () => {
  it.each([
    ["with contextual headers (the default)", true],
    ["without contextual headers (title and headings weigh nothing)", false],
  ])(
    "ranks, scores and widens context as the embedded store does, %s",
    async (_, contextualHeaders) => {
      const docs = join(root, `docs-${contextualHeaders}`);
      writeCorpus(docs);
      const embeddings = new HashEmbeddings({ dimension: 32 });
      const embedded = await KnowledgeBase.open({
        dir: join(root, `embedded-${contextualHeaders}`),
        embeddings,
        contextualHeaders,
      });
      // The store as KnowledgeBase opens it from GENERA_DATABASE_URL (its own server: the default tables), with the same setting.
      const pg = await startPostgres();
      const postgres = await KnowledgeBase.open({
        dir: join(root, "unused"),
        embeddings,
        contextualHeaders,
        databaseUrl: pg.url,
      });
      try {
        for (const kb of [embedded, postgres]) {
          // Small overlapping chunks: whole documents are put back together from several.
          expect(await kb.index([docs], { chunkSize: 220, chunkOverlap: 60 })).toMatchObject({ added: 14, failed: 0 });
        }
        const { chunks } = await postgres.counts();
        expect(chunks).toBeGreaterThan(60);
        const queries = [
          "What is the hardness of Mineral C2?",
          "mineral formation from magma in the crust",
          "history of glacier erosion",
          "Mineral K10 uses",
          "density 7.7",
          "fault tremor canyon",
        ];
        for (const query of queries) {
          const [e, p] = await Promise.all(
            // Keyword mode: fusion, document evidence and context windows, without the dense side (the
            // two stores' HNSW graphs break cosine ties differently, and one keeps float32 vectors).
            [embedded, postgres].map((kb) => kb.asRetriever({ k: 5, mode: "keyword" }).invoke(query)),
          );
          expect(e.length).toBeGreaterThan(0);
          expect(p.map((d) => d.id)).toEqual(e.map((d) => d.id));
          p.forEach((doc, i) => {
            const want = e[i]?.metadata ?? {};
            expect(doc.metadata.score).toBeCloseTo(want.score as number, 9);
            expect(doc.metadata.keywordScore ?? 0).toBeCloseTo((want.keywordScore as number) ?? 0, 9);
            expect(doc.metadata.context).toBe(want.context);
            expect(doc.metadata.contextStartChar).toBe(want.contextStartChar);
          });
          expect(p.some((d) => typeof d.metadata.context === "string")).toBe(true);
          const hybrid = await postgres.asRetriever({ k: 5 }).invoke(query);
          expect(hybrid.length).toBe(5);
          expect(hybrid.every((d) => typeof d.metadata.context === "string")).toBe(true);
        }
        // The answerer's corpus statistics (createRagChain reads them from the keyword side).
        const retriever = postgres.asRetriever({ k: 5 });
        await retriever.invoke("Which mineral has density 3.3 and granite?");
        const side = retriever.keywordIndex as unknown as Pick<KeywordIndex, "wordFrequency" | "size">;
        expect(side.size).toBe(embedded.keywordIndex.size);
        for (const word of ["mineral", "density", "3.3", "granite", "which"]) {
          expect(side.wordFrequency(word)).toBe(embedded.keywordIndex.wordFrequency(word));
        }
      } finally {
        await embedded.close();
        await postgres.close();
        await pg.stop();
      }
    },
    600_000,
  );
});

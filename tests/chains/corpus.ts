import { Document } from "@langchain/core/documents";
import { InMemoryRetriever } from "../../chains/InMemoryRetriever.js";
import { FakeEmbeddings } from "./fakeEmbeddings.js";

/** Small Markdown documents about made-up things, so no model can know the answers beforehand. */
export const CORPUS: Record<string, string> = {
  "aurora-lab.md": `# Aurora Lab

The Aurora Lab was founded in 1987 in Tromsø. It studies the northern lights with three radar arrays.

## Funding

The lab receives funding from the Norwegian Research Council. Its annual budget is 12 million kroner.`,
  "quantum-kettle.md": `# Quantum Kettle

The **Quantum Kettle** boils one litre of water in 40 seconds.

- It uses a 3 kW heating coil made of kanthal.
- The kettle switches off automatically when it runs dry.

\`\`\`sh
kettle --boil --litres 1
\`\`\``,
  "velora-river.md": `# Velora River

The Velora River flows 820 kilometres from the Ostrak Mountains to the Sel Sea. Salmon migrate up the river every autumn.
The river freezes in January near its source.`,
  "install.md": `# Installation

## Requirements

Node 20 or newer is required. Install genera with npm in the project folder.

## Troubleshooting

If the install fails behind a proxy, set the HTTPS_PROXY variable before running npm.`,
};

/** One chunk per level-2 section (or the whole file), with HybridRetriever-style metadata. */
export function corpusDocuments(): Document[] {
  const docs: Document[] = [];
  for (const [source, text] of Object.entries(CORPUS)) {
    const title = /^# (.+)$/m.exec(text)?.[1] ?? source;
    const sections = text.split(/\n(?=## )/);
    sections.forEach((section, i) => {
      const heading = /^## (.+)$/m.exec(section)?.[1];
      docs.push(
        new Document({
          pageContent: section,
          metadata: { source, title, headings: heading ? [title, heading] : [title], id: `${source}#${i}` },
        }),
      );
    });
  }
  return docs;
}

export function corpusRetriever(k = 3): InMemoryRetriever {
  return new InMemoryRetriever({ documents: corpusDocuments(), embeddings: new FakeEmbeddings(), k });
}

/** Every word of the corpus (lower-cased), to check that extractive answers quote it. */
export function corpusWords(): Set<string> {
  return new Set(
    Object.values(CORPUS)
      .join("\n")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [],
  );
}

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type GeneraConfig, loadConfig } from "../../src/config.js";
import { KnowledgeBase } from "../../src/knowledge/KnowledgeBase.js";
import { type RunningServer, startServer } from "../../src/server/startServer.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";

export const DOCS: Record<string, string> = {
  "attention.md":
    "# Attention\n\n## Scaled dot-product attention\n\nScaled dot-product attention divides the query-key dot products by the square root of the key dimension before the softmax. The scaling keeps the softmax out of regions with tiny gradients.\n",
  "optimizers.md":
    "# Optimizers\n\n## Adam\n\nAdam keeps running averages of the gradient and of its square. The default betas are 0.9 and 0.999.\n\n## SGD\n\nStochastic gradient descent with momentum accumulates a velocity vector.\n",
  "diffusion.md":
    "# Diffusion models\n\nA diffusion model learns to reverse a gradual noising process. DDPM uses one thousand noise steps in its original paper.\n",
};

export interface Harness {
  running: RunningServer;
  kb: KnowledgeBase;
  config: GeneraConfig;
  dataDir: string;
  close: () => Promise<void>;
}

/** A real server over loopback on a free port, with fast hash embeddings and the extractive answerer. */
export async function startHarness(
  server: Partial<GeneraConfig["server"]> = {},
  dataDir?: string,
  embeddings = new HashEmbeddings(),
): Promise<Harness> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), "genera-server-"));
  const docs = join(dir, "docs");
  mkdirSync(docs, { recursive: true });
  for (const [name, text] of Object.entries(DOCS)) writeFileSync(join(docs, name), text);
  const config = loadConfig({
    env: {},
    cwd: dir,
    overrides: { dataDir: dir, server: { port: 0, folders: [docs], ...server } },
  });
  const kb = await KnowledgeBase.open({ dir: join(dir, "index"), embeddings });
  await kb.index([docs]);
  const running = await startServer({ config, kb, log: () => {} });
  return {
    running,
    kb,
    config,
    dataDir: dir,
    close: async () => {
      await running.close();
      await kb.close();
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Parses an SSE body into events. */
export function parseSse(body: string): Array<{ event: string; data: unknown }> {
  return body
    .split("\n\n")
    .filter((block) => block.trim())
    .map((block) => {
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      return { event, data: data ? (data === "[DONE]" ? data : JSON.parse(data)) : undefined };
    });
}

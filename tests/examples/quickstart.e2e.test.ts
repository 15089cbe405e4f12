import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { TS_NODE_FLAGS } from "../helpers/tsNode.js";

const run = promisify(execFile);

describe("README library example (examples/quickstart.ts)", () => {
  it("indexes the bundled knowledge base and prints the best matches", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "genera-quickstart-"));
    try {
      const env = { ...process.env, GENERA_DATA_DIR: dataDir };
      const args = [...TS_NODE_FLAGS, "examples/quickstart.ts", "How many heads does the base Transformer use?"];
      const first = await run(process.execPath, args, { env, maxBuffer: 8 << 20 });
      expect(first.stdout).toMatch(/^Q: How many heads/m);
      expect(first.stdout).toMatch(/^1\. \(\d\.\d{3}\) \S+\.md/m);
      expect(first.stdout).toMatch(/8 (attention )?heads/);
      expect(first.stderr).toMatch(/\d+ files indexed, 0 unchanged/);
      // The second run finds everything unchanged.
      const second = await run(process.execPath, args, { env, maxBuffer: 8 << 20 });
      expect(second.stderr).toMatch(/0 files indexed, \d+ unchanged/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    // Two child processes each load the embedding model; the first embeds the whole knowledge base.
  }, 300_000);
});

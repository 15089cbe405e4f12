import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeOnnxModel } from "../../src/util/onnxModel.js";
import { CrossEncoderReranker } from "../../vectorstores/CrossEncoderReranker.js";
import { HybridRetriever } from "../../vectorstores/HybridRetriever.js";
import { HNSWVectorStore } from "../../vectorstores/hnsw.js";
import { KeywordIndex } from "../../vectorstores/KeywordIndex.js";
import { type TinyOnnxModel, writeTinyOnnxModel } from "../embeddings/fixtures/tinyOnnxModel.js";
import { ConceptEmbeddings, chunk } from "./hybridFixtures.js";

/**
 * A tiny cross-encoder: the tokenizer of the tiny BERT fixture, and a sequence-classification
 * graph whose one logit is the sum of a weight per token of "[CLS] query [SEP] passage [SEP]":
 *   logits = ReduceSum(Gather(token_weights, input_ids) * attention_mask, axis 1)
 * so the expected scores are computed here without transformers.js.
 */
function writeTinyCrossEncoder(dir: string): { tiny: TinyOnnxModel; expected(query: string, passage: string): number } {
  const tiny = writeTinyOnnxModel(dir);
  const weights = new Float32Array(tiny.vocab.length).map((_, i) => ((i * 37) % 11) / 10 - 0.5);
  weights[tiny.vocab.indexOf("cat")] = 3;
  weights[tiny.vocab.indexOf("kitten")] = 2;
  weights[tiny.vocab.indexOf("stock")] = -2;
  const ids = ["batch_size", "sequence_length"];
  writeFileSync(
    join(dir, "onnx", "model.onnx"),
    encodeOnnxModel({
      name: "tiny_cross_encoder",
      initializers: [
        { name: "token_weights", dims: [tiny.vocab.length, 1], data: weights },
        { name: "unsqueeze_axes", dims: [1], data: BigInt64Array.of(2n) },
        { name: "sum_axes", dims: [1], data: BigInt64Array.of(1n) },
      ],
      nodes: [
        { op: "Gather", inputs: ["token_weights", "input_ids"], outputs: ["token_scores"], attributes: { axis: 0 } },
        { op: "Cast", inputs: ["attention_mask"], outputs: ["mask_float"], attributes: { to: 1 } },
        { op: "Unsqueeze", inputs: ["mask_float", "unsqueeze_axes"], outputs: ["mask_3d"] },
        { op: "Mul", inputs: ["token_scores", "mask_3d"], outputs: ["masked"] },
        { op: "ReduceSum", inputs: ["masked", "sum_axes"], outputs: ["logits"], attributes: { keepdims: 0 } },
      ],
      inputs: [
        { name: "input_ids", dims: ids, int64: true },
        { name: "attention_mask", dims: ids, int64: true },
      ],
      outputs: [{ name: "logits", dims: ["batch_size", 1] }],
    }),
  );
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      architectures: ["BertForSequenceClassification"],
      model_type: "bert",
      hidden_size: tiny.hiddenSize,
      num_attention_heads: 1,
      num_hidden_layers: 1,
      vocab_size: tiny.vocab.length,
      max_position_embeddings: 64,
      id2label: { 0: "LABEL_0" },
      label2id: { LABEL_0: 0 },
      pad_token_id: 0,
    }),
  );
  const score = (text: string) => tiny.ids(text).reduce((sum, id) => sum + (weights[id] as number), 0);
  // The pair is "[CLS] q [SEP] p [SEP]": the query's ids, then the passage's without its [CLS].
  const cls = weights[tiny.vocab.indexOf("[CLS]")] as number;
  return { tiny, expected: (query, passage) => score(query) + score(passage) - cls };
}

let root: string;
let model: ReturnType<typeof writeTinyCrossEncoder>;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "genera-rerank-"));
  model = writeTinyCrossEncoder(join(root, "tiny-cross-encoder"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("CrossEncoderReranker on a generated ONNX model", () => {
  it("scores (query, passage) pairs as the model computes them, in batches", async () => {
    const reranker = new CrossEncoderReranker({ model: model.tiny.dir, batchSize: 2 });
    try {
      const passages = ["the dog sat on the rug", "a cat sat on the mat", "stock market fell today"];
      const scores = await reranker.rerank("kitten", passages);
      expect(scores).toHaveLength(3);
      passages.forEach((p, i) => {
        expect(scores[i]).toBeCloseTo(model.expected("kitten", p), 4);
      });
      expect(await reranker.rerank("cat", [])).toEqual([]);
    } finally {
      await reranker.close();
    }
  });

  it("reorders the hybrid retriever's best hits when configured, and is off by default", async () => {
    const docs = [
      chunk("a#0", "stock market fell today", { source: "a.md" }),
      chunk("b#0", "the dog sat on the rug", { source: "b.md" }),
      chunk("c#0", "a cat sat on the mat", { source: "c.md" }),
    ];
    const embeddings = new ConceptEmbeddings({ cat: 0, stock: 1 });
    const store = new HNSWVectorStore(embeddings);
    await store.addDocuments(docs);
    const keywordIndex = KeywordIndex.rebuildFrom(docs);
    const reranker = new CrossEncoderReranker({ model: model.tiny.dir });
    try {
      const plain = await new HybridRetriever({ vectorStore: store, keywordIndex, mode: "keyword" }).invoke(
        "stock sat today",
      );
      expect(plain[0]?.id).toBe("a#0");
      expect(plain[0]?.metadata.rerankScore).toBeUndefined();
      const reranked = await new HybridRetriever({
        vectorStore: store,
        keywordIndex,
        mode: "keyword",
        reranker,
      }).invoke("stock sat today");
      expect(reranked.map((d) => d.id)).toEqual(["c#0", "b#0", "a#0"]);
      expect(reranked[0]?.metadata.rerankScore).toBeCloseTo(
        model.expected("stock sat today", "a cat sat on the mat"),
        4,
      );
    } finally {
      await reranker.close();
    }
  });

  it("fails with MODEL_NOT_FOUND for a folder without a model", async () => {
    const reranker = new CrossEncoderReranker({ model: join(root, "missing") });
    await expect(reranker.rerank("q", ["p"])).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
  });
});

import {
  crossEntropy,
  Embedding,
  EncoderLayer,
  Linear,
  Module,
  PositionalEncoding,
  paddingMask,
  reshape,
  seededRandom,
  slice,
  Tensor,
} from "../../engine/index.js";
import { GeneraError } from "../../errors.js";
import { SHAPES, SUFFIX_BUCKETS } from "./requestTokens.js";
import { INTENTS, TAGS } from "./toolPlan.js";
import { WORD_CLASS_IDS } from "./WordLexicon.js";

export interface ToolCallTaggerConfig {
  vocabSize: number;
  maxLen: number;
  dModel: number;
  nHeads: number;
  nLayers: number;
  dFF: number;
  dropout: number;
  /** Width of the pretrained vectors each position also reads (RequestVectors); 0: none. */
  vectorDim?: number;
  /** Whether each token also enters with its word classes (WordLexicon); default false. */
  wordClasses?: boolean;
  /** Training only: label smoothing ε of both heads' cross-entropy (engine `crossEntropy`); default 0. */
  labelSmoothing?: number;
}

/** A batch of encoded requests, row-major [B, T], padded with id 0; targets only when training. */
export interface TaggerBatch {
  B: number;
  T: number;
  words: Int32Array;
  shapes: Int32Array;
  suffixes: Int32Array;
  /** [B, T] word-class ids (WordLexicon), when the model reads them. */
  classes?: Int32Array;
  /** [B] intent ids. */
  intents?: Int32Array;
  /** [B, T, vectorDim] pretrained vectors (zeros on padding), when the model reads them. */
  vectors?: Float32Array;
  /** [B, T] tag ids, -100 where there is no token (CLS, padding). */
  tags?: Int32Array;
}

export interface TaggerOutput {
  /** [B, intents] */
  intentLogits: Tensor;
  /** [B, T, tags] */
  tagLogits: Tensor;
  loss?: Tensor;
}

/**
 * The offline tool model: a transformer encoder (the paper's encoder layers, §3.1) over
 * the request, with two heads — the intent from the first position (a [CLS] token, as in
 * BERT) and a BIO tag per token for the argument spans (joint intent detection and slot
 * filling). Each token enters as the sum of its word, shape and suffix embeddings, a
 * projection of its pretrained vector (the request's own vector in the [CLS] slot) and,
 * when configured, an embedding of its word classes (WordLexicon).
 */
export class ToolCallTagger extends Module {
  readonly config: ToolCallTaggerConfig;
  wordEmb: Embedding;
  shapeEmb: Embedding;
  suffixEmb: Embedding;
  vectorProj?: Linear;
  classEmb?: Embedding;
  pos: PositionalEncoding;
  layers: EncoderLayer[];
  intentHead: Linear;
  tagHead: Linear;

  constructor(config: ToolCallTaggerConfig, seed = 7) {
    super();
    for (const key of ["vocabSize", "maxLen", "dModel", "nHeads", "nLayers", "dFF"] as const) {
      if (!(Number.isInteger(config[key]) && config[key] > 0)) {
        throw new GeneraError(
          "CONFIG_INVALID",
          `tool model config ${key} must be a positive integer, got ${config[key]}`,
        );
      }
    }
    this.config = { ...config };
    const rng = seededRandom(seed);
    const { dModel: d } = config;
    const std = d ** -0.5;
    this.wordEmb = new Embedding(config.vocabSize, d, { rng, std });
    this.shapeEmb = new Embedding(SHAPES.length, d, { rng, std });
    this.suffixEmb = new Embedding(SUFFIX_BUCKETS, d, { rng, std });
    if (config.vectorDim) this.vectorProj = new Linear(config.vectorDim, d, { rng, std: config.vectorDim ** -0.5 });
    this.pos = new PositionalEncoding("learned", config.maxLen, d, rng);
    this.layers = Array.from(
      { length: config.nLayers },
      () => new EncoderLayer(d, config.nHeads, config.dFF, config.dropout, rng),
    );
    this.intentHead = new Linear(d, INTENTS.length, { rng });
    this.tagHead = new Linear(d, TAGS.length, { rng });
    // Last, so the other weights start as a model without word classes would.
    if (config.wordClasses) this.classEmb = new Embedding(WORD_CLASS_IDS, d, { rng, std });
  }

  forward(batch: TaggerBatch): TaggerOutput {
    const { B, T } = batch;
    const shape = [B, T];
    let x = this.wordEmb
      .forward(batch.words, shape)
      .add(this.shapeEmb.forward(batch.shapes, shape))
      .add(this.suffixEmb.forward(batch.suffixes, shape))
      .add(this.pos.forward(0, T));
    if (this.vectorProj) {
      const dim = this.config.vectorDim as number;
      if (batch.vectors?.length !== B * T * dim) {
        throw new GeneraError("INVALID_INPUT", `the tool model needs [${B}, ${T}, ${dim}] pretrained vectors`);
      }
      x = x.add(this.vectorProj.forward(new Tensor(batch.vectors, [B, T, dim])));
    }
    if (this.classEmb) {
      if (batch.classes?.length !== B * T) {
        throw new GeneraError("INVALID_INPUT", `the tool model needs [${B}, ${T}] word-class ids`);
      }
      x = x.add(this.classEmb.forward(batch.classes, shape));
    }
    const mask = paddingMask(batch.words, B, T, 0);
    for (const layer of this.layers) x = layer.forward(x, mask);
    const cls = reshape(slice(x, 1, 0, 1), [B, this.config.dModel]);
    const intentLogits = this.intentHead.forward(cls);
    const tagLogits = this.tagHead.forward(x);
    if (!batch.intents || !batch.tags) return { intentLogits, tagLogits };
    // Spans are what the calls are made of: their loss counts as much as the intent's.
    const smoothing = { labelSmoothing: this.config.labelSmoothing ?? 0 };
    const loss = crossEntropy(intentLogits, batch.intents, -100, smoothing).add(
      crossEntropy(tagLogits, batch.tags, -100, smoothing),
    );
    return { intentLogits, tagLogits, loss };
  }
}

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadSafetensors, logSoftmax, noGrad, saveSafetensors } from "../../engine/index.js";
import { GeneraError } from "../../errors.js";
import { shippedModelDir } from "../../util/shippedModelDir.js";
import { RequestVectors } from "./RequestVectors.js";
import { type EncodedRequest, encodeRequest, RequestVocabulary, UNK } from "./requestTokens.js";
import { type TaggerBatch, ToolCallTagger, type ToolCallTaggerConfig } from "./ToolCallTagger.js";
import {
  chooseIntent,
  constrainSpans,
  decodeSpans,
  INTENTS,
  intentTags,
  planCalls,
  repairTags,
  TAGS,
  type Tag,
  type ToolPlan,
} from "./toolPlan.js";
import { WordLexicon } from "./WordLexicon.js";

const FORMAT = "genera-tool-model";

/** The checkpoint that ships with genera (models/tool-model, trained by examples/agent/train-tool-model.ts). */
export const TOOL_MODEL_NAME = "tool-model";

export interface ToolPrediction {
  plan: ToolPlan;
  /** Softmax probability of the chosen intent. */
  confidence: number;
}

/** Rows of encoded requests as one padded batch (pad id 0 everywhere). */
export function batchRequests(
  rows: EncodedRequest[],
  targets?: { intents: number[]; tags: number[][] },
  vectors?: { blocks: Float32Array[]; dim: number },
): TaggerBatch {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => r.words.length));
  const words = new Int32Array(B * T);
  const shapes = new Int32Array(B * T);
  const suffixes = new Int32Array(B * T);
  const classes = rows[0]?.classes ? new Int32Array(B * T) : undefined;
  const tags = targets ? new Int32Array(B * T).fill(-100) : undefined;
  const packed = vectors ? new Float32Array(B * T * vectors.dim) : undefined;
  rows.forEach((r, b) => {
    if (packed && vectors) packed.set(vectors.blocks[b] as Float32Array, b * T * vectors.dim);
    words.set(r.words, b * T);
    shapes.set(r.shapes, b * T);
    suffixes.set(r.suffixes, b * T);
    if (classes) classes.set(r.classes ?? [], b * T);
    // Position 0 is [CLS]: the tag of token i sits at position i + 1.
    if (tags && targets) {
      for (const [i, tag] of (targets.tags[b] ?? []).entries()) tags[b * T + i + 1] = tag;
    }
  });
  return {
    B,
    T,
    words,
    shapes,
    suffixes,
    ...(classes ? { classes } : {}),
    ...(packed ? { vectors: packed } : {}),
    ...(targets ? { intents: Int32Array.from(targets.intents), tags } : {}),
  };
}

/**
 * The trained tagger with its vocabulary: request text in, tool plan out. It may hold several
 * taggers trained alike from different seeds (an ensemble): their intent and tag
 * log-probabilities are averaged before decoding, which evens out what one seed's run
 * happens to get wrong (runs of one recipe differ by up to 3 points on the dev split).
 */
export class ToolModel {
  readonly members: ToolCallTagger[];
  private vectorSource?: RequestVectors;

  constructor(
    taggers: ToolCallTagger | ToolCallTagger[],
    readonly vocab: RequestVocabulary,
    vectors?: RequestVectors,
  ) {
    this.members = Array.isArray(taggers) ? [...taggers] : [taggers];
    const first = this.members[0];
    if (!first) throw new GeneraError("INVALID_INPUT", "a tool model needs at least one tagger");
    for (const [i, m] of this.members.entries()) {
      for (const key of ["vocabSize", "maxLen", "vectorDim", "wordClasses"] as const) {
        if (Number(m.config[key] ?? 0) !== Number(first.config[key] ?? 0)) {
          throw new GeneraError(
            "MODEL_MISMATCH",
            `tool model member ${i} has ${key} ${m.config[key]}, member 0 has ${first.config[key]}: members must share vocabulary and inputs`,
          );
        }
      }
    }
    if (Boolean(first.config.wordClasses) !== Boolean(vocab.lexicon)) {
      throw new GeneraError(
        "MODEL_MISMATCH",
        `the tool model ${first.config.wordClasses ? "reads word classes but has no lexicon" : "has a lexicon it does not read"}`,
      );
    }
    this.vectorSource = vectors;
  }

  /** The first (for a single model, the only) tagger. */
  get tagger(): ToolCallTagger {
    return this.members[0] as ToolCallTagger;
  }

  numParameters(): number {
    return this.members.reduce((n, m) => n + m.numParameters(), 0);
  }

  /** The sentence encoder behind the model's pretrained vectors (started on first use). */
  get vectors(): RequestVectors {
    this.vectorSource ??= new RequestVectors();
    return this.vectorSource;
  }

  encode(text: string): EncodedRequest {
    return encodeRequest(text, this.vocab, this.tagger.config.maxLen);
  }

  async predictBatch(texts: string[]): Promise<ToolPrediction[]> {
    if (texts.length === 0) return [];
    const inputs = texts.map((t) => (t.trim() === "" ? "?" : t));
    const rows = inputs.map((t) => this.encode(t));
    const dim = this.tagger.config.vectorDim ?? 0;
    const blocks = dim
      ? await this.vectors.encode(rows.map((r, i) => ({ text: inputs[i] as string, tokens: r.tokens })))
      : undefined;
    const batch = batchRequests(rows, undefined, blocks ? { blocks, dim } : undefined);
    const { intentLogp, tagLogp } = this.meanLogProbs(batch);
    const nI = INTENTS.length;
    const nT = TAGS.length;
    return rows.map((row, b) => {
      const logits = intentLogp.subarray(b * nI, (b + 1) * nI);
      const scores = row.tokens.map((_t, i) => {
        const at = (b * batch.T + i + 1) * nT;
        return tagLogp.subarray(at, at + nT);
      });
      const tags = scores.map((row) => TAGS[argmax(row)] as Tag);
      const text = texts[b] as string;
      const words = row.tokens.map((t) => t.text);
      const intent = chooseIntent(logits, scores, words);
      const unk = this.vocab.id(UNK);
      const unknown = row.tokens.map((_t, i) => row.words[i + 1] === unk);
      const repaired = constrainSpans(intent, repairTags(intentTags(intent, tags), unknown, words), scores, words);
      const plan = planCalls(intent, decodeSpans(text, row.tokens, repaired), text);
      return { plan, confidence: softmaxAt(logits, INTENTS.indexOf(intent)) };
    });
  }

  /**
   * Every member's intent and tag log-probabilities, averaged (a product of experts: the
   * decoding reads them as logits, as it reads one model's). One member: its log-softmax,
   * which decodes exactly as its logits do.
   */
  private meanLogProbs(batch: TaggerBatch): { intentLogp: Float32Array; tagLogp: Float32Array } {
    let intentLogp: Float32Array | undefined;
    let tagLogp: Float32Array | undefined;
    for (const member of this.members) {
      const wasTraining = member.training;
      member.eval();
      try {
        const { intent, tags } = noGrad(() => {
          const { intentLogits, tagLogits } = member.forward(batch);
          return { intent: logSoftmax(intentLogits), tags: logSoftmax(tagLogits) };
        });
        intentLogp = addInto(intentLogp, intent.data);
        tagLogp = addInto(tagLogp, tags.data);
      } finally {
        member.train(wasTraining);
      }
    }
    const k = this.members.length;
    for (const sums of [intentLogp, tagLogp]) if (sums && k > 1) for (let i = 0; i < sums.length; i++) sums[i] /= k;
    return { intentLogp: intentLogp as Float32Array, tagLogp: tagLogp as Float32Array };
  }

  async predict(text: string): Promise<ToolPrediction> {
    return (await this.predictBatch([text]))[0] as ToolPrediction;
  }

  /**
   * Writes config.json, vocab.json and model.safetensors; an ensemble's further members go
   * to model-1.safetensors, model-2.safetensors, … (config.json's `members` counts them).
   */
  save(dir: string, metadata: Record<string, unknown> = {}): void {
    mkdirSync(dir, { recursive: true });
    const members = this.members.length > 1 ? { members: this.members.length } : {};
    const config = {
      format: FORMAT,
      version: 1,
      ...this.tagger.config,
      intents: INTENTS,
      tags: TAGS,
      ...members,
      ...metadata,
    };
    writeFileSync(join(dir, "config.json"), `${JSON.stringify(config, null, 2)}\n`);
    writeFileSync(join(dir, "vocab.json"), `${JSON.stringify(this.vocab.words)}\n`);
    this.vocab.lexicon?.save(join(dir, LEXICON_FILE));
    for (const [i, member] of this.members.entries()) {
      saveSafetensors(join(dir, memberFile(i)), member.stateDict(), { format: FORMAT });
    }
  }

  /**
   * Loads a checkpoint folder; without one, the checkpoint shipped with genera. `vectors`:
   * a RequestVectors over USE-lite embeddings already running (default: its own).
   */
  static load(folder?: string, vectors?: RequestVectors): ToolModel {
    const dir = folder ?? shippedModelDir(TOOL_MODEL_NAME) ?? `models/${TOOL_MODEL_NAME}`;
    const configPath = join(dir, "config.json");
    if (!existsSync(configPath)) {
      throw new GeneraError(
        "MODEL_NOT_FOUND",
        `No tool model in ${dir} (train one with examples/agent/train-tool-model.ts)`,
        {
          details: { dir },
        },
      );
    }
    const config = JSON.parse(readFileSync(configPath, "utf8")) as ToolCallTaggerConfig & {
      format?: string;
      members?: number;
      intents?: string[];
      tags?: string[];
    };
    if (
      config.format !== FORMAT ||
      JSON.stringify(config.intents) !== JSON.stringify(INTENTS) ||
      JSON.stringify(config.tags) !== JSON.stringify(TAGS)
    ) {
      throw new GeneraError("MODEL_MISMATCH", `${dir} holds a tool model of another format or label set; retrain it`, {
        details: { dir },
      });
    }
    const vocab = new RequestVocabulary(
      JSON.parse(readFileSync(join(dir, "vocab.json"), "utf8")) as string[],
      config.wordClasses ? WordLexicon.load(join(dir, LEXICON_FILE)) : undefined,
    );
    const count = config.members ?? 1;
    if (!(Number.isInteger(count) && count >= 1)) {
      throw new GeneraError("MODEL_MISMATCH", `${dir}/config.json: members must be a positive integer, got ${count}`, {
        details: { dir },
      });
    }
    const taggers = Array.from({ length: count }, (_, i) => {
      const file = join(dir, memberFile(i));
      if (!existsSync(file)) {
        throw new GeneraError("MODEL_NOT_FOUND", `${dir} lists ${count} members but ${memberFile(i)} is missing`, {
          details: { dir, file },
        });
      }
      const tagger = new ToolCallTagger({ ...config, vocabSize: vocab.size, dropout: 0 });
      tagger.loadStateDict(loadSafetensors(file).tensors);
      tagger.eval();
      return tagger;
    });
    return new ToolModel(taggers, vocab, vectors);
  }
}

/** The word classes (WordLexicon) of a model that reads them, gzipped JSON. */
const LEXICON_FILE = "word-classes.json.gz";

/** Member i's weights: model.safetensors for the first (as a single model's), model-i.safetensors after. */
function memberFile(i: number): string {
  return i === 0 ? "model.safetensors" : `model-${i}.safetensors`;
}

/** Adds `values` into `sums` element by element (a copy of `values` on the first call). */
function addInto(sums: Float32Array | undefined, values: Float32Array): Float32Array {
  if (!sums) return Float32Array.from(values);
  for (let i = 0; i < sums.length; i++) sums[i] = (sums[i] as number) + (values[i] as number);
  return sums;
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

function softmaxAt(logits: ArrayLike<number>, k: number): number {
  const max = Math.max(...Array.from(logits));
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp((logits[i] as number) - max);
  return Math.exp((logits[k] as number) - max) / sum;
}

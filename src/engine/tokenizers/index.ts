export { BPETokenizer, type BPETrainOptions, DEFAULT_SPECIAL_TOKENS, GPT2_PATTERN } from "./BPETokenizer.js";
export { CharTokenizer, type CharTokenizerOptions } from "./CharTokenizer.js";
export { loadTokenizer, tokenizerFromJSON } from "./loadTokenizer.js";
export {
  type DecodeOptions,
  type EncodeOptions,
  type Tokenizer,
  type TokenizerJSON,
  type TokenizerKind,
  TokenStreamDecoder,
} from "./Tokenizer.js";

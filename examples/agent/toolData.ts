/**
 * The generated dataset the offline tool model learns from: requests → (intent, argument
 * spans). Every pool of phrasings and of values is split in two, so the held-out set is
 * made of sentence frames and values (topics, file names, numbers, unsupported tasks) that
 * never appear in training. The gold tool calls come from the gold spans through the same
 * decoding the model's output goes through, and each calculation is checked against the
 * expression it was generated from.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tokenizeRequest } from "../../src/agents/toolModel/requestTokens.js";
import {
  type Intent,
  isFunctionWord,
  mathFromWords,
  type PlannedCall,
  planCalls,
  type Span,
  type SpanKind,
  spaceOperators,
  type Tag,
} from "../../src/agents/toolModel/toolPlan.js";
import { IMAGE_GENERATOR_NAMES } from "../../src/agents/tools/imageTool.js";
import { defaultUseModelDir } from "../../src/embeddings/useLiteAssets.js";
import { seededRandom } from "../../src/engine/index.js";
import { type SynonymLookup, wordNetSynonyms } from "./frameSynonyms.js";
import {
  COMPARE_FAMILIES,
  DATE_FAMILIES,
  expand,
  IMAGE_FAMILIES,
  LIST_FAMILIES,
  MORE_ACTIONS,
  READ_DOC_FAMILIES,
  READ_FILE_FAMILIES,
  REFUSE_FAMILIES,
  REPLY_FAMILIES,
  SEARCH_CALC_FAMILIES,
  SEARCH_FAMILIES,
} from "./phrasingFamilies.js";
import { wordNetClasses } from "./wordClasses.js";

/**
 * "test" is the held-out set. "dev" exists only while `holdOutDev(true)`: a further quarter
 * of every pool leaves training and makes a development set that is held out the same way,
 * so training changes are chosen on it and the held-out set is only read at the end.
 */
export type Split = "train" | "dev" | "test";

let devHeldOut = false;
/** Moves a quarter of every training pool (frames, values, verbs) into the "dev" split, or back. */
export function holdOutDev(on: boolean): void {
  devHeldOut = on;
  familyFrames = undefined;
  heldOutListed = undefined;
  trainingVerbalNouns = undefined;
  trainingWords = undefined;
  trainingModifiers = undefined;
  trainingVerbs = undefined;
  trainingActions = undefined;
  synonymBlocked = undefined;
}

export interface ToolExample {
  text: string;
  intent: Intent;
  /** One tag per request token (tokenizeRequest). */
  tags: Tag[];
  spans: Span[];
  /** The calls a perfect model makes (search_calculate: the search, then `operation` on its figure). */
  calls: PlannedCall[];
  operation?: string;
}

type Piece = string | { kind: SpanKind; text: string };
type Rng = () => number;

/** Every fourth item is held out; the rest train (less the dev quarter while it is held out). */
function half<T>(items: T[], split: Split): T[] {
  if (split === "dev" && !devHeldOut) throw new Error("generator: the dev split needs holdOutDev(true)");
  return items.filter((_x, i) => {
    if (split === "test") return i % 4 === 3;
    if (split === "dev") return i % 4 === 2;
    return i % 4 !== 3 && !(devHeldOut && i % 4 === 2);
  });
}

function pick<T>(rng: Rng, items: T[]): T {
  return items[Math.floor(rng() * items.length)] as T;
}

function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

export const TOPICS = [
  "multi-head attention",
  "positional encoding",
  "layer normalization",
  "dropout",
  "beam search",
  "byte-pair encoding",
  "word embeddings",
  "the learning rate schedule",
  "warmup",
  "residual connections",
  "cross-entropy loss",
  "gradient clipping",
  "the KV cache",
  "hybrid retrieval",
  "reranking",
  "chunking documents",
  "generative adversarial networks",
  "variational autoencoders",
  "diffusion models",
  "the decoder",
  "the encoder",
  "softmax",
  "transformers",
  "few-shot prompting",
  "retrieval-augmented generation",
  "vector databases",
  "HNSW",
  "BM25",
  "fine-tuning",
  "LoRA",
  "quantization",
  "mixture of experts",
  "RLHF",
  "instruction tuning",
  "perplexity",
  "backpropagation",
  "the Adam optimizer",
  "weight decay",
  "batch normalization",
  "self-attention",
  "tokenizers",
  "the refund policy",
  "vacation days",
  "the onboarding process",
  "password resets",
  "API rate limits",
  "the quarterly revenue",
  "the release schedule",
  "the security audit",
  "expense reports",
  "the hiring plan",
  "the office hours",
  "shipping costs",
  "the warranty terms",
  "the data retention policy",
  "sick leave",
  "the deployment checklist",
  "the incident report",
  "customer churn",
  "the pricing tiers",
  "contrastive learning",
  "CLIP",
  "image captioning",
  "speech recognition",
  "top-p sampling",
  "temperature",
  "greedy decoding",
  "the context window",
  "scaled dot-product attention",
  "feed-forward layers",
  "label smoothing",
  "early stopping",
  "overfitting",
  "data augmentation",
  "knowledge distillation",
  "the vanishing gradient problem",
  "recurrent networks",
  "convolutional networks",
  "the attention mask",
  "causal masking",
  "teacher forcing",
  "the vocabulary size",
  "cosine similarity",
  "semantic search",
  "keyword search",
  "the embedding dimension",
  "model cards",
  "the travel policy",
  "remote work rules",
  "parental leave",
  "the code review process",
  "on-call duties",
  "the budget for next year",
  "the marketing plan",
  "GDPR compliance",
  "the backup strategy",
  "two-factor login",
];

/** Phrases that name a figure the documents hold, for search-then-calculate requests. */
const FIGURES = [
  "the number of attention heads in the base model",
  "the number of encoder layers",
  "the model dimension",
  "the feed-forward size",
  "the dropout rate",
  "the warmup steps",
  "the vocabulary size",
  "the batch size",
  "the number of employees",
  "the number of vacation days",
  "the price of the pro plan",
  "the monthly budget",
  "the context length",
  "the embedding size",
  "the number of decoder layers",
  "the learning rate",
  "the number of parameters",
  "the maximum file size",
  "the training steps",
  "the number of regions",
  "the refund window in days",
  "the team size",
  "the head dimension",
  "the number of experts",
  "the annual revenue",
  "the shipping fee",
  "the sick days per year",
  "the number of offices",
];

const FOLDERS = [
  "notes",
  "docs",
  "reports/2024",
  "src/utils",
  "examples",
  "data/raw",
  "drafts",
  "archive/old",
  "photos",
  "projects/alpha",
  "invoices",
  "meeting-notes/march",
  "research",
  "tmp",
  "backups/db",
  "designs/logo",
  "scripts",
  "configs",
  "clients/acme",
  "papers/nlp",
];

const FILES = [
  "notes/todo.md",
  "config.json",
  "README.md",
  "reports/q3-summary.txt",
  "data.csv",
  "plan.txt",
  "docs/setup.md",
  "letters/cover-letter.txt",
  "budget-2025.csv",
  "src/main.py",
  "notes/ideas.txt",
  "minutes.md",
  "contacts.csv",
  "recipes/pancakes.md",
  "travel/itinerary.txt",
  "changelog.md",
  "settings.yaml",
  "drafts/essay.md",
  "report.html",
  "inventory.json",
  "tasks/week-12.md",
  "log.txt",
  "specs/api-v2.md",
  "notes/reading-list.md",
];

const DOCUMENTS = [
  "attention-mechanism.md",
  "positional-encoding.md",
  "kv-cache.md",
  "langchain.md",
  "diffusion-models.md",
  "the-handbook.pdf",
  "glossary.csv",
  "employee-guide.docx",
  "retrieval-augmented-generation.md",
  "prompt-engineering.md",
  "decoding-strategies.md",
  "security-policy.pdf",
  "multi-head-attention.md",
  "onboarding.md",
  "backpropagation.md",
  "release-notes.md",
];

const SECTIONS = [
  "Introduction",
  "Overview",
  "Setup",
  "Limitations",
  "Training",
  "Results",
  "Installation",
  "FAQ",
  "Summary",
  "Background",
  "Examples",
  "Costs",
];

const GREETINGS = [
  "hi",
  "hello",
  "thanks",
  "thank you",
  "what can you do",
  "who are you",
  "help",
  "good morning",
  "hey",
  "what tools do you have",
  "how can you help me",
  "cheers",
  "what are you able to do",
  "greetings",
  "good evening",
  "thanks a lot",
  "hi there",
  "hello genera",
  "thank you so much",
  "what are your tools",
  "how does this work",
  "good afternoon",
  "many thanks",
  "who made you",
  "ok thanks",
  "nice, thank you",
  "what kind of things can you do",
  "howdy",
  "yo",
  "thanks, that helps",
  "great, thanks",
  "are you there",
  "good night",
  "hey there",
  "what's up",
  "hiya",
  "bye",
  "goodbye",
  "see you",
  "what can I ask you",
  "thx",
  "much appreciated",
  "you're great",
  "how are you",
];

/**
 * Tasks no tool serves, made of a verb and its objects; the verbs are split between
 * training and held-out requests, so a held-out refusal uses an action never seen.
 */
const ACTIONS: Array<[string, string[]]> = [
  ["book", ["a flight to Paris", "a hotel room in Oslo", "a table for two", "train tickets to Lyon"]],
  ["send", ["an email to my boss", "a text to Anna", "the invoice to the client", "flowers to my mother"]],
  ["order", ["a pizza", "new printer ink", "a taxi to the airport", "groceries for tonight"]],
  ["play", ["some jazz", "the next episode", "my running playlist", "a podcast about history"]],
  ["set", ["an alarm for 7 am", "a timer for ten minutes", "the thermostat to 21 degrees", "a reminder for Monday"]],
  ["turn off", ["the lights", "the heating", "the TV", "my phone"]],
  ["buy", ["ten shares of Apple", "a birthday present", "concert tickets", "a new laptop"]],
  ["call", ["my mother", "the dentist", "a plumber", "Tom on his mobile"]],
  ["post", ["this on Twitter", "a photo on Instagram", "an update on LinkedIn", "the news on our blog"]],
  ["delete", ["all my emails", "my account", "the old backups", "every photo from 2019"]],
  ["schedule", ["a meeting with Tom", "a call with the bank", "my dentist visit", "a team lunch"]],
  ["translate", ["this letter into French", "the menu into Spanish", "my CV into German", "this text to Italian"]],
  ["write", ["a poem about the sea", "a cover letter", "a wedding speech", "a short story about dragons"]],
  ["draw", ["a cat", "a map of the city", "a portrait of me", "a logo for my shop"]],
  ["pay", ["my electricity bill", "the rent", "the parking fine", "Sam back"]],
  ["cancel", ["my subscription", "the hotel booking", "tomorrow's meeting", "my gym membership"]],
  ["install", ["Photoshop", "the latest updates", "a new printer driver", "Minecraft"]],
  ["restart", ["the server", "my router", "the computer", "the database"]],
  ["rent", ["a car in Rome", "a bike for the weekend", "a flat in Berlin", "a boat"]],
  ["stream", ["the football match", "the concert live", "a movie", "the news"]],
  ["feed", ["the cat", "the fish", "the dog", "the birds"]],
  ["lock", ["the front door", "the car", "my screen", "the garage"]],
  ["email", ["the report to Sara", "my landlord", "the whole team", "customer support"]],
  ["remind", ["me to call Sam", "me to water the plants", "the team about Friday", "me of my passport renewal"]],
  ["sing", ["me a lullaby", "happy birthday", "a song about rain", "something cheerful"]],
  ["upload", ["my photos", "the video to YouTube", "this file to the cloud", "my homework"]],
  ["download", ["the movie", "the latest season", "that song", "the game"]],
  ["water", ["the plants", "the garden", "the lawn", "my tomatoes"]],
  ["hail", ["a taxi", "a cab", "a ride home", "an Uber"]],
  ["print", ["this page", "my boarding pass", "the contract", "two copies of the report"]],
  ["start", ["the car", "the washing machine", "the coffee maker", "the dishwasher"]],
  ["message", ["the team on Slack", "my sister", "the landlord on WhatsApp", "Bob"]],
  ["renew", ["my passport", "the car insurance", "my library books", "the domain name"]],
  ["share", ["my location", "this document with Ana", "my screen", "the photos with family"]],
  ["record", ["a voice memo", "the meeting", "a video of me", "my screen"]],
  ["predict", ["who wins the election", "tomorrow's stock prices", "the lottery numbers", "the weather next week"]],
  ["open", ["YouTube", "Spotify", "the garage door", "my banking app"]],
  ["wire", ["500 dollars to Bob", "the deposit to the landlord", "money to my account", "funds to Sam"]],
  ["tell", ["me a joke", "me the weather in London", "me the football score", "me a bedtime story"]],
  ["find", ["me a cheap hotel", "me a date for Friday", "a good restaurant nearby", "me a plumber"]],
  ["fix", ["my car", "the leaking tap", "my bike", "the broken window"]],
  ["clean", ["the kitchen", "my room", "the windows", "the car"]],
  ["cook", ["dinner for four", "a lasagna", "pancakes", "rice"]],
  ["drive", ["me to work", "the kids to school", "to the airport", "home"]],
  ["walk", ["the dog", "me through the park", "to the station", "the kids to school"]],
  ["vote", ["for me", "in the election", "on the proposal", "yes"]],
  ["mute", ["my microphone", "the group chat", "notifications", "the TV"]],
  ["charge", ["my phone", "the car", "the customer", "my credit card"]],
  // Added with the second generator; appended so the first held-out verbs stay held out.
  ["reserve", ["a campsite", "seats at the cinema", "a parking spot", "a meeting room"]],
  ["sell", ["my old bike", "the stocks", "my car", "these concert tickets"]],
  ["text", ["my brother", "the group", "Maria", "my landlord"]],
  ["dim", ["the lights", "the screen", "the lamp", "the bedroom lights"]],
  ["turn on", ["the fan", "the oven", "the radio", "the porch light"]],
  ["wake", ["me up at six", "the kids", "me in an hour", "me before noon"]],
  ["ship", ["this parcel to Madrid", "the order", "my package", "the samples"]],
  ["invite", ["Lisa to dinner", "the team to the party", "my neighbours", "Ben"]],
  ["subscribe", ["me to the newsletter", "to this channel", "to the premium plan", "me to updates"]],
  ["like", ["this post", "the photo", "her comment", "that video"]],
  ["dial", ["the office", "the front desk", "my husband", "the hotel"]],
  ["repair", ["the dishwasher", "my headphones", "the fence", "the roof"]],
  ["paint", ["the fence", "my nails", "the bedroom", "the garage door"]],
  ["bake", ["a cake", "some bread", "cookies", "a pie"]],
  ["wash", ["the dishes", "my car", "the laundry", "the dog"]],
  ["follow", ["her on Instagram", "this account", "the band", "me on GitHub"]],
  ["join", ["the video call", "the meeting", "the waitlist", "a gym"]],
  ["refund", ["my ticket", "the customer", "the order", "my purchase"]],
  ["transfer", ["100 euros to Paul", "my savings", "the domain", "the call"]],
  ["pick up", ["the kids", "my dry cleaning", "the parcel", "groceries"]],
  ["hire", ["a babysitter", "a lawyer", "movers", "a designer"]],
  ["sign", ["the contract", "me up for yoga", "this petition", "the lease"]],
  ["unlock", ["the door", "my phone", "the car", "the garage"]],
  ["vacuum", ["the living room", "the stairs", "the car", "my room"]],
  ["iron", ["my shirt", "the trousers", "the curtains", "the tablecloth"]],
  ["snooze", ["my alarm", "the reminder", "notifications", "the timer"]],
  ["forward", ["this email to Kim", "the call", "my mail", "the message"]],
  ["deliver", ["the package", "pizza to my house", "the letter", "flowers"]],
  ["dance", ["with me", "the tango", "for the camera", "a waltz"]],
  ["bet", ["on the horse", "ten dollars", "on the game", "on red"]],
  ["park", ["the car", "my bike", "in the garage", "the truck"]],
  ["mow", ["the lawn", "the grass", "the backyard", "the field"]],
];

function unsupportedTask(rng: Rng, split: Split): string {
  const [verb, objects] = pick(rng, half(ACTIONS, split));
  if (rng() < 0.3) return `${verb} ${pick(rng, ["the", "my", "a", "our", "this"])} ${word(rng, split)}`;
  return `${verb} ${pick(rng, objects)}`;
}

/** Arguments of generate_image: the generators are a closed set (the tool's enum), so none is held out. */
const DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];
const COUNT_WORDS = ["two", "three", "four", "five", "six", "eight", "ten", "twelve"];

const IMAGE_FRAMES = [
  "draw {n} {ks} with the {m}",
  "generate {n} images of the digit {k}",
  "sample {n} digits from the {m} model",
  "use the {m} to draw a {k}",
  "make {n} pictures of {ks}",
  "draw a {k}",
  "show me {n} samples from the {m}",
  "generate an image of the number {k} using {m}",
  "create {n} handwritten {ks}",
  "have the {m} draw {n} digits",
  "sketch a {k} with {m}",
  "produce {n} images with the {m} generator",
  "I'd like a picture of a {k}",
  "render {n} digits",
  "generate images with {m}",
  "draw me a handwritten {k} using the {m}",
];

/**
 * Made-up values, so the model learns an argument's extent from the words around it rather
 * than from the few topics and names listed above: English nouns (WordNet's, that are never
 * verbs or adverbs) from the sentencepiece vocabulary of USE-lite (it ships with genera),
 * minus every word of the frames and value lists, and split in two like everything else.
 * Values are named things, as real topics, paths and documents are; a frame's verbs and
 * connectives ("explain", "saying", "versus") never stand inside one, so the model can learn
 * them as frame words. Adjectives ({@link modifier}) only come before a noun.
 */
let englishWords: string[] | undefined;
let englishModifiers: string[] | undefined;
let englishVerbs: string[] | undefined;
let englishVerbalNouns: string[] | undefined;
function vocabularyWords(): { nouns: string[]; modifiers: string[]; verbs: string[]; verbalNouns: string[] } {
  if (!englishWords || !englishModifiers || !englishVerbs || !englishVerbalNouns) {
    const vocab = JSON.parse(readFileSync(join(defaultUseModelDir(), "vocab.json"), "utf8")) as Array<[string, number]>;
    const reserved = new Set(
      reservedTexts()
        .flatMap((t) => tokenizeRequest(t.toLowerCase()))
        .map((t) => t.text),
    );
    const plain = vocab
      .map(([piece]) => piece)
      .filter((p) => /^▁[a-z]{4,}$/.test(p))
      .map((p) => p.slice(1))
      .filter((w) => !reserved.has(w));
    const classes = wordNetClasses();
    englishWords = plain.filter(classes.isTopicNoun);
    englishModifiers = plain.filter(classes.isModifier);
    englishVerbs = plain.filter((w) => classes.isVerb(w) && !INFORMATION_VERBS.has(w));
    englishVerbalNouns = plain.filter(classes.isVerbalNoun);
  }
  return { nouns: englishWords, modifiers: englishModifiers, verbs: englishVerbs, verbalNouns: englishVerbalNouns };
}
function modifier(rng: Rng, split: Split): string {
  const modifiers = vocabularyWords().modifiers;
  if (split !== "train") return pick(rng, half(modifiers, split));
  trainingModifiers ??= withoutFamilyWords(modifiers);
  return pick(rng, trainingModifiers);
}
function words(split: Split): string[] {
  const nouns = vocabularyWords().nouns;
  if (split !== "train") return half(nouns, split);
  trainingWords ??= withoutFamilyWords(nouns);
  return trainingWords;
}
/** Training values also avoid the phrasing families' words (the held-out pool is left as it was). */
function withoutFamilyWords(pool: string[]): string[] {
  familyWords ??= new Set(
    [
      ...[SEARCH_FAMILIES, COMPARE_FAMILIES, SEARCH_CALC_FAMILIES, READ_DOC_FAMILIES, READ_FILE_FAMILIES]
        .flat()
        .flatMap(expand),
      ...[LIST_FAMILIES, REFUSE_FAMILIES, IMAGE_FAMILIES, REPLY_FAMILIES, DATE_FAMILIES].flat().flatMap(expand),
      ...MORE_ACTIONS.flatMap(([verb, objects]) => [verb, ...objects]),
    ].flatMap((t) => tokenizeRequest(t.toLowerCase()).map((w) => w.text)),
  );
  const family = familyWords;
  return half(pool, "train").filter((w) => !family.has(w));
}
let familyWords: Set<string> | undefined;
let trainingModifiers: string[] | undefined;
let trainingWords: string[] | undefined;

function reservedTexts(): string[] {
  const piece = (kind: SpanKind) => ({ kind, text: "x" });
  const frameText = (pieces: Piece[]) => pieces.map((p) => (typeof p === "string" ? p : "")).join(" ");
  return [
    ...TOPICS,
    ...FIGURES,
    ...FOLDERS,
    ...FILES,
    ...DOCUMENTS,
    ...SECTIONS,
    ...GREETINGS,
    ...DATE_TEXTS,
    ...LIST_NO_PATH,
    ...PREFIXES,
    ...SUFFIXES,
    ...DIGIT_WORDS,
    ...COUNT_WORDS,
    ...IMAGE_FRAMES,
    ...ACTIONS.flatMap(([verb, objects]) => [verb, ...objects]),
    ...[SEARCH_FRAMES, CALC_FRAMES, LIST_FRAMES, READ_FILE_FRAMES, REFUSE_FRAMES].flatMap((list) =>
      list.map((f) => frameText(f([piece("Q")]))),
    ),
    ...[COMPARE_FRAMES, TWO_CALC_FRAMES, SEARCH_CALC_FRAMES].flatMap((list) =>
      list.map((f) => frameText(f(piece("Q"), piece("E")))),
    ),
    ...READ_DOC_FRAMES.map((f) => frameText(f(piece("D"), piece("S")))),
    "multiply divide divided add plus subtract minus double halve square triple result times percent",
  ];
}

function word(rng: Rng, split: Split): string {
  return pick(rng, words(split));
}

function capital(w: string): string {
  return w.charAt(0).toUpperCase() + w.slice(1);
}

const SYNTHETIC_RATE = 0.5;

/** Words the families use around arguments, which a topic may still contain ("meeting notes"). */
export const FRAME_NOUNS = [
  "documents",
  "docs",
  "notes",
  "files",
  "records",
  "papers",
  "sources",
  "materials",
  "index",
  "texts",
];

function topic(rng: Rng, split: Split): string {
  // Training only (the held-out draws are unchanged): a topic that ends in a frame noun, so
  // the frame's words are not taken for the edge of a topic.
  if (split === "train" && rng() < 0.08) return `${word(rng, split)} ${pick(rng, FRAME_NOUNS)}`;
  if (split === "train" && rng() < VERBAL_NOUN_RATE) return verbalNounTopic(rng);
  if (rng() >= SYNTHETIC_RATE) return pick(rng, half(TOPICS, split));
  // Noun phrases, names and acronyms, as real topics are.
  const w = () => word(rng, split);
  const a = () => modifier(rng, split);
  return unlisted(split, () =>
    pick(rng, [
      () => w(),
      () => `${w()} ${w()}`,
      () => `the ${w()} ${w()}`,
      () => `the ${w()}`,
      () => `${w()} of ${w()}s`,
      () => `${w()}-${w()}`,
      () => `${w()} ${w()} ${w()}`,
      () => capital(w()),
      () => `${capital(w())} ${w()}`,
      () => acronym(rng, w),
      () => `${a()} ${w()}`,
      () => `the ${a()} ${w()}`,
      () => `${a()} ${w()} ${w()}`,
      () => `the ${w()} of the ${w()}`,
    ])(),
  );
}

/*
 * Training only: a topic that leads with a noun that is also a verb ("design review",
 * "change management"), as real topics often do. Made-up values are otherwise nouns that are
 * never verbs, and the model reads each word's classes (WordLexicon), so without these it
 * learnt that a noun-and-verb word always belongs to the frame and cut such topics to their
 * last word (most of the dev split's misses). Never a frame's word or a listed value's: the
 * pool is drawn from the made-up values' vocabulary, the training half only.
 */
const VERBAL_NOUN_RATE = 0.1;
let trainingVerbalNouns: string[] | undefined;
function verbalNounTopic(rng: Rng): string {
  trainingVerbalNouns ??= withoutFamilyWords(vocabularyWords().verbalNouns);
  const x = pick(rng, trainingVerbalNouns);
  const w = () => word(rng, "train");
  return unlisted("train", () =>
    pick(rng, [() => `${x} ${w()}`, () => `the ${x} ${w()}`, () => `${x} ${w()} ${w()}`, () => `${w()} ${x} ${w()}`])(),
  );
}

/**
 * A made-up value, drawn again in training while it is one of the held-out (or dev) listed
 * values: "the number of {noun}s" can make "the number of experts". Held-out draws are
 * unchanged.
 */
function unlisted(split: Split, make: () => string): string {
  heldOutListed ??= new Set(
    [TOPICS, FIGURES, FOLDERS, FILES, DOCUMENTS, SECTIONS].flatMap((pool) =>
      [...half(pool, "test"), ...(devHeldOut ? half(pool, "dev") : [])].map((v) => v.toLowerCase()),
    ),
  );
  let value = make();
  while (split === "train" && heldOutListed.has(value.toLowerCase())) value = make();
  return value;
}
let heldOutListed: Set<string> | undefined;

/** Initials, as "HNSW" or "LTS"; never a function word ("IT" would be no query at all). */
function acronym(rng: Rng, w: () => string): string {
  for (;;) {
    const initials = Array.from({ length: int(rng, 2, 4) }, () => w().charAt(0).toUpperCase()).join("");
    if (!isFunctionWord(initials)) return initials;
  }
}

function figure(rng: Rng, split: Split): string {
  if (rng() >= SYNTHETIC_RATE) return pick(rng, half(FIGURES, split));
  const w = () => word(rng, split);
  return unlisted(split, () =>
    pick(rng, [
      () => `the number of ${w()}s`,
      () => `the ${w()} ${w()}`,
      () => `the ${w()} size`,
      () => `the ${w()} rate`,
      () => `the maximum ${w()}`,
      () => `the ${w()}`,
      () => `the ${w()} of the ${w()}`,
    ])(),
  );
}

const EXTENSIONS = ["md", "txt", "csv", "json", "yaml", "py", "pdf", "html", "log", "ts", "docx", "xml"];

function folder(rng: Rng, split: Split): string {
  if (rng() >= SYNTHETIC_RATE) return pick(rng, half(FOLDERS, split));
  const w = () => word(rng, split);
  return unlisted(split, () =>
    pick(rng, [() => w(), () => `${w()}/${w()}`, () => `${w()}-${w()}`, () => `${w()}/${int(rng, 2015, 2030)}`])(),
  );
}

function file(rng: Rng, split: Split): string {
  if (rng() >= SYNTHETIC_RATE) return pick(rng, half(FILES, split));
  const w = () => word(rng, split);
  const ext = pick(rng, EXTENSIONS);
  return unlisted(split, () =>
    pick(rng, [() => `${w()}.${ext}`, () => `${w()}/${w()}.${ext}`, () => `${w()}-${w()}.${ext}`])(),
  );
}

function documentId(rng: Rng, split: Split): string {
  if (rng() >= SYNTHETIC_RATE) return pick(rng, half(DOCUMENTS, split));
  const w = () => word(rng, split);
  const ext = pick(rng, ["md", "md", "pdf", "docx", "txt", "html", "csv"]);
  return unlisted(split, () =>
    pick(rng, [() => `${w()}.${ext}`, () => `${w()}-${w()}.${ext}`, () => `the-${w()}-${w()}.${ext}`])(),
  );
}

function section(rng: Rng, split: Split): string {
  if (rng() >= SYNTHETIC_RATE) return pick(rng, half(SECTIONS, split));
  const w = () => capital(word(rng, split));
  return unlisted(split, () => pick(rng, [() => w(), () => `${w()} ${word(rng, split)}`, () => `${w()} and ${w()}`])());
}

const PREFIXES = [
  "",
  "",
  "",
  "please ",
  "can you ",
  "could you ",
  "hey, ",
  "quick question: ",
  "genera, ",
  "I need you to ",
];
const SUFFIXES = ["", "", "", "?", " please", ".", " for me", ", thanks", " now", "!"];

type Template = (v: Piece[]) => Piece[];

function frames(list: Array<[string, string]>): Template[] {
  return list.map(([before, after]) => (v) => [before, ...v, after]);
}

const SEARCH_FRAMES = frames([
  ["search the documents for ", ""],
  ["look up ", ""],
  ["find ", " in the docs"],
  ["what do the documents say about ", ""],
  ["search for ", ""],
  ["tell me about ", ""],
  ["explain ", ""],
  ["how does ", " work"],
  ["what is ", ""],
  ["find passages about ", ""],
  ["what do my notes say about ", ""],
  ["give me information on ", ""],
  ["I want to know about ", ""],
  ["describe ", ""],
  ["any info on ", ""],
  ["what are the docs saying on ", ""],
  ["look in the knowledge base for ", ""],
  ["why do we use ", ""],
  ["where is ", " described"],
  ["search ", ""],
  ["", ""],
  ["what's ", ""],
  ["find out about ", ""],
  ["read up on ", ""],
  ["check the documents about ", ""],
  ["what does the knowledge base know about ", ""],
  ["give me the passages on ", ""],
  ["show me what we have on ", ""],
  ["search our notes for ", ""],
  ["find information about ", ""],
  ["what can you tell me about ", ""],
  ["look for ", " in my documents"],
  ["pull up the passages on ", ""],
  ["I'm curious about ", ""],
  ["do the documents mention ", ""],
  ["is there anything on ", ""],
  ["dig up ", ""],
  ["research ", ""],
  ["what is known about ", ""],
  ["bring up ", ""],
  ["locate ", " in the knowledge base"],
  ["help me understand ", ""],
  ["what's written about ", ""],
  ["quote the docs on ", ""],
]);

const COMPARE_FRAMES: Array<(a: Piece, b: Piece) => Piece[]> = [
  (a, b) => ["compare ", a, " and ", b],
  (a, b) => ["what's the difference between ", a, " and ", b],
  (a, b) => ["search for ", a, " and for ", b],
  (a, b) => ["look up both ", a, " and ", b],
  (a, b) => ["find ", a, " as well as ", b, " in the docs"],
  (a, b) => ["how do ", a, " and ", b, " differ"],
  (a, b) => ["tell me about ", a, " and also ", b],
  (a, b) => [a, " versus ", b],
  (a, b) => ["contrast ", a, " with ", b],
  (a, b) => ["is ", a, " better than ", b],
  (a, b) => ["search both ", a, " and ", b],
  (a, b) => ["find ", a, " and ", b],
];

const CALC_FRAMES = frames([
  ["what is ", ""],
  ["what's ", ""],
  ["calculate ", ""],
  ["compute ", ""],
  ["how much is ", ""],
  ["work out ", ""],
  ["evaluate ", ""],
  ["solve ", ""],
  ["", " = ?"],
  ["", ""],
  ["quick math: ", ""],
  ["do the math: ", ""],
  ["figure out ", ""],
  ["what do you get for ", ""],
  ["tell me ", ""],
  ["what does ", " come to"],
  ["what is the result of ", ""],
  ["find the value of ", ""],
  ["give me ", ""],
  ["can you do ", ""],
  ["what's the answer to ", ""],
  ["how much does ", " make"],
  ["calc ", ""],
  ["", " equals what"],
  ["the result of ", ""],
  ["please compute ", ""],
  ["I'd like to know ", ""],
  ["what would ", " be"],
  ["crunch ", ""],
  ["what is ", " exactly"],
  ["answer ", ""],
  ["", " is how much"],
]);

const TWO_CALC_FRAMES: Array<(a: Piece, b: Piece) => Piece[]> = [
  (a, b) => ["what is ", a, " and ", b],
  (a, b) => ["calculate ", a, ", then ", b],
  (a, b) => ["compute ", a, " and also ", b],
  (a, b) => ["work out ", a, " as well as ", b],
  (a, b) => ["evaluate both ", a, " and ", b],
  (a, b) => ["what are ", a, " and ", b],
  (a, b) => [a, " and ", b, " please"],
  (a, b) => ["I need ", a, " and ", b],
  (a, b) => ["what are ", a, " and ", b, " each"],
  (a, b) => ["first ", a, ", then ", b],
  (a, b) => ["tell me ", a, " and ", b],
  (a, b) => ["both ", a, " and ", b],
];

const SEARCH_CALC_FRAMES: Array<(q: Piece, op: Piece) => Piece[]> = [
  (q, op) => ["find ", q, " in the documents and ", op],
  (q, op) => ["look up ", q, ", then ", op],
  (q, op) => ["take ", q, " from the docs and ", op],
  (q, op) => ["search for ", q, " and ", op],
  (q, op) => ["what is ", q, "? ", op],
  (q, op) => ["get ", q, " and ", op],
  (q, op) => ["check ", q, " in the knowledge base, then ", op],
  (q, op) => ["according to the docs, what is ", q, " ", op],
  (q, op) => ["using the documents, take ", q, " and ", op],
  (q, op) => ["find out ", q, " and ", op],
  (q, op) => ["search the documents for ", q, "; ", op],
  (q, op) => ["what do the docs give as ", q, "? ", op],
  (q, op) => ["look in the documents for ", q, " and ", op],
  (q, op) => ["use ", q, " from the documents and ", op],
  (q, op) => ["what's ", q, " according to my notes? ", op],
  (q, op) => ["pull ", q, " out of the docs, then ", op],
  (q, op) => ["once you find ", q, ", ", op],
  (q, op) => ["from the knowledge base, get ", q, " and ", op],
  (q, op) => ["find ", q, ", and ", op],
  (q, op) => ["search the docs for ", q, " then ", op],
];

const DATE_TEXTS = [
  "what's the date today",
  "what day is it",
  "what is today's date",
  "what time is it",
  "which day of the week is it",
  "tell me the current date",
  "date please",
  "what's the time now",
  "what year is it",
  "what month are we in",
  "give me today's date",
  "what is the current time",
  "what's today",
  "tell me the time",
  "which date is it today",
  "do you know what day it is",
  "current date and time",
  "what's the day today",
  "how late is it",
  "what date is it",
  "what's today's date",
  "tell me the date",
  "which day is today",
  "what's the current date",
  "is it monday today",
  "what day of the month is it",
  "today's date",
  "what hour is it",
  "give me the time",
  "date and time please",
  "what weekday is it",
  "the current time",
];

const LIST_FRAMES = frames([
  ["list the files in ", ""],
  ["what files are in ", ""],
  ["show me what's in ", ""],
  ["ls ", ""],
  ["what's inside ", ""],
  ["list ", ""],
  ["show the contents of the folder ", ""],
  ["which files do I have in ", ""],
  ["list everything under ", ""],
  ["what is in the directory ", ""],
  ["browse ", ""],
  ["show the folder ", ""],
  ["enumerate the files in ", ""],
  ["what documents are in the folder ", ""],
  ["give me a listing of ", ""],
  ["look inside ", ""],
  ["show me the files in ", ""],
  ["what's under ", ""],
  ["list the contents of ", ""],
  ["dir ", ""],
  ["open the folder ", ""],
  ["files in ", ""],
  ["what does the folder ", " contain"],
  ["show the directory ", ""],
]);

const LIST_NO_PATH = [
  "list my files",
  "what files do you have",
  "show me the files",
  "list the files",
  "what files can you see",
  "show me the folder",
  "which files are there",
  "list all files",
  "what's in the root folder",
  "show your files",
  "ls",
  "list the directory",
  "what files are there",
  "show all files",
  "list everything",
  "which files can you read",
];

const READ_FILE_FRAMES = frames([
  ["read ", ""],
  ["open ", ""],
  ["show me ", ""],
  ["cat ", ""],
  ["what does ", " say"],
  ["print the file ", ""],
  ["display ", ""],
  ["read the file ", ""],
  ["what's in the file ", ""],
  ["open the file called ", ""],
  ["show the contents of ", ""],
  ["let me see ", ""],
  ["read me ", ""],
  ["get the text of ", ""],
  ["view ", ""],
  ["load ", ""],
  ["print ", ""],
  ["show me the file ", ""],
  ["what's written in ", ""],
  ["read out ", ""],
  ["output the contents of ", ""],
  ["open up ", ""],
  ["I want to read ", ""],
  ["dump ", ""],
  ["show the text of ", ""],
  ["read through ", ""],
  ["what is in ", ""],
  ["type out ", ""],
]);

const READ_DOC_FRAMES: Array<(d: Piece, s?: Piece) => Piece[]> = [
  (d) => ["read the document ", d],
  (d) => ["show me the whole ", d, " document"],
  (d) => ["open the document ", d],
  (d) => ["read ", d, " from the knowledge base"],
  (d) => ["give me the full text of the document ", d],
  (d, s) => ["read the ", s ?? "", " section of the document ", d],
  (d, s) => ["show the section ", s ?? "", " of document ", d],
  (d, s) => ["in the document ", d, ", read the ", s ?? "", " section"],
  (d) => ["print the indexed document ", d],
  (d) => ["fetch the document ", d, " in full"],
  (d, s) => ["what does the document ", d, " say in its ", s ?? "", " section"],
  (d) => ["the complete document ", d, " please"],
  (d) => ["show the indexed document ", d],
  (d) => ["display the document ", d],
  (d, s) => ["read section ", s ?? "", " of ", d],
  (d, s) => ["jump to the ", s ?? "", " section in ", d],
  (d) => ["give me the document ", d],
  (d, s) => ["show me ", s ?? "", " in the document ", d],
  (d) => ["read all of the document ", d],
  (d) => ["pull up the document ", d],
  (d, s) => ["what's in the ", s ?? "", " part of ", d],
  (d) => ["open the indexed file ", d],
  (d) => ["the text of document ", d],
  (d, s) => ["the ", s ?? "", " section of ", d, " please"],
];

const REFUSE_FRAMES = frames([
  ["", ""],
  ["please ", ""],
  ["can you ", ""],
  ["I want you to ", ""],
  ["go ahead and ", ""],
  ["could you ", " for me"],
  ["I'd like you to ", ""],
  ["", " right now"],
  ["help me ", ""],
  ["", " please"],
  ["would you ", ""],
  ["quickly ", ""],
  ["would you please ", ""],
  ["I'd love it if you could ", ""],
  ["you should ", ""],
  ["just ", ""],
  ["", " asap"],
  ["", " immediately"],
  ["make sure to ", ""],
  ["try to ", ""],
]);

/** Arithmetic written the ways people write it, with the symbols the calculator should receive. */
function expression(rng: Rng, split: Split): { words: string; symbols: string } {
  // Numbers in the held-out set come from another range, so values are new too.
  const n = () => String(split === "train" ? int(rng, 2, 99) : int(rng, 100, 999));
  const d = () =>
    split === "train" ? `${int(rng, 1, 9)}.${int(rng, 1, 9)}` : `${int(rng, 10, 99)}.${int(rng, 10, 99)}`;
  const a = n();
  const b = n();
  const c = n();
  const forms: Array<() => { words: string; symbols: string }> = [
    () => ({ words: `${a} + ${b}`, symbols: `${a} + ${b}` }),
    () => ({ words: `${a}*${b}`, symbols: `${a} * ${b}` }),
    () => ({ words: `${a} - ${b} * ${c}`, symbols: `${a} - ${b} * ${c}` }),
    () => ({ words: `(${a} + ${b}) * ${c}`, symbols: `(${a} + ${b}) * ${c}` }),
    () => ({ words: `${a} / ${b}`, symbols: `${a} / ${b}` }),
    () => ({ words: `${a}^${int(rng, 2, 5)}`.replace(/\^(\d)$/, " ^ $1"), symbols: "" }),
    () => ({ words: `${a} times ${b}`, symbols: `${a} * ${b}` }),
    () => ({ words: `${a} plus ${b}`, symbols: `${a} + ${b}` }),
    () => ({ words: `${a} minus ${b}`, symbols: `${a} - ${b}` }),
    () => ({ words: `${a} divided by ${b}`, symbols: `${a} / ${b}` }),
    () => ({ words: `${a} multiplied by ${b}`, symbols: `${a} * ${b}` }),
    () => ({ words: `${a} percent of ${b}`, symbols: `${a}% of ${b}` }),
    () => ({ words: `${a}% of ${b}`, symbols: `${a}% of ${b}` }),
    () => ({ words: `the square root of ${a}`, symbols: `sqrt(${a})` }),
    () => ({ words: `sqrt(${a}) + ${b}`, symbols: `sqrt(${a}) + ${b}` }),
    () => ({ words: `${a} squared`, symbols: `${a} ^ 2` }),
    () => ({ words: `${a} to the power of ${int(rng, 2, 6)}`, symbols: "" }),
    () => ({ words: `${d()} * ${b}`, symbols: "" }),
    () => ({ words: `${a} + ${b} + ${c}`, symbols: `${a} + ${b} + ${c}` }),
    () => ({ words: `${b} + ${a}%`, symbols: `${b} + ${a}%` }),
    () => ({ words: `round(${d()} * ${a}, 2)`, symbols: "" }),
    () => ({ words: `${a} over ${b}`, symbols: `${a} / ${b}` }),
  ];
  const form = pick(rng, forms)();
  // Forms whose symbols depend on the random parts they drew are read back from the words.
  return { words: form.words, symbols: form.symbols || mathFromWords(form.words) };
}

function operation(rng: Rng, split: Split): { words: string; symbols: string } {
  const n = String(split === "train" ? int(rng, 2, 99) : int(rng, 100, 999));
  const forms: Array<[string, string]> = [
    [`multiply it by ${n}`, `* ${n}`],
    [`times ${n}`, `* ${n}`],
    [`divide it by ${n}`, `/ ${n}`],
    [`divided by ${n}`, `/ ${n}`],
    [`add ${n}`, `+ ${n}`],
    [`plus ${n}`, `+ ${n}`],
    [`subtract ${n}`, `- ${n}`],
    [`minus ${n}`, `- ${n}`],
    ["double it", "* 2"],
    ["halve it", "/ 2"],
    ["square it", "^ 2"],
    [`multiply that by ${n}`, `* ${n}`],
    [`divide that by ${n}`, `/ ${n}`],
    ["triple it", "* 3"],
    [`add ${n}% to it`, `+ ${n}%`],
    [`multiply the result by ${n}`, `* ${n}`],
  ];
  const [words, symbols] = pick(rng, forms);
  return { words, symbols };
}

function build(rng: Rng, intent: Intent, pieces: Piece[], prefix = "", suffix = ""): Omit<ToolExample, "calls"> {
  let text = "";
  const spans: Array<{ kind: SpanKind; start: number; end: number }> = [];
  // "can you what is …" is not English: questions only take the prefixes that fit a question.
  const first = typeof pieces[0] === "string" ? pieces[0] : "";
  if (
    /^(what|how|which|why|where|who|do|according|in the|is|i|i'd|i'm|once|from|first|both|the)\b/i.test(first) &&
    !/^(hey, |quick question: |genera, )$/.test(prefix)
  ) {
    prefix = "";
  }
  for (const piece of [prefix, ...pieces, suffix]) {
    if (typeof piece === "string") text += piece;
    else {
      spans.push({ kind: piece.kind, start: text.length, end: text.length + piece.text.length });
      text += piece.text;
    }
  }
  text = text.replace(/\s+$/, "");
  if (rng() < 0.5) text = text.charAt(0).toUpperCase() + text.slice(1);
  const tokens = tokenizeRequest(text);
  const tags: Tag[] = tokens.map((t) => {
    const span = spans.find((s) => t.start >= s.start && t.end <= s.end);
    if (!span) return "O";
    const first = !tokens.some((u) => u.start >= span.start && u.end <= span.end && u.start < t.start);
    return `${first ? "B" : "I"}-${span.kind}` as Tag;
  });
  return { text, intent, tags, spans: spans.map((s) => ({ kind: s.kind, text: text.slice(s.start, s.end) })) };
}

function oneExample(rng: Rng, split: Split, intent: Intent): ToolExample {
  // Training requests also come from the phrasing families (the held-out path draws exactly as before).
  if (split === "train" && intent in FAMILY_INTENTS && rng() < FAMILY_RATE) return familyExample(rng, intent);
  const pre = () => pick(rng, half(PREFIXES, "train"));
  const post = () => pick(rng, SUFFIXES);
  const built = (pieces: Piece[], prefix?: string, suffix?: string) => build(rng, intent, pieces, prefix, suffix);
  let ex: Omit<ToolExample, "calls">;
  let check: string | undefined;
  let operation_: string | undefined;
  switch (intent) {
    case "search": {
      if (rng() < 0.2) {
        const [a, b] = [topic(rng, split), topic(rng, split)];
        ex = built(
          pick(rng, half(COMPARE_FRAMES, split))({ kind: "Q", text: a }, { kind: "Q", text: b }),
          pre(),
          post(),
        );
      } else {
        ex = built(pick(rng, half(SEARCH_FRAMES, split))([{ kind: "Q", text: topic(rng, split) }]), pre(), post());
      }
      break;
    }
    case "calculate": {
      if (rng() < 0.2) {
        const [a, b] = [expression(rng, split), expression(rng, split)];
        ex = built(
          pick(rng, half(TWO_CALC_FRAMES, split))({ kind: "E", text: a.words }, { kind: "E", text: b.words }),
          pre(),
          post(),
        );
        check = [a.symbols, b.symbols].map(spaceOperators).join(" | ");
      } else {
        const e = expression(rng, split);
        ex = built(pick(rng, half(CALC_FRAMES, split))([{ kind: "E", text: e.words }]), pre(), post());
        check = spaceOperators(e.symbols);
      }
      break;
    }
    case "search_calculate": {
      const op = operation(rng, split);
      const frame = pick(rng, half(SEARCH_CALC_FRAMES, split));
      ex = built(
        frame({ kind: "Q", text: figure(rng, split) }, { kind: "E", text: op.words }),
        pre(),
        pick(rng, ["", ".", "", "!"]),
      );
      operation_ = op.symbols;
      break;
    }
    case "date":
      ex = built([pick(rng, dateTexts(split))], pre(), post());
      break;
    case "list_files":
      ex =
        rng() < 0.2
          ? built([pick(rng, half(LIST_NO_PATH, split))], pre(), post())
          : built(pick(rng, half(LIST_FRAMES, split))([{ kind: "P", text: folder(rng, split) }]), pre(), post());
      break;
    case "read_file":
      ex = built(pick(rng, half(READ_FILE_FRAMES, split))([{ kind: "P", text: file(rng, split) }]), pre(), post());
      break;
    case "read_document": {
      const frame = pick(rng, half(READ_DOC_FRAMES, split));
      const sectionName = frame.length > 1 ? section(rng, split) : undefined;
      const pieces = frame(
        { kind: "D", text: documentId(rng, split) },
        sectionName ? { kind: "S", text: sectionName } : undefined,
      );
      ex = built(
        pieces.filter((p) => p !== ""),
        pre(),
        post(),
      );
      break;
    }
    case "refuse":
      ex = built(pick(rng, half(REFUSE_FRAMES, split))([unsupportedTask(rng, split)]), "", post());
      break;
    case "reply":
      ex = built([pick(rng, replies(split))], "", pick(rng, ["", "!", "?", "."]));
      break;
    case "generate_image":
      ex = built(imagePieces(rng, split), pre(), post());
      break;
  }
  return checked(ex, check, operation_);
}

/** The gold calls of a built request, checked against the expression or operation it was made from. */
function checked(ex: Omit<ToolExample, "calls">, check?: string, operation_?: string): ToolExample {
  const plan = planCalls(ex.intent, ex.spans, ex.text);
  if (check !== undefined) {
    const got = plan.calls.map((c) => c.args.expression).join(" | ");
    if (got !== check) throw new Error(`generator: "${ex.text}" reads as ${got}, expected ${check}`);
  }
  if (operation_ !== undefined && plan.operation !== operation_) {
    throw new Error(`generator: "${ex.text}" reads as operation ${plan.operation}, expected ${operation_}`);
  }
  return { ...ex, calls: plan.calls, ...(plan.operation ? { operation: plan.operation } : {}) };
}

/** A generate_image request: the frame's {m}, {n} and {k} ({ks}: plural) become a model, a count and a digit span. */
function imagePieces(rng: Rng, split: Split, frame = pick(rng, half(IMAGE_FRAMES, split))): Piece[] {
  const count = () => {
    // Held-out counts are all new values (17–64); the words name small counts, so train only.
    if (split !== "train") return String(int(rng, 17, 64));
    if (rng() < 0.3) return pick(rng, half(COUNT_WORDS, split));
    return String(int(rng, 2, 16));
  };
  const digit = (plural: boolean) => {
    const d = int(rng, 0, 9);
    const text = rng() < 0.5 ? String(d) : (DIGIT_WORDS[d] as string);
    return plural ? `${text}${text === "six" ? "es" : "s"}` : text;
  };
  const pieces: Piece[] = [];
  for (const part of frame.split(/(\{(?:m|n|k|ks)\})/)) {
    if (part === "{m}") pieces.push({ kind: "M", text: pick(rng, [...IMAGE_GENERATOR_NAMES]) });
    else if (part === "{n}") pieces.push({ kind: "N", text: count() });
    else if (part === "{k}" || part === "{ks}") pieces.push({ kind: "K", text: digit(part === "{ks}") });
    else if (part) pieces.push(part);
  }
  return pieces;
}

/** How often each intent appears: the ones with arguments to copy get more examples. */
const MIX: Array<[Intent, number]> = [
  ["search", 4],
  ["calculate", 4],
  ["search_calculate", 3],
  ["read_file", 2],
  ["list_files", 2],
  ["read_document", 2],
  ["date", 1],
  ["refuse", 3],
  ["reply", 1],
  ["generate_image", 2],
];

export function generateToolDataset(
  split: Split,
  count: number,
  seed = split === "train" ? 1 : 2,
  options: { frameSynonyms?: boolean } = {},
): ToolExample[] {
  const rng = seededRandom(seed);
  const total = MIX.reduce((s, [, w]) => s + w, 0);
  const out: ToolExample[] = [];
  for (let i = 0; i < count; i++) {
    let r = rng() * total;
    let intent = MIX[0]?.[0] as Intent;
    for (const [candidate, weight] of MIX) {
      intent = candidate;
      r -= weight;
      if (r < 0) break;
    }
    out.push(oneExample(rng, split, intent));
  }
  if (split === "train" && options.frameSynonyms) {
    // Its own stream, so the requests drawn above stay the same with or without synonyms.
    const swapRng = seededRandom(seed + 7919);
    return out.map((ex) => (swapRng() < SYNONYM_RATE ? withFrameSynonyms(swapRng, ex) : ex));
  }
  return out;
}

/*
 * Frame-word synonyms (training only; frameSynonyms.ts): a share of the training rows have
 * some of their frame words (never an argument's) swapped for a WordNet synonym, so the
 * model meets frame words it cannot have memorised, as every held-out frame brings some.
 * Off by default (the shipped checkpoint was trained without it; see bench/README #15).
 * Refusals keep their words (on the dev split, swapping theirs too did not help), a row whose
 * calls would change keeps its words, and no synonym is a word of the held-out frames, verbs
 * or values (nor of the dev ones while they are held out).
 */
const SYNONYM_RATE = 0.3;
const SYNONYM_WORD_RATE = 0.5;
/** Question words and auxiliaries: swapping them ("what do we have" → "what make we have") only garbles the frame. */
const KEPT_WORDS = new Set(
  (
    "what which who whom whose how why where when whether do does did done is are was were be been being am " +
    "have has had can could would will should shall may might must let get got give make need want like " +
    "there here i we you us they them he she him her up out one not no yes just more much many very too"
  ).split(" "),
);
let synonyms: SynonymLookup | undefined;
let synonymBlocked: Set<string> | undefined;

function withFrameSynonyms(rng: Rng, ex: ToolExample): ToolExample {
  if (ex.intent === "refuse") return ex;
  synonyms ??= wordNetSynonyms();
  synonymBlocked ??= blockedSynonyms();
  const lookup = synonyms;
  const blocked = synonymBlocked;
  const tokens = tokenizeRequest(ex.text);
  let text = "";
  let at = 0;
  let swapped = false;
  tokens.forEach((t, i) => {
    const lower = t.text.toLowerCase();
    if (ex.tags[i] !== "O" || !/^[a-z]{3,}$/i.test(t.text) || KEPT_WORDS.has(lower) || isFunctionWord(lower)) return;
    const options = lookup(lower).filter((w) => !blocked.has(w) && !KEPT_WORDS.has(w) && !isFunctionWord(w));
    if (options.length === 0 || rng() >= SYNONYM_WORD_RATE) return;
    const synonym = pick(rng, options);
    text += ex.text.slice(at, t.start) + (/^[A-Z]/.test(t.text) ? capital(synonym) : synonym);
    at = t.end;
    swapped = true;
  });
  if (!swapped) return ex;
  text += ex.text.slice(at);
  // Single-word synonyms keep the token count, so each token keeps its tag.
  if (tokenizeRequest(text).length !== tokens.length) return ex;
  const plan = planCalls(ex.intent, ex.spans, text);
  const same =
    JSON.stringify(plan.calls) === JSON.stringify(ex.calls) && (plan.operation ?? undefined) === ex.operation;
  return same ? { ...ex, text } : ex;
}

/** Words no synonym may be: the held-out (and dev) frames' own words and values, their unsupported verbs, every made-up value word. */
function blockedSynonyms(): Set<string> {
  const heldOutActions = [...half(ACTIONS, "test"), ...(devHeldOut ? half(ACTIONS, "dev") : [])];
  const heldOutValues = [TOPICS, FIGURES, FOLDERS, FILES, DOCUMENTS, SECTIONS].flatMap((pool) => [
    ...half(pool, "test"),
    ...(devHeldOut ? half(pool, "dev") : []),
  ]);
  const { nouns, modifiers, verbs } = vocabularyWords();
  return new Set([
    ...heldOutOnlyWords(),
    ...heldOutValues.flatMap((v) => tokenizeRequest(v.toLowerCase()).map((t) => t.text)),
    ...heldOutActions.flatMap(([verb, objects]) => [verb, ...objects].flatMap(frameTokens)),
    ...nouns,
    ...modifiers,
    ...verbs,
  ]);
}

/*
 * Training-only phrasing families (phrasingFamilies.ts), kept away from the held-out
 * frames by a guard that is checked mechanically (tests/agents/toolPlan.test.ts): a family
 * frame is dropped when it
 *   1. uses a word that only the held-out frames use (so "versus" or "saying" never
 *      appear in training however the families are written),
 *   2. shares a three-token run with a held-out frame that no original training frame has
 *      (no copied phrase, such as "from the knowledge base"), or
 *   3. is within one token edit of a held-out frame.
 * Slots count as one token, whatever their kind.
 */

const FAMILY_RATE = 0.5;
const SLOT = "zslotz";

const FAMILY_INTENTS: Partial<Record<Intent, true>> = {
  search: true,
  search_calculate: true,
  read_document: true,
  read_file: true,
  list_files: true,
  refuse: true,
  generate_image: true,
};

function frameTokens(text: string): string[] {
  return tokenizeRequest(text.toLowerCase().replace(/\{[a-z]+\}/g, ` ${SLOT} `)).map((t) => t.text);
}

/** The frames of every pool, as token lists with slots, for one split. */
function poolFrames(split: Split): string[][] {
  const slot = (kind: SpanKind): Piece => ({ kind, text: SLOT });
  const text = (pieces: Piece[]) => pieces.map((p) => (typeof p === "string" ? p : ` ${p.text} `)).join("");
  const texts = [
    ...[SEARCH_FRAMES, CALC_FRAMES, LIST_FRAMES, READ_FILE_FRAMES, REFUSE_FRAMES].flatMap((list) =>
      half(list, split).map((f) => text(f([slot("Q")]))),
    ),
    ...[COMPARE_FRAMES, TWO_CALC_FRAMES, SEARCH_CALC_FRAMES].flatMap((list) =>
      half(list, split).map((f) => text(f(slot("Q"), slot("E")))),
    ),
    ...half(READ_DOC_FRAMES, split).map((f) => text(f(slot("D"), slot("S")))),
    ...half(IMAGE_FRAMES, split),
    ...half(GREETINGS, split),
    ...half(DATE_TEXTS, split),
    ...half(LIST_NO_PATH, split),
  ];
  return texts.map(frameTokens);
}

/** Equal, or one token substituted, inserted or deleted. */
function withinOneEdit(a: string[], b: string[]): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const rest = (x: string[], y: string[]) => x.slice(i + (x.length >= y.length ? 1 : 0)).join(" ");
  if (a.length === b.length) return i === a.length || a.slice(i + 1).join(" ") === b.slice(i + 1).join(" ");
  return rest(a, b) === rest(b, a);
}

const trigrams = (tokens: string[]) => tokens.slice(2).map((_t, i) => tokens.slice(i, i + 3).join(" "));

/** Words that only the held-out (and, while it is held out, the dev) frames use. */
export function heldOutOnlyWords(): Set<string> {
  const heldOut = [...poolFrames("test"), ...(devHeldOut ? poolFrames("dev") : [])];
  const training = poolFrames("train");
  const trainingWords = new Set([...training.flat(), ...[...PREFIXES, ...SUFFIXES].flatMap(frameTokens), SLOT]);
  return new Set(heldOut.flat().filter((w) => !trainingWords.has(w)));
}

/** Why a training frame comes too near the held-out frames, or undefined when it does not. */
export function phrasingGuard(): (frame: string) => string | undefined {
  const heldOut = [...poolFrames("test"), ...(devHeldOut ? poolFrames("dev") : [])];
  const training = poolFrames("train");
  const heldOutOnly = heldOutOnlyWords();
  const trainingTrigrams = new Set(training.flatMap(trigrams));
  const heldOutTrigrams = new Set(heldOut.flatMap(trigrams).filter((g) => !trainingTrigrams.has(g)));
  return (frame) => {
    const tokens = frameTokens(frame);
    const word = tokens.find((w) => heldOutOnly.has(w));
    if (word) return `uses "${word}", a word only held-out frames use`;
    const gram = trigrams(tokens).find((g) => heldOutTrigrams.has(g));
    if (gram) return `copies "${gram}" from a held-out frame`;
    const near = heldOut.find((h) => withinOneEdit(tokens, h));
    if (near) return `is one edit from the held-out frame "${near.join(" ")}"`;
    return undefined;
  };
}

/** Greetings and date questions: the pools' own, plus (training) the families' that pass the guard. */
function replies(split: Split): string[] {
  return split !== "train" ? half(GREETINGS, split) : [...half(GREETINGS, split), ...trainingFamilyFrames().reply];
}
function dateTexts(split: Split): string[] {
  return split !== "train" ? half(DATE_TEXTS, split) : [...half(DATE_TEXTS, split), ...trainingFamilyFrames().date];
}

/** The families' frames that pass the guard, by pool (computed once, on first use). */
let familyFrames: Record<string, string[]> | undefined;
export function trainingFamilyFrames(): Record<string, string[]> {
  if (familyFrames) return familyFrames;
  const guard = phrasingGuard();
  const keep = (patterns: string[]) => [...new Set(patterns.flatMap(expand))].filter((f) => !guard(f));
  familyFrames = {
    search: keep(SEARCH_FAMILIES),
    compare: keep(COMPARE_FAMILIES),
    search_calculate: keep(SEARCH_CALC_FAMILIES),
    read_document: keep(READ_DOC_FAMILIES),
    read_file: keep(READ_FILE_FAMILIES),
    list_files: keep(LIST_FAMILIES),
    refuse: keep(REFUSE_FAMILIES),
    generate_image: keep(IMAGE_FAMILIES),
    reply: keep(REPLY_FAMILIES),
    date: keep(DATE_FAMILIES),
  };
  return familyFrames;
}

/** Unsupported tasks for training: ACTIONS' training verbs and MORE_ACTIONS (minus any verb ACTIONS holds out). */
let trainingActions: Array<[string, string[]]> | undefined;
function familyTask(rng: Rng): string {
  if (!trainingActions) {
    const heldOutVerbs = new Set(
      [...half(ACTIONS, "test"), ...(devHeldOut ? half(ACTIONS, "dev") : [])].map(([verb]) => verb),
    );
    const known = new Set(ACTIONS.map(([verb]) => verb));
    const clean = ([verb, objects]: [string, string[]]) =>
      !known.has(verb) && ![verb, ...objects].some((t) => frameTokens(t).some((w) => heldOutVerbs.has(w)));
    trainingActions = [...half(ACTIONS, "train"), ...MORE_ACTIONS.filter(clean)];
  }
  // Any other action verb on a named thing: what makes a request unsupported is its verb.
  if (rng() < ACTION_VERB_RATE) {
    trainingVerbs ??= withoutFamilyWords(vocabularyWords().verbs);
    return `${pick(rng, trainingVerbs)} ${pick(rng, ["the", "my", "a", "our", "this", "these"])} ${word(rng, "train")}`;
  }
  const [verb, objects] = pick(rng, trainingActions);
  if (rng() < 0.3) return `${verb} ${pick(rng, ["the", "my", "a", "our", "this"])} ${word(rng, "train")}`;
  return `${verb} ${pick(rng, objects)}`;
}
let trainingVerbs: string[] | undefined;
const ACTION_VERB_RATE = 0.35;
/**
 * Verbs of finding out, reading or working out (a request made of one asks for something
 * the tools do) and of small talk: they never make up an unsupported task.
 */
const INFORMATION_VERBS = new Set(
  (
    "investigate examine study review analyze analyse summarize summarise learn discover explore understand " +
    "compare check consult scan browse read note mention cite quote recall remember know tell show find seek " +
    "search look list open view display print fetch retrieve locate identify define describe explain clarify " +
    "calculate compute count estimate measure evaluate solve multiply divide subtract sum total average " +
    "answer ask inquire enquire research query lookup report outline detail inform teach brief assess " +
    "discuss consider determine interpret verify confirm thank greet welcome"
  ).split(" "),
);

/** A training request from a family frame: its slots filled with training values. */
function familyExample(rng: Rng, intent: Intent): ToolExample {
  const frames = trainingFamilyFrames();
  const compare = intent === "search" && rng() < 0.2;
  const frame = pick(rng, frames[compare ? "compare" : intent] as string[]);
  let operation_: string | undefined;
  let pieces: Piece[];
  if (intent === "generate_image") pieces = imagePieces(rng, "train", frame);
  else {
    pieces = frame
      .split(/(\{[a-z]+\})/)
      .filter(Boolean)
      .map((part): Piece => {
        switch (part) {
          case "{q}":
            return { kind: "Q", text: intent === "search_calculate" ? figure(rng, "train") : topic(rng, "train") };
          case "{a}":
          case "{b}":
            return { kind: "Q", text: topic(rng, "train") };
          case "{op}": {
            const op = operation(rng, "train");
            operation_ = op.symbols;
            return { kind: "E", text: op.words };
          }
          case "{p}":
            return { kind: "P", text: intent === "read_file" ? file(rng, "train") : folder(rng, "train") };
          case "{d}":
            return { kind: "D", text: documentId(rng, "train") };
          case "{s}":
            return { kind: "S", text: section(rng, "train") };
          case "{task}":
            return familyTask(rng);
          default:
            return part;
        }
      });
  }
  const prefix = intent === "refuse" ? "" : pick(rng, half(PREFIXES, "train"));
  const suffix = intent === "search_calculate" ? pick(rng, ["", ".", "!"]) : pick(rng, SUFFIXES);
  return checked(build(rng, intent, pieces, prefix, suffix), undefined, operation_);
}

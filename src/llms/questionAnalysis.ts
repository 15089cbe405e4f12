/**
 * What a question asks, read from its wording (English) for the extractive answerer: its type
 * and the kind of value it expects, its subject and property, the names it uses and the words
 * that only frame the answer ("how long", "which version"). Pure functions of the question text.
 */
import { contentTerms, wordTokens } from "./textUnits.js";

/** What a question asks for, read from its first words. */
export interface QuestionShape {
  /** "which": the answer names a thing (a document's title when the documents are one per thing). */
  type: "which" | "who" | "when" | "where" | "quantity" | "definition" | "how" | "why" | "yesno" | "other";
  /** Short-answer types are answered with fewer sentences. */
  factoid: boolean;
  /**
   * What the answer must state, when the question says: a number ("How many …", "Which version
   * …"), a year ("What year …") or a person ("Who …?"). A unit that states none cannot answer,
   * however well it matches.
   */
  expects?: "number" | "year" | "person";
}

const AUXILIARY =
  /^(is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|of|one|ones|kind|way|ways|type|types|a|an|the|happens|happened)$/;

/** Verbs that end a "which <noun phrase>" question opening. */
const VERB_AFTER_WH =
  /^(stands?|means?|makes?|gives?|uses?|takes?|sets?|gets?|holds?|contains?|did|does|won|came|comes|appears?)$/;

/** The question's type from its wording (English). */
export function questionShape(question: string): QuestionShape {
  const shape = shapeOf(question);
  const expects = expectedAnswer(question);
  return expects === undefined ? shape : { ...shape, expects };
}

/** Nouns that name a number when a question asks "what/which <noun>": "Which Chrome version …", "What share of …". */
const NUMBER_NOUNS = /^(?:number|numbers|version|versions|percentage|percent|fraction|share|count|ratio|factor|port)$/;

/** Quantities asked with "how": "How many …", "How long …" (not "How do I …"). */
const HOW_QUANTITY = /^how (?:many|much|long|big|large|heavy|old|often|tall|wide|fast|far)\b/;

/** What kind of value the answer must state, when the question's opening says (see QuestionShape.expects). */
export function expectedAnswer(question: string): QuestionShape["expects"] {
  if (/^\s*(?:who|whom)\b/i.test(question)) return "person";
  if (HOW_QUANTITY.test(lastClause(question))) return "number";
  // "which Chrome version", "what year".
  const phrase = whPhrase(question, 3)?.phrase ?? [];
  if (phrase.some((w) => w === "year" || w === "years")) return "year";
  return phrase.some((w) => NUMBER_NOUNS.test(w)) ? "number" : undefined;
}

/** A question's last clause, lower case, without a leading preposition ("If I never change X, what value …"). */
function lastClause(question: string): string {
  const clause =
    question
      .trim()
      .toLowerCase()
      .split(/[,;:]\s*/)
      .pop() ?? "";
  return clause.replace(/^(?:in|on|at|from|since|until|by|for|with|to) /, "");
}

/**
 * The noun phrase after "what"/"which" opening a question's last clause, up to its verb (at most
 * `maxWords` words), and the word after it: "Chrome version" and "did" in "In which Chrome version
 * did … arrive?".
 */
function whPhrase(question: string, maxWords: number): { phrase: string[]; next?: string } | undefined {
  const words = wordTokens(lastClause(question));
  if (words[0] !== "what" && words[0] !== "which") return undefined;
  const phrase: string[] = [];
  for (const w of words.slice(1, 1 + maxWords)) {
    if (AUXILIARY.test(w) || VERB_AFTER_WH.test(w)) break;
    phrase.push(w);
  }
  const next = words[1 + phrase.length];
  return next === undefined ? { phrase } : { phrase, next };
}

/** Words that state a number without digits. */
const NUMBER_WORDS =
  /\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|halves|halve|halving|quarter|third|thirds|twice|double|doubles|triple|daily|hourly|weekly|monthly|yearly|annually)\b/i;

/**
 * The unit a "How many <unit> …?" question counts in, singular: "byte" of "How many bytes does a
 * box value take?", "step" of "How many training steps …". The head of the noun phrase after "how
 * many", up to its verb.
 */
export function countedUnit(question: string): string | undefined {
  const after = /\bhow many ([^,;:?!]+)/i.exec(question)?.[1];
  if (after === undefined) return undefined;
  const phrase: string[] = [];
  for (const w of wordTokens(after.toLowerCase()).slice(0, 3)) {
    if (AUXILIARY.test(w) || VERB_AFTER_WH.test(w)) break;
    phrase.push(w);
  }
  const head = phrase[phrase.length - 1];
  if (head === undefined || head.length < 3 || !/^[a-z-]+$/.test(head)) return undefined;
  if (head.endsWith("ies")) return `${head.slice(0, -3)}y`;
  if (/(?:s|x|ch|sh)es$/.test(head)) return head.slice(0, -2);
  return head.replace(/(?<!s)s$/, "");
}

/** Whether a unit states a count in the given unit: "1 byte", "16+16n bytes", "8 NVIDIA P100 GPUs", "two passes", "parameters: 530B". */
export function statesCount(text: string, unit: string): boolean {
  const stem = unit.endsWith("y") ? `${unit.slice(0, -1)}(?:y|ies)` : `${unit}(?:e?s)?`;
  const number = String.raw`(?:\d[\w,.+]*|${NUMBER_WORDS.source})`;
  // A field named after the unit counts in it too ("parameters: 530B").
  return new RegExp(
    String.raw`(?<![\w./-])${number}[ \t]+(?:[\w-]+[ \t]+){0,2}${stem}\b|\b${stem}[ \t]*:[ \t]*[^\s:]*\d`,
    "i",
  ).test(text);
}

/** A year, a decade or an era ("1782", "the 1990s", "antiquity"). */
const YEAR_LIKE = /\b(?:1\d{3}|20\d{2})s?\b|\b(?:ancient|antiquity|prehistor\w*|centur(?:y|ies)|BCE?|AD)\b/;

/** Month names: "September 2022" is a date, not an author and a year. */
const MONTHS = "(?:January|February|March|April|May|June|July|August|September|October|November|December)";

/**
 * A person named as a source does it: "by Philip Gage", "due to Boris Polyak", an author–year
 * citation ("Kingma and Ba, 2014", "Bahdanau, Cho and Bengio (2014", "Chen et al."), a full name
 * ("Guido van Rossum", not "The Transformer") or a field that holds one ("Author: …").
 */
const PERSON = new RegExp(
  [
    String.raw`\b(?:by|due to)\s+(?:Sir |Dr\.? |Prof\.? )?\p{Lu}[\p{L}'’.-]*`,
    String.raw`(?!${MONTHS}\b)\p{Lu}[\p{L}'’-]+(?:,? (?:and|&) \p{Lu}[\p{L}'’-]+| et al\.?)?,? \(?(?:1[5-9]|20)\d\d\b`,
    String.raw`\bet al\b`,
    String.raw`\b(?:[Aa]uthors?|[Cc]reators?|[Ii]nventors?|[Dd]iscoverers?|[Mm]aintainers?|AUTHORS?)\s*:`,
  ].join("|"),
  "gu",
);

/** A full name ("Guido van Rossum", "Harrison Chase"); not one that opens with a function word ("The Transformer"). */
const FULL_NAME =
  /(?<![\p{L}'’])(?!(?:The|A|An|In|On|At|Of|For|To|By|With|From|This|That|These|Those|It|Its|If|When|While|Each|Every|Some|All|Most|No|Not|Use|Using|See)\b)\p{Lu}\p{Ll}+ (?:(?:van|von|de|der|den|da|di|du|le|la) )*\p{Lu}\p{Ll}+/gu;

/**
 * Whether a unit names a person (see PERSON and FULL_NAME) other than those the question names
 * (`named`: "Who took over after Guido van Rossum …?" is not answered by "… by Guido van Rossum").
 * A name that holds a word of what the question asks about (`about`) is that thing's name, not
 * its maker's ("the Standard Hydrogen Electrode" for "Who discovered hydrogen?").
 */
export function namesPerson(text: string, about: readonly string[] = [], named: readonly string[] = []): boolean {
  const asked = (name: string) => {
    const words = contentTerms(name).filter((t) => !/^\d+$/.test(t) && t !== "al");
    return words.length > 0 && words.every((t) => named.includes(t));
  };
  if ([...text.matchAll(PERSON)].some((m) => !asked(m[0]))) return true;
  return [...text.matchAll(FULL_NAME)].some((m) => !asked(m[0]) && !contentTerms(m[0]).some((t) => about.includes(t)));
}

/**
 * Whether a unit states the kind of value a question expects (see QuestionShape.expects); `about`
 * and `named` are the terms of what the question asks about and of the names it uses (see namesPerson).
 */
export function statesExpected(
  text: string,
  expects: QuestionShape["expects"],
  about: readonly string[] = [],
  named: readonly string[] = [],
): boolean {
  if (expects === "year") return YEAR_LIKE.test(text);
  if (expects === "person") return namesPerson(text, about, named);
  // A manual section ("regex(3)") is a name, not a number.
  if (expects === "number") return /\d/.test(text.replace(/\w\(\d\w*\)/g, "")) || NUMBER_WORDS.test(text);
  return true;
}

function shapeOf(question: string): QuestionShape {
  const q = question.trim().toLowerCase();
  const words = wordTokens(q);
  const [first = "", second = ""] = words;
  if (definitionSubject(question) !== undefined) return { type: "definition", factoid: false };
  // "Which element…", "What tool adds line numbers…": the answer names a thing.
  if ((first === "which" || first === "what") && second && !AUXILIARY.test(second) && !/^what['’]s$/.test(second))
    return { type: "which", factoid: true };
  // "Which of these tools …?" picks one of them, as "Which tool …?" does.
  if (first === "which" && second === "of") return { type: "which", factoid: true };
  if (first === "who" || first === "whom" || first === "whose") return { type: "who", factoid: true };
  if (first === "when" || /^(in )?what year\b/.test(q)) return { type: "when", factoid: true };
  if (first === "where") return { type: "where", factoid: true };
  if (/^how (many|much|long|big|large|heavy|old|often|tall|wide|fast)\b/.test(q))
    return { type: "quantity", factoid: true };
  if (first === "why") return { type: "why", factoid: false };
  if (first === "how") return { type: "how", factoid: false };
  if (/^(is|are|was|were|do|does|did|can|could|should|has|have)\b/.test(first)) return { type: "yesno", factoid: true };
  return { type: "other", factoid: /\b(default|value|version|number|size|name|symbol|year)\b/.test(q) };
}

/** A second question joined to the first ("… and why does it help", ", and how is it computed"). */
const COMPOUND_TAIL =
  /,?\s+and (?:(?:in|on|at|for|since|from) )?(?:why|how|what|when|where|which|who|whom|whose|is|are|does|do|can)\b.*$/;

/**
 * The X of a question that asks what X is or is for: "What is X?", "What does X do?", "What is
 * X used for?", "What's the purpose of X?" (also after a lead-in such as "In a few words,").
 * Such a question is answered by a unit that has X as its subject ("X is …", "X - …").
 */
export function definitionSubject(question: string): string | undefined {
  const q = question
    .trim()
    .toLowerCase()
    .replace(/\bwhat['’]s\b/g, "what is")
    .replace(/[?.!\s]+$/, "")
    // "What is X and why does it help?" asks first what X is: the definition leads the answer.
    .replace(COMPOUND_TAIL, "");
  const clause = q.split(/[,;:]\s*/).pop() ?? q;
  const article = "(?:the |an? )?";
  const patterns = [
    new RegExp(`^what (?:is|are) ${article}(?:purpose|use|job|role|point) of ${article}(.+)$`),
    new RegExp(`^what (?:does|do|did) ${article}(.+?) do$`),
    new RegExp(`^what (?:is|are) ${article}(.+?) (?:used |good |meant )?for$`),
    // A bare noun phrase: "What is dropout?", not "What is X set to by default?".
    new RegExp(`^what (?:is|are) ${article}((?:[\\w-]+ ){0,2}[\\w-]+)$`),
  ];
  for (const pattern of patterns) {
    const subject = pattern.exec(clause)?.[1];
    // "What is the default value of X?" asks for a property of X, not for X itself.
    if (subject && !/\b(of|for|in|on|to|by|at|from|between|with|than|like)\b/.test(subject)) return subject;
  }
  return undefined;
}

/**
 * What a question is about, when its wording says so plainly: the Y of "What is the X of Y?",
 * "What is Y's X?", "Who discovered Y?". The answer must come from a passage about Y: one
 * that only shares X ("the lowest thermal conductivity of all the elements" in another
 * element's profile) does not answer "What is the thermal conductivity of plutonium?".
 */
export function questionSubject(question: string): string[] {
  return questionParts(question).subject;
}

/**
 * The parts of "What is the X of Y?" (and "What is Y's X?", "Who discovered Y?"): the
 * property X asked for and the subject Y it is asked about, as content terms.
 */
export function questionParts(question: string): { property: string[]; subject: string[] } {
  const q = question
    .trim()
    .toLowerCase()
    .replace(/\?+\s*$/, "");
  // The copula is required: in "Which symbol stands for X?" the words before "for" are no property.
  const of = /^(?:what|which) (?:is|are|was|were) (?:the |an? )?([\w\s-]{2,40}?) (?:of|for) (.+)$/.exec(q);
  const possessive = /^(?:what|which) (?:is|are|was|were) ([\w-]+)['’]s ([\w\s-]{2,40})$/.exec(q);
  const who = WHO_RELATION.exec(q.replace(COMPOUND_TAIL, ""));
  // "… of a model that spreads its probability evenly …", "Who proposed sharing a single key …?": a
  // subject that says what something does describes it rather than naming it; any of its words
  // ("across") may be missing from the passage that answers, so it names no subject.
  const terms = (text: string | undefined) => (text && !DESCRIPTION.test(text) ? contentTerms(text) : []);
  if (of) return { property: contentTerms(of[1] as string), subject: terms(of[2]) };
  if (possessive) return { property: terms(possessive[2]), subject: terms(possessive[1]) };
  // "What does the SQL command CREATE SYNONYM do?" is answered from a passage that names it.
  return { property: [], subject: terms(who?.[2] ?? definitionSubject(question)) };
}

/**
 * A subject that opens with a verb's -ing form and its object ("sharing a single key …"; not a noun
 * such as "padding" or "string type") or holds a relative clause ("a model that …").
 */
const DESCRIPTION = /^(?:the |an? )?[a-z]{2,}ing(?: [\w-]+){2,}|\b(?:that|which|who|whose|where)\b/;

/**
 * "Who proposed X?", "Who originally invented X?": the verb names how a person relates to X, which
 * a source may say in other words ("isolated by Moissan", "due to Boris Polyak", "Adam (Kingma and
 * Ba, 2014)"). The answer names the person (QuestionShape.expects); the verb is its frame.
 */
const WHO_RELATION =
  /^who (?:first |originally |actually )?(discovered|invented|proposed|wrote|created|founded|introduced|designed|developed|coined|started|isolated|identified|came up with) (.+)$/;

/** The X of "Who <verb> X?" (see WHO_RELATION), as written, and the verb. */
export function whoRelation(question: string): { verb: string; subject: string } | undefined {
  const q = question
    .trim()
    .toLowerCase()
    .replace(/[?.!\s]+$/, "")
    .replace(COMPOUND_TAIL, "");
  const m = WHO_RELATION.exec(q);
  return m ? { verb: m[1] as string, subject: m[2] as string } : undefined;
}

/**
 * The names in a question, as content terms: words written with a capital inside the sentence
 * ("the Lion optimizer", "SQL Server", "LlamaIndex"), with digits ("GPT-4", "2019") or a single
 * capital letter ("the symbol O"). The first word of each sentence and "I" are not names.
 */
export function nameTerms(question: string): string[] {
  const names: string[] = [];
  for (const match of question.matchAll(/[\p{L}\p{N}_]+(?:['’.-][\p{L}\p{N}_]+)*/gu)) {
    const word = match[0];
    const before = question.slice(0, match.index).trimEnd();
    const opensSentence = before === "" || /[.!?:;]$/.test(before);
    const named = /\p{N}/u.test(word) || /\p{L}\p{Lu}/u.test(word) || (/^\p{Lu}/u.test(word) && !opensSentence);
    if (!named || word === "I") continue;
    names.push(...contentTerms(word));
  }
  return [...new Set(names)];
}

/** Command-line options as written ("-r", "--real"). */
export function optionsOf(text: string): string[] {
  return text.match(/(?<![\w-])--?[\p{L}\p{N}][\w-]*/gu) ?? [];
}

/**
 * Operators a question names as a word of their own ("Why has X no ++ operator?", "What does //
 * do?"): runs of two or three symbols between spaces. The word analyser drops them, so a passage
 * would seem to cover such a question without ever writing the operator.
 */
export function operatorsOf(question: string): string[] {
  return question.match(/(?<=^|\s)[-+*/%=<>!&|^~:@]{2,3}(?=[\s?.,]|$)/g) ?? [];
}

/** Verbs any question may use in any sense ("take", "need", "get"): a passage need not repeat them. */
export const GENERIC_VERBS = new Set(
  "take takes taken took need needs needed use used uses using get gets got make makes made mean means meant happen happens happened start starts started change changes changed set sets give gives gave go goes went come comes came want wants keep keeps put puts stand stands stood arrive arrives arrived appear appears appeared".split(
    " ",
  ),
);

/**
 * Words that say what kind of answer is wanted rather than what it is about: the "long" of
 * "How long is the river?" (the answer says "820 kilometres"), the "year" of "In what year…",
 * the "work" of "How does X work?". They are not terms a sentence must share.
 */
export function questionFrame(question: string): string {
  const q = question.trim().toLowerCase();
  const frame: string[] = [];
  const how = /^how (many|much|long|big|large|heavy|old|often|tall|wide|fast|far)\b/.exec(q);
  if (how) frame.push(how[1] as string);
  // "Which Node version is…", "What command-line program is…": the noun phrase before the
  // verb names the answer's kind.
  const wh = whPhrase(question, 3);
  if (wh && wh.phrase.length > 0) {
    const { phrase, next } = wh;
    frame.push(...(next && (AUXILIARY.test(next) || VERB_AFTER_WH.test(next)) ? phrase : [phrase[0] as string]));
  }
  if (HOW_DOES_IT_WORK.test(question)) frame.push("work");
  const who = whoRelation(question);
  if (who) frame.push(who.verb);
  for (const w of wordTokens(q)) if (GENERIC_VERBS.has(w)) frame.push(w);
  return frame.join(" ");
}

/**
 * The words before the head of "What <A B> does/did <subject> <verb>?": "vocabulary" of "What
 * vocabulary size does the tokenizer use?", "dropout" of "What dropout rate did GPT-4 use?". The
 * head ("size", "rate") names the kind of value; these say which one.
 */
export function attributeModifiers(question: string): string[] {
  const wh = whPhrase(question, 4);
  if (!wh || wh.phrase.length < 2 || !(wh.next === "do" || wh.next === "does" || wh.next === "did")) return [];
  return contentTerms(wh.phrase.slice(0, -1).join(" "));
}

/**
 * "How does X work?" asks about X: its "work" is the question's frame, not a term to
 * match (it otherwise favoured any sentence that "works", or a section on "a worked example").
 */
export const HOW_DOES_IT_WORK = /^\s*how\s+(?:does|do|did|can|could|would|will|should)\b.*\bwork\s*\??\s*$/i;

/** The question's own spelling of one of its content terms (the corpus analyses words its own way). */
export function wordOf(question: string, term: string, cased = false): string {
  const words = question.match(/[\p{L}\p{N}_]+(?:(?:['’-]|(?<=\d)[.,](?=\d))[\p{L}\p{N}_]+)*/gu) ?? [];
  const word = words.find((w) => contentTerms(w.replace(/['’]s$/, "")).includes(term));
  return word === undefined ? term : cased ? word : word.toLowerCase();
}

/**
 * Names with a version in a question: a capitalised word followed by a short number ("Stable
 * Diffusion 3", "Llama 2 70B", "WMT 2019"), as [name, version] in lower case. Not at the
 * question's start, where every word is capitalised.
 */
export function versionedNames(question: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const m of question.matchAll(
    /(?<=\s)(\p{Lu}[\p{L}\p{N}-]*)\s+(\d{1,4}(?:\.\d{1,2})?[A-Za-z]?)(?![\p{L}\p{N}]|[.,-]\p{N})/gu,
  )) {
    pairs.push([(m[1] as string).toLowerCase(), (m[2] as string).toLowerCase()]);
  }
  return pairs;
}

/**
 * Names of several capitalised words in a question ("SHOW TABLES", "SQL Server", "Stable
 * Diffusion"), as their words: each word alone may be common, but together they name one thing.
 */
export function namePhrases(question: string): string[][] {
  const phrases: string[][] = [];
  for (const m of question.matchAll(/(?<=\s)\p{Lu}[\p{L}\p{N}_'’-]*(?:\s+\p{Lu}[\p{L}\p{N}_'’-]*)+/gu)) {
    // "EleutherAI's Pile" is two names: the possessive ends one.
    for (const run of m[0].split(/(?<=['’]s)\s+/)) {
      const words = wordTokens(run.replace(/['’]s$/, ""));
      if (words.length >= 2) phrases.push(words);
    }
  }
  return phrases;
}

/** The term a question asking for a default value has or implies (see ASKS_DEFAULT). */
export const DEFAULT_TERM = "default";

/** Words that state a default in other terms ("Initial value: auto"). */
export const INITIAL_TERMS = new Set(contentTerms("initial initially"));

/**
 * A default asked for without the word: "If I never change X …", "… if I don't give one?",
 * "… when X isn't specified?", "… unless set?".
 */
export const ASKS_DEFAULT =
  /\b(?:never (?:change|changes|set|sets|touch|specify|configure)|(?:don['’]t|do not|doesn['’]t|does not|didn['’]t|did not) (?:give|set|specify|say|change|pass|provide|configure|choose)|(?:isn['’]t|is not|aren['’]t|are not|not|wasn['’]t|left) (?:specified|set|given|configured|chosen|changed)|unless (?:set|specified|given|configured)|out of the box)\b/i;

/** Nouns for what a term line of a manual names: "Which option …?", "What setting …?". */
const OPTION_NOUNS = /^(?:options?|flags?|switch(?:es)?|settings?|parameters?|arguments?|variables?|directives?)$/;

/** Whether a "which/what …" question asks for an option or setting by its name ("Which Memcheck option …?"). */
export function asksForOption(question: string): boolean {
  return (whPhrase(question, 3)?.phrase ?? []).some((w) => OPTION_NOUNS.test(w));
}

/** Whether a question asks why, alone or after another question ("What is X and why does it help?"). */
export function asksWhy(question: string): boolean {
  return /^\s*why\b|\band why\b/i.test(question);
}

/** Words that give a reason or a purpose ("because", "so that", "…, so the network cannot …", "to avoid"). */
const REASON =
  /\b(?:because|since|so that|so as to|in order to|thus|therefore|hence|otherwise|prevents?|avoids?|to (?:avoid|prevent|keep|make sure|ensure)|the reason)\b|,\s+so\b/i;

/** Whether a unit gives a reason or a purpose: what a why-question asks for. */
export function givesReason(text: string): boolean {
  return REASON.test(text);
}

import { fileError } from "./fileError.js";

export type TextEncodingName = "utf-8" | "utf-8-bom" | "utf-16le" | "utf-16be" | "iso-8859-1" | "windows-1252";

export interface DecodedText {
  text: string;
  encoding: TextEncodingName;
}

/**
 * Share of U+FFFD replacement characters above which invalid UTF-8 is treated as an
 * unknown encoding rather than a UTF-8 file with a few damaged bytes: a Latin-1 or
 * Shift-JIS file produces replacements on nearly every non-ASCII character.
 */
const MAX_REPLACEMENT_RATIO = 0.01;
const MAX_REPLACEMENTS_ABSOLUTE = 32;

/**
 * Decodes text by BOM (UTF-8, UTF-16 LE/BE), then by the NUL-byte pattern that
 * BOM-less UTF-16 leaves, then as UTF-8, then (for text that is not UTF-8) as the
 * legacy Western encodings, Latin-1 / Windows-1252, when the bytes look like them.
 * Throws FILE_UNREADABLE for anything else.
 * Line ends become "\n" (CRLF and lone CR alike), so every loader and the splitter
 * see one kind of line break; line numbers are unchanged by this.
 */
export function decodeText(bytes: Uint8Array, path: string): DecodedText {
  const decoded = decodeRaw(bytes, path);
  return decoded.text.includes("\r") ? { ...decoded, text: decoded.text.replace(/\r\n?/g, "\n") } : decoded;
}

function decodeRaw(bytes: Uint8Array, path: string): DecodedText {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    const text = decodeUtf8(bytes.subarray(3), path);
    if (text === undefined) throw unknownEncoding(path);
    return { text, encoding: "utf-8-bom" };
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { text: new TextDecoder("utf-16le").decode(bytes.subarray(2)), encoding: "utf-16le" };
  }
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    return { text: new TextDecoder("utf-16be").decode(bytes.subarray(2)), encoding: "utf-16be" };
  }
  const utf16 = guessBomlessUtf16(bytes);
  if (utf16) return { text: new TextDecoder(utf16).decode(bytes), encoding: utf16 };
  const utf8 = decodeUtf8(bytes, path);
  if (utf8 !== undefined) return { text: utf8, encoding: "utf-8" };
  const legacy = decodeLegacy(bytes);
  if (legacy) return legacy;
  throw unknownEncoding(path);
}

function unknownEncoding(path: string) {
  return fileError(
    "FILE_UNREADABLE",
    path,
    "unknown encoding (neither UTF-8, UTF-16 nor Latin-1 / Windows-1252 text; save it as UTF-8)",
  );
}

/** The text when the bytes are UTF-8 (a few damaged sequences allowed), else undefined. */
function decodeUtf8(bytes: Uint8Array, path: string): string | undefined {
  try {
    return checkNoNul(new TextDecoder("utf-8", { fatal: true }).decode(bytes), path);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  const text = new TextDecoder("utf-8").decode(bytes);
  let replacements = 0;
  let decoded = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0xfffd) replacements++;
    else if (code >= 0x80) decoded++;
  }
  // UTF-8 with a few damaged bytes still decodes most of its non-ASCII characters;
  // Latin-1 text fails on nearly every one of them, however few there are.
  if (
    replacements > decoded ||
    replacements > MAX_REPLACEMENTS_ABSOLUTE ||
    replacements / Math.max(1, text.length) > MAX_REPLACEMENT_RATIO
  ) {
    return undefined;
  }
  return checkNoNul(text, path);
}

/**
 * Share of bytes at or above 0x80 above which text is not Western European: Latin-1 /
 * Windows-1252 prose uses them for accented letters and typographic marks among mostly
 * ASCII (French ~3–5%, German ~1–2%, Icelandic ~10–15%), while CJK or Cyrillic legacy
 * encodings use them for nearly every letter.
 */
const MAX_LEGACY_HIGH_SHARE = 0.3;

/**
 * What Windows-1252 puts at 0x80–0x9F (Latin-1's control characters). Node's TextDecoder
 * ("windows-1252") decodes these bytes as Latin-1, so the table is spelled out here.
 */
const CP1252_C1 = [..."€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ"];

/**
 * Latin-1 or Windows-1252 when the bytes look like them: no control characters beyond
 * tab, line ends and form feed, high bytes a minority, and each high byte that decodes
 * to a letter sitting next to a letter (accents live inside words). Windows-1252 is a
 * superset of Latin-1's printable range; "iso-8859-1" is reported when no byte in
 * 0x80–0x9F (where the two differ) occurs.
 */
function decodeLegacy(bytes: Uint8Array): DecodedText | undefined {
  let high = 0;
  let c1 = 0;
  let visible = 0;
  for (const b of bytes) {
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) return undefined;
    if (b > 0x20) visible++;
    if (b >= 0x80) high++;
    if (b >= 0x80 && b <= 0x9f) c1++;
  }
  if (high / Math.max(1, visible) > MAX_LEGACY_HIGH_SHARE) return undefined;
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  if (c1) {
    // Bytes 0x81, 0x8d, 0x8f, 0x90 and 0x9d have no character in Windows-1252: not this encoding.
    if (/[\u0081\u008d\u008f\u0090\u009d]/.test(text)) return undefined;
    text = text.replace(/[\u0080-\u009f]/g, (ch) => CP1252_C1[ch.charCodeAt(0) - 0x80] as string);
  }
  const letter = /\p{L}/u;
  let lonely = 0;
  let accented = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch.charCodeAt(0) < 0xc0 || !letter.test(ch)) continue;
    accented++;
    if (!letter.test(text[i - 1] ?? "") && !letter.test(text[i + 1] ?? "")) lonely++;
  }
  if (accented > 0 && lonely / accented > 0.5) return undefined;
  return { text, encoding: c1 ? "windows-1252" : "iso-8859-1" };
}

function checkNoNul(text: string, path: string): string {
  if (text.includes("\u0000")) throw fileError("FILE_UNREADABLE", path, "unknown encoding (contains NUL bytes)");
  return text;
}

/**
 * ASCII-heavy UTF-16 without a BOM has a zero in every other byte; real UTF-8 text
 * never contains zero bytes. Looks at the first 4 KiB only.
 */
function guessBomlessUtf16(bytes: Uint8Array): "utf-16le" | "utf-16be" | undefined {
  const n = Math.min(bytes.length, 4096) & ~1;
  if (n < 4) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenZeros++;
    if (bytes[i + 1] === 0) oddZeros++;
  }
  const pairs = n / 2;
  if (oddZeros / pairs > 0.4 && evenZeros / pairs < 0.05) return "utf-16le";
  if (evenZeros / pairs > 0.4 && oddZeros / pairs < 0.05) return "utf-16be";
  return undefined;
}

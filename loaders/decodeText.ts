import { fileError } from "./fileError.js";

export type TextEncodingName = "utf-8" | "utf-8-bom" | "utf-16le" | "utf-16be";

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
 * BOM-less UTF-16 leaves, then as UTF-8. Throws FILE_UNREADABLE for anything else.
 * Line ends become "\n" (CRLF and lone CR alike), so every loader and the splitter
 * see one kind of line break; line numbers are unchanged by this.
 */
export function decodeText(bytes: Uint8Array, path: string): DecodedText {
  const decoded = decodeRaw(bytes, path);
  return decoded.text.includes("\r") ? { ...decoded, text: decoded.text.replace(/\r\n?/g, "\n") } : decoded;
}

function decodeRaw(bytes: Uint8Array, path: string): DecodedText {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: decodeUtf8(bytes.subarray(3), path), encoding: "utf-8-bom" };
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { text: new TextDecoder("utf-16le").decode(bytes.subarray(2)), encoding: "utf-16le" };
  }
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    return { text: new TextDecoder("utf-16be").decode(bytes.subarray(2)), encoding: "utf-16be" };
  }
  const utf16 = guessBomlessUtf16(bytes);
  if (utf16) return { text: new TextDecoder(utf16).decode(bytes), encoding: utf16 };
  return { text: decodeUtf8(bytes, path), encoding: "utf-8" };
}

function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return checkNoNul(new TextDecoder("utf-8", { fatal: true }).decode(bytes), path);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  const text = new TextDecoder("utf-8").decode(bytes);
  let replacements = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0xfffd) replacements++;
  if (replacements > MAX_REPLACEMENTS_ABSOLUTE || replacements / Math.max(1, text.length) > MAX_REPLACEMENT_RATIO) {
    throw fileError(
      "FILE_UNREADABLE",
      path,
      `unknown encoding (not valid UTF-8: ${replacements} undecodable byte sequences; save it as UTF-8 or UTF-16 with a BOM)`,
    );
  }
  return checkNoNul(text, path);
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

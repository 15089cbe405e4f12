/**
 * GPT-2's reversible map from bytes to printable Unicode characters. Byte-level BPE
 * works on raw bytes, but vocab files store tokens as strings; printable bytes keep
 * their own character and the rest (control bytes, space, 0x7f–0xa0, 0xad) are moved
 * to U+0100 onwards, which is why a leading space shows as "Ġ" in GPT-2 vocabularies.
 */
function buildByteToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = "!".charCodeAt(0); b <= "~".charCodeAt(0); b++) bs.push(b);
  for (let b = "¡".charCodeAt(0); b <= "¬".charCodeAt(0); b++) bs.push(b);
  for (let b = "®".charCodeAt(0); b <= "ÿ".charCodeAt(0); b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const out = new Array<string>(256);
  for (let i = 0; i < bs.length; i++) out[bs[i]] = String.fromCharCode(cs[i]);
  return out;
}

export const BYTE_TO_UNICODE: readonly string[] = buildByteToUnicode();

export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_UNICODE.map((ch, byte) => [ch, byte]));

export function bytesToUnicodeString(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += BYTE_TO_UNICODE[b];
  return s;
}

/** Inverse of bytesToUnicodeString; undefined when a character is outside the 256-symbol alphabet. */
export function unicodeStringToBytes(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const b = UNICODE_TO_BYTE.get(s[i]);
    if (b === undefined) return undefined;
    out[i] = b;
  }
  return out;
}

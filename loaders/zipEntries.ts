import { inflateRawSync } from "node:zlib";

/** One file inside a ZIP archive, as its central directory describes it. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated; DOCX uses nothing else. */
  method: number;
  compressedSize: number;
  /** As declared: a hostile archive may lie, which inflateEntry catches. */
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** ZIP64 marks sizes it moved elsewhere with this; no DOCX is that big. */
const ZIP64_MARK = 0xffffffff;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Reads the central directory at the end of a ZIP file, without inflating anything.
 * Throws Error("not a ZIP archive …") when it cannot be found or is cut short.
 */
export function listZipEntries(bytes: Uint8Array): ZipEntry[] {
  const dv = view(bytes);
  // The end record sits in the last 22 bytes plus an optional comment of up to 64 KiB.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a ZIP archive (no central directory)");
  const count = dv.getUint16(eocd + 10, true);
  let at = dv.getUint32(eocd + 16, true);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || dv.getUint32(at, true) !== CENTRAL) {
      throw new Error("not a ZIP archive (damaged central directory)");
    }
    const nameLength = dv.getUint16(at + 28, true);
    const extraLength = dv.getUint16(at + 30, true);
    const commentLength = dv.getUint16(at + 32, true);
    entries.push({
      name: Buffer.from(bytes.subarray(at + 46, at + 46 + nameLength)).toString("utf8"),
      method: dv.getUint16(at + 10, true),
      compressedSize: dv.getUint32(at + 20, true),
      uncompressedSize: dv.getUint32(at + 24, true),
      localHeaderOffset: dv.getUint32(at + 42, true),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/**
 * The inflated bytes of one entry, stopping as soon as they pass `maxBytes`: the true
 * size is checked, not the declared one. Throws RangeError("… more than maxBytes") then.
 */
export function inflateEntry(bytes: Uint8Array, entry: ZipEntry, maxBytes: number): Buffer {
  if (entry.compressedSize === ZIP64_MARK || entry.uncompressedSize === ZIP64_MARK) {
    throw new RangeError(`${entry.name} is a ZIP64 entry (over 4 GiB)`);
  }
  const dv = view(bytes);
  const at = entry.localHeaderOffset;
  if (at + 30 > bytes.length || dv.getUint32(at, true) !== LOCAL) {
    throw new Error(`damaged ZIP entry ${entry.name}`);
  }
  const start = at + 30 + dv.getUint16(at + 26, true) + dv.getUint16(at + 28, true);
  const data = bytes.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) {
    if (data.length > maxBytes) throw new RangeError(`${entry.name} holds more than ${maxBytes} bytes`);
    return Buffer.from(data);
  }
  if (entry.method !== 8) throw new Error(`${entry.name} uses an unknown compression method (${entry.method})`);
  try {
    return inflateRawSync(data, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new RangeError(`${entry.name} inflates to more than ${maxBytes} bytes`);
    }
    throw error;
  }
}

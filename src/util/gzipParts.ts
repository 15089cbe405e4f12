import { createGzip } from "node:zlib";

/** Text handed to zlib at a time: large enough that the calls cost nothing, small next to the whole. */
const PIECE_CHARS = 1 << 18;

/**
 * Gzips text given in parts (a generator writing a large JSON document, say) without ever holding
 * it whole: parts are gathered into ~256 KiB pieces and compressed as they come, so memory holds
 * one piece and the compressed output. zlib works off the main thread; the event loop runs while
 * it does, so whatever the parts read must not change until this resolves.
 */
export async function gzipParts(parts: Iterable<string>, level = 4): Promise<Buffer> {
  const gzip = createGzip({ level });
  const out: Buffer[] = [];
  gzip.on("data", (chunk: Buffer) => out.push(chunk));
  const finished = new Promise<void>((resolve, reject) => {
    gzip.once("end", resolve);
    gzip.once("error", reject);
  });
  const write = async (piece: string): Promise<void> => {
    if (!gzip.write(piece)) await new Promise<void>((resolve) => gzip.once("drain", resolve));
  };
  let pending: string[] = [];
  let size = 0;
  for (const part of parts) {
    pending.push(part);
    size += part.length;
    if (size >= PIECE_CHARS) {
      await write(pending.join(""));
      pending = [];
      size = 0;
    }
  }
  if (pending.length) await write(pending.join(""));
  gzip.end();
  await finished;
  return Buffer.concat(out);
}

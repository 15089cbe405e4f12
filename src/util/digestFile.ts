import { createHash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";

/** Size and SHA-256 of a file, read in 4 MiB blocks (index files run to hundreds of MiB). */
export function digestFile(path: string): { bytes: number; sha256: string } {
  const hash = createHash("sha256");
  const buffer = Buffer.allocUnsafe(4 << 20);
  const fd = openSync(path, "r");
  let bytes = 0;
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      bytes += read;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: hash.digest("hex") };
}

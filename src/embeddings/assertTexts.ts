import { GeneraError } from "../errors.js";

/** embedDocuments' input check, the same for every embeddings class: an array of strings, or INVALID_INPUT naming the item. */
export function assertTexts(documents: unknown): asserts documents is string[] {
  if (!Array.isArray(documents)) {
    throw new GeneraError("INVALID_INPUT", "embedDocuments expects an array of strings");
  }
  documents.forEach((d, i) => {
    if (typeof d !== "string") {
      throw new GeneraError("INVALID_INPUT", `embedDocuments: item ${i} is ${typeof d}, not a string`);
    }
  });
}

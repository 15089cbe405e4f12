import { Document } from "@langchain/core/documents";
import { decodeText } from "./decodeText.js";
import { type FileContext, fileMetadata, fileTitle, RESERVED_METADATA_KEYS } from "./FileContext.js";
import { fileError } from "./fileError.js";

export const JSON_EXTENSIONS = [".json"];
export const JSONL_EXTENSIONS = [".jsonl", ".ndjson"];

export interface JsonLoadOptions {
  /**
   * Field(s) holding the text, tried in order; dotted paths reach into objects
   * ("message.body"). Default: "text", "content", "body", "page_content", "pageContent",
   * then the first string of at least 40 characters.
   */
  textField?: string | string[];
}

const DEFAULT_TEXT_FIELDS = ["text", "content", "body", "page_content", "pageContent"];
const LONG_STRING = 40;

/** A JSON file: an array gives one document per element, anything else one document. */
export function loadJson(bytes: Uint8Array, ctx: FileContext, options: JsonLoadOptions = {}): Document[] {
  const { text } = decodeText(bytes, ctx.absPath);
  if (!text.trim()) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw fileError("FILE_UNREADABLE", ctx.absPath, `invalid JSON (${message})`, error);
  }
  const elements = Array.isArray(value) ? value : [value];
  const docs: Document[] = [];
  elements.forEach((element, index) => {
    const doc = toDocument(element, ctx, options, Array.isArray(value) ? { index } : {});
    if (doc) docs.push(doc);
  });
  return docs;
}

/** JSON Lines: one document per non-empty line, with `line` (1-based). A bad line fails the file, naming the line. */
export function loadJsonl(bytes: Uint8Array, ctx: FileContext, options: JsonLoadOptions = {}): Document[] {
  const { text } = decodeText(bytes, ctx.absPath);
  const docs: Document[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (!line) continue;
    let element: unknown;
    try {
      element = JSON.parse(line);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw fileError("FILE_UNREADABLE", ctx.absPath, `invalid JSON on line ${i + 1} (${message})`, error);
    }
    const doc = toDocument(element, ctx, options, { line: i + 1, index: docs.length });
    if (doc) docs.push(doc);
  }
  return docs;
}

function toDocument(
  element: unknown,
  ctx: FileContext,
  options: JsonLoadOptions,
  position: Record<string, number>,
): Document | undefined {
  if (element === null || element === undefined) return undefined;
  if (typeof element !== "object" || Array.isArray(element)) {
    const text = typeof element === "string" ? element : JSON.stringify(element);
    if (!text.trim()) return undefined;
    return new Document({ pageContent: text, metadata: { ...fileMetadata(ctx, "json", fileTitle(ctx)), ...position } });
  }
  const record = element as Record<string, unknown>;
  const textKey = findTextKey(record, options.textField);
  const text = textKey ? String(getPath(record, textKey)) : describeRecord(record);
  if (!text.trim()) return undefined;

  const titleValue = [record.title, record.name].find((v) => typeof v === "string" && v.trim() && v.length <= 200);
  const metadata: Record<string, unknown> = {
    ...fileMetadata(ctx, "json", (titleValue as string | undefined)?.trim() ?? fileTitle(ctx)),
    ...position,
  };
  if (textKey) metadata.textField = textKey;
  for (const [key, value] of Object.entries(record)) {
    if (key === textKey || RESERVED_METADATA_KEYS.has(key) || key === "textField") continue;
    if (value === null || ["string", "number", "boolean"].includes(typeof value)) metadata[key] = value;
  }
  return new Document({ pageContent: text, metadata });
}

function findTextKey(record: Record<string, unknown>, textField: string | string[] | undefined): string | undefined {
  const candidates = textField === undefined ? DEFAULT_TEXT_FIELDS : Array.isArray(textField) ? textField : [textField];
  for (const key of candidates) {
    if (typeof getPath(record, key) === "string") return key;
  }
  if (textField !== undefined) return undefined;
  return Object.keys(record).find((key) => {
    const value = record[key];
    return typeof value === "string" && value.length >= LONG_STRING;
  });
}

function getPath(record: Record<string, unknown>, path: string): unknown {
  if (path in record) return record[path];
  let node: unknown = record;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** A record with no prose field is still searchable as `key: value` lines, like a CSV row. */
function describeRecord(record: Record<string, unknown>): string {
  return Object.entries(record)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join("\n");
}

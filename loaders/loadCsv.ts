import { Document } from "@langchain/core/documents";
import { parse } from "csv-parse/sync";
import { decodeText } from "./decodeText.js";
import { type FileContext, fileMetadata, fileTitle } from "./FileContext.js";
import { fileError } from "./fileError.js";

export const CSV_EXTENSIONS = [".csv", ".tsv"];

export interface CsvLoadOptions {
  /** Field delimiter; by default tab for .tsv, otherwise sniffed from the header line. */
  delimiter?: string;
}

interface CsvRecord {
  record: Record<string, string>;
  raw: string;
  info: { lines: number };
}

/**
 * One document per data row: the text is `column: value` lines (empty cells left out)
 * so both the keyword index and the embedder see which value belongs to which column.
 * Metadata: `row` (0-based data row), `line` (1-based file line where the row starts)
 * and `fields` (the raw row object).
 */
export function loadCsv(bytes: Uint8Array, ctx: FileContext, options: CsvLoadOptions = {}): Document[] {
  const { text, encoding } = decodeText(bytes, ctx.absPath);
  if (!text.trim()) return [];
  const delimiter =
    options.delimiter ?? (ctx.relPath.toLowerCase().endsWith(".tsv") ? "\t" : sniffDelimiter(firstLine(text)));
  let records: CsvRecord[];
  try {
    records = parse(text, {
      columns: (header: string[]) => uniqueColumnNames(header),
      delimiter,
      info: true,
      raw: true,
      skip_empty_lines: true,
      relax_column_count: true,
      relax_quotes: true,
      trim: true,
    }) as unknown as CsvRecord[];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw fileError("FILE_UNREADABLE", ctx.absPath, `malformed CSV (${message})`, error);
  }
  const base = fileMetadata(ctx, "csv", fileTitle(ctx));
  const docs: Document[] = [];
  records.forEach(({ record, raw, info }, row) => {
    const lines = Object.entries(record)
      .filter(([, value]) => value !== undefined && value !== "")
      .map(([key, value]) => `${key}: ${value}`);
    if (!lines.length) return;
    docs.push(
      new Document({
        pageContent: lines.join("\n"),
        metadata: { ...base, encoding, row, line: startLine(raw, info.lines), fields: record },
      }),
    );
  });
  return docs;
}

/** csv-parse reports the line a record ends on; a quoted multi-line cell starts earlier. */
function startLine(raw: string, endLine: number): number {
  const body = raw.replace(/^(?:\r?\n)+/, "").replace(/\r?\n$/, "");
  let inner = 0;
  for (let i = body.indexOf("\n"); i !== -1; i = body.indexOf("\n", i + 1)) inner++;
  return endLine - inner;
}

function firstLine(text: string): string {
  const nl = text.indexOf("\n");
  return nl === -1 ? text : text.slice(0, nl);
}

/** The candidate that splits the header into the most columns (quotes ignored). */
function sniffDelimiter(header: string): string {
  const unquoted = header.replace(/"[^"]*"/g, "");
  let best = ",";
  let bestCount = 0;
  for (const candidate of [",", ";", "\t", "|"]) {
    const count = unquoted.split(candidate).length - 1;
    if (count > bestCount) {
      best = candidate;
      bestCount = count;
    }
  }
  return best;
}

/** Blank or repeated header cells would silently overwrite each other in the row object. */
function uniqueColumnNames(header: string[]): string[] {
  const seen = new Map<string, number>();
  return header.map((raw, i) => {
    const name = raw.trim() || `column${i + 1}`;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    return n === 0 ? name : `${name}_${n + 1}`;
  });
}

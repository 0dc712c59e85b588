/**
 * The per-sample export's files, by extension: CSV (RFC 4180), JSONL and Parquet, written as rows
 * arrive (CSV and JSONL a buffer at a time, Parquet a row group at a time), with the data
 * dictionary beside them as FILE.dictionary.md.
 */

import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { dirname, extname } from "node:path";
import { fileWriter, ParquetWriter, schemaFromColumnData } from "hyparquet-writer";

import { SpecsciError } from "../core/errors.js";
import type { Store } from "../store/index.js";
import {
  type CellValue,
  type ColumnType,
  type SampleColumn,
  type SampleRow,
  type SampleSource,
  sampleColumns,
  sampleCount,
  sampleDictionary,
  sampleRows,
} from "./samples-export.js";
import { csvCell } from "./tables.js";

export const SAMPLE_FORMATS = ["csv", "jsonl", "parquet"] as const;
export type SampleFormat = (typeof SAMPLE_FORMATS)[number];

/** The format a file name asks for, or an error naming the allowed extensions. */
export function sampleFormat(file: string): SampleFormat {
  const ext = extname(file).slice(1).toLowerCase();
  if ((SAMPLE_FORMATS as readonly string[]).includes(ext)) return ext as SampleFormat;
  throw new SpecsciError(`-o ${file}: unknown extension "${extname(file) || "(none)"}"`, {
    hint: `name a file ending in ${SAMPLE_FORMATS.map((f) => `.${f}`).join(", ")}`,
  });
}

/** Where the data dictionary of an export goes. */
export const dictionaryPath = (file: string) => `${file}.dictionary.md`;

interface RowSink {
  write(row: SampleRow): void;
  close(): void;
}

/** Text a buffer at a time to a file descriptor (sync: rows come from a sync SQLite cursor). */
function textSink(file: string) {
  const fd = openSync(file, "w");
  let parts: string[] = [];
  let size = 0;
  const flush = () => {
    if (parts.length) writeSync(fd, parts.join(""));
    parts = [];
    size = 0;
  };
  return {
    put(s: string) {
      parts.push(s);
      size += s.length;
      if (size > 1 << 20) flush();
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}

/** A list column's items joined by `;` (CSV and Parquet have no lists here). */
const flat = (v: CellValue): string | number | boolean | null =>
  Array.isArray(v) ? v.join(";") : v;

/** A cell of the CSV: null is empty. */
function csvField(v: CellValue): string {
  const f = flat(v);
  return f === null ? "" : csvCell(String(f));
}

function csvSink(file: string, columns: SampleColumn[]): RowSink {
  const out = textSink(file);
  out.put(`${columns.map((c) => csvField(c.name)).join(",")}\r\n`);
  return {
    write: (row) => out.put(`${columns.map((c) => csvField(row[c.name] ?? null)).join(",")}\r\n`),
    close: () => out.close(),
  };
}

function jsonlSink(file: string, columns: SampleColumn[]): RowSink {
  const out = textSink(file);
  return {
    write(row) {
      // The columns' order, whatever order the row was built in.
      const ordered: SampleRow = {};
      for (const c of columns) ordered[c.name] = row[c.name] ?? null;
      out.put(`${JSON.stringify(ordered)}\n`);
    },
    close: () => out.close(),
  };
}

const PARQUET_TYPE: Record<ColumnType, "STRING" | "INT32" | "DOUBLE" | "BOOLEAN"> = {
  string: "STRING",
  "list<string>": "STRING",
  int: "INT32",
  double: "DOUBLE",
  boolean: "BOOLEAN",
};

/** Rows per Parquet row group: one group's columns are held while it is written. */
export const PARQUET_ROW_GROUP = 20_000;

function parquetSink(file: string, columns: SampleColumn[]): RowSink {
  const typed = (data: unknown[]) =>
    columns.map((c, i) => ({
      name: c.name,
      data: (data[i] ?? []) as never[],
      type: PARQUET_TYPE[c.type],
      nullable: true,
    }));
  const writer = new ParquetWriter({
    writer: fileWriter(file),
    schema: schemaFromColumnData({ columnData: typed([]) }),
    createdBy: "specsci export samples",
  });
  let group: CellValue[][] = columns.map(() => []);
  const flush = () => {
    if (!group[0]?.length) return;
    // One write per group: each becomes one row group.
    writer.write({
      columnData: typed(group.map((g) => g.map(flat))),
      rowGroupSize: PARQUET_ROW_GROUP,
    });
    group = columns.map(() => []);
  };
  return {
    write(row) {
      columns.forEach((c, i) => {
        group[i]?.push(row[c.name] ?? null);
      });
      if ((group[0]?.length ?? 0) >= PARQUET_ROW_GROUP) flush();
    },
    close() {
      flush();
      writer.finish();
    },
  };
}

const SINKS: Record<SampleFormat, (file: string, columns: SampleColumn[]) => RowSink> = {
  csv: csvSink,
  jsonl: jsonlSink,
  parquet: parquetSink,
};

export interface SampleExport {
  file: string;
  format: SampleFormat;
  dictionary: string;
  rows: number;
  columns: number;
}

/**
 * Writes every row of the source to `file` in the format its extension names, and the data
 * dictionary beside it; `progress` hears each row.
 */
export function writeSamples(
  store: Store,
  source: SampleSource,
  file: string,
  progress?: { total(n: number): void; row(): void },
): SampleExport {
  const format = sampleFormat(file);
  const columns = sampleColumns(source);
  progress?.total(sampleCount(store, source));
  mkdirSync(dirname(file), { recursive: true });
  const sink = SINKS[format](file, columns);
  let rows = 0;
  try {
    for (const row of sampleRows(store, source)) {
      sink.write(row);
      rows++;
      progress?.row();
    }
  } finally {
    sink.close();
  }
  const dictionary = dictionaryPath(file);
  writeFileSync(dictionary, sampleDictionary(columns, format));
  return { file, format, dictionary, rows, columns: columns.length };
}

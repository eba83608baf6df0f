/**
 * A CSV file as a backtest source: one row per time, one column per stream.
 * Parsing is csv-parse's (quoting, CRLF, BOM handled), streamed, so files
 * larger than memory work.
 *
 * ```csv
 * ts,btc_close,eth_close
 * 2024-01-01T00:00:00Z,42000.5,2300.1
 * 2024-01-01T00:01:00Z,42010.0,2301.7
 * ```
 *
 * @module
 */

import { parse } from "csv-parse";
import { Readable } from "node:stream";
import { SourceError, type SourceRecord } from "./sources.ts";

/**
 * Options of {@link csvSource}.
 *
 * @example
 * ```ts
 * import type { CsvSourceOptions } from "@qmtl/qmtl/sdk";
 * const o: CsvSourceOptions = { time: "ts", columns: { btc_close: ["btc", "close"] } };
 * ```
 */
export interface CsvSourceOptions {
  /** Header of the time column. */
  time: string;
  /**
   * Unit of numeric times: seconds (default) or milliseconds. Non-numeric
   * times are parsed as ISO 8601.
   */
  timeUnit?: "s" | "ms";
  /** Stream tags per value column; columns not listed are ignored. */
  columns: Readonly<Record<string, readonly string[]>>;
  /** Field delimiter; default `","`. */
  delimiter?: string;
}

/** Where the CSV comes from: a path, a file URL, or the text's bytes as a stream. */
export type CsvInput = string | URL | ReadableStream<Uint8Array>;

function fail(msg: string, line: number): SourceError {
  return new SourceError(`csv line ${line}: ${msg}`, line);
}

/**
 * Records of a CSV file: for each row, one record per listed column, at the
 * row's time. Empty cells are skipped (no value); a cell that is not a
 * number, or a bad time, is an error naming the line and column.
 *
 * @param input file path, file URL, or a byte stream
 * @param options time column, unit, columns → tags
 * @returns the records, in file order
 * @example
 * ```ts
 * import { csvSource } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * const text = "ts,close\n60,1.5\n120,1.75\n";
 * const stream = new Blob([text]).stream();
 * const out = [];
 * for await (const r of csvSource(stream, { time: "ts", columns: { close: ["btc", "close"] } })) {
 *   out.push([r.ts, r.value]);
 * }
 * assert.deepEqual(out, [[60, 1.5], [120, 1.75]]);
 * ```
 */
export async function* csvSource(
  input: CsvInput,
  options: CsvSourceOptions,
): AsyncGenerator<SourceRecord<number>> {
  const columns = Object.entries(options.columns ?? {});
  if (columns.length === 0) {
    throw new TypeError(
      "csvSource: options.columns must list at least one column",
    );
  }
  const scale = options.timeUnit === "ms" ? 1 / 1000 : 1;
  const stream = input instanceof ReadableStream
    ? input
    : (await Deno.open(input)).readable;
  const parser = Readable.fromWeb(
    stream as Parameters<typeof Readable.fromWeb>[0],
  ).pipe(parse({
    columns: true,
    info: true,
    bom: true,
    skip_empty_lines: true,
    trim: true,
    delimiter: options.delimiter ?? ",",
  }));
  let checked = false;
  try {
    for await (
      const row of parser as AsyncIterable<{
        record: Record<string, string>;
        info: { lines: number };
      }>
    ) {
      const { record, info } = row;
      const line = info.lines;
      if (!checked) {
        for (const name of [options.time, ...columns.map(([c]) => c)]) {
          if (!(name in record)) {
            throw fail(`no column ${JSON.stringify(name)} in the header`, 1);
          }
        }
        checked = true;
      }
      const raw = record[options.time];
      const num = Number(raw);
      const ts = raw !== "" && Number.isFinite(num)
        ? num * scale
        : Date.parse(raw) / 1000;
      if (!Number.isFinite(ts)) {
        throw fail(`${options.time}: not a time: ${JSON.stringify(raw)}`, line);
      }
      for (const [col, tags] of columns) {
        const cell = record[col];
        if (cell === "") continue;
        const value = Number(cell);
        if (!Number.isFinite(value)) {
          throw fail(`${col}: not a number: ${JSON.stringify(cell)}`, line);
        }
        yield { tags, ts, value };
      }
    }
  } catch (e) {
    if (e instanceof SourceError) throw e;
    const err = e as { code?: string; lines?: number; message?: string };
    if (typeof err.code === "string" && err.code.startsWith("CSV_")) {
      throw fail(err.message ?? String(e), err.lines ?? 0);
    }
    throw e;
  } finally {
    parser.destroy();
  }
}

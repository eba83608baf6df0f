/**
 * Backtest data sources: records of market streams, from arrays, iterators,
 * async iterators or several of them merged by time.
 *
 * A record feeds every stream input whose tags are exactly the record's tags
 * (order and repeats aside). Times are seconds since the epoch.
 *
 * @module
 */

/**
 * One value of one market stream.
 *
 * @example
 * ```ts
 * import type { SourceRecord } from "@qmtl/qmtl/sdk";
 * const r: SourceRecord = { tags: ["btc", "close"], ts: 1_700_000_000, value: 37_000.5 };
 * ```
 */
export interface SourceRecord<V = unknown> {
  /** The stream's tags, e.g. `["btc", "close"]`. */
  tags: readonly string[];
  /** Time, seconds since the epoch (may be fractional). */
  ts: number;
  /** The value. */
  value: V;
}

/**
 * Records in time order: an array (sorted by time if it is not, stably), a
 * (sync or async) iterable, or a list of those merged by time.
 *
 * @example
 * ```ts
 * import type { Source } from "@qmtl/qmtl/sdk";
 * const s: Source = [{ tags: ["btc"], ts: 0, value: 1 }, { tags: ["btc"], ts: 60, value: 2 }];
 * ```
 */
export type Source =
  | readonly SourceRecord[]
  | Iterable<SourceRecord>
  | AsyncIterable<SourceRecord>
  | readonly (Iterable<SourceRecord> | AsyncIterable<SourceRecord>)[];

/** A bad record in a source: says which and why. */
export class SourceError extends Error {
  /** Zero-based position of the record in its source. */
  readonly index: number;

  /**
   * A source error.
   *
   * @param message what is wrong
   * @param index the record's position
   */
  constructor(message: string, index: number) {
    super(message);
    this.name = "SourceError";
    this.index = index;
  }
}

/**
 * A time bound: seconds since the epoch, a `Date`, or an ISO 8601 string.
 *
 * @example
 * ```ts
 * import type { TimeBound } from "@qmtl/qmtl/sdk";
 * const from: TimeBound = "2024-01-01T00:00:00Z";
 * ```
 */
export type TimeBound = number | Date | string;

/**
 * Seconds since the epoch of a {@link TimeBound}.
 *
 * @param t the bound
 * @param field option name for errors
 * @returns seconds
 * @example
 * ```ts
 * import { toSeconds } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * assert.equal(toSeconds("1970-01-01T00:01:00Z"), 60);
 * assert.equal(toSeconds(new Date(120_000)), 120);
 * ```
 */
export function toSeconds(t: TimeBound, field = "time"): number {
  const s = t instanceof Date
    ? t.getTime() / 1000
    : typeof t === "string"
    ? Date.parse(t) / 1000
    : t;
  if (typeof s !== "number" || !Number.isFinite(s)) {
    throw new TypeError(`${field}: not a time: ${JSON.stringify(String(t))}`);
  }
  return s;
}

function isAsync(x: unknown): x is AsyncIterable<SourceRecord> {
  return x != null &&
    typeof (x as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}

function isIterable(x: unknown): x is Iterable<SourceRecord> {
  return x != null &&
    typeof (x as Iterable<unknown>)[Symbol.iterator] === "function";
}

function isRecordArray(x: unknown): x is readonly SourceRecord[] {
  return Array.isArray(x) &&
    (x.length === 0 || (typeof x[0] === "object" && x[0] !== null &&
      "ts" in x[0]));
}

function sortedByTime(
  records: readonly SourceRecord[],
): readonly SourceRecord[] {
  for (let i = 1; i < records.length; i++) {
    if (records[i].ts < records[i - 1].ts) {
      return records.map((r, k) => [r, k] as const)
        .sort((a, b) => a[0].ts - b[0].ts || a[1] - b[1])
        .map(([r]) => r);
    }
  }
  return records;
}

function check(r: SourceRecord, index: number): SourceRecord {
  if (r === null || typeof r !== "object") {
    throw new SourceError(`record #${index} is not an object`, index);
  }
  if (typeof r.ts !== "number" || !Number.isFinite(r.ts)) {
    throw new SourceError(
      `record #${index}: ts must be a finite number of seconds, got ${
        JSON.stringify(r.ts)
      }`,
      index,
    );
  }
  if (!Array.isArray(r.tags) || r.tags.length === 0) {
    throw new SourceError(
      `record #${index}: tags must be a non-empty array of strings`,
      index,
    );
  }
  return r;
}

async function* one(
  src: Iterable<SourceRecord> | AsyncIterable<SourceRecord>,
): AsyncGenerator<SourceRecord> {
  let i = 0;
  if (isRecordArray(src)) {
    for (const r of sortedByTime(src)) yield check(r, i++);
  } else if (isAsync(src)) {
    for await (const r of src) yield check(r, i++);
  } else {
    for (const r of src) yield check(r, i++);
  }
}

/**
 * The synchronous path of {@link readSource}: for one array or one sync
 * iterable, the same records without an `await` per record; `null` for
 * async or several sources.
 *
 * @param source the source
 * @param bounds optional time bounds (seconds)
 * @returns the records, or `null`
 * @example
 * ```ts
 * import { readSourceSync } from "./sources.ts";
 * import assert from "node:assert/strict";
 * const it = readSourceSync([{ tags: ["a"], ts: 0, value: 1 }], {});
 * assert.deepEqual([...it!].map((r) => r.value), [1]);
 * ```
 */
export function readSourceSync(
  source: Source,
  bounds: { from?: number; to?: number } = {},
): Iterable<SourceRecord> | null {
  if (Array.isArray(source) && !isRecordArray(source)) {
    const list = source as readonly Source[];
    return list.length === 1 ? readSourceSync(list[0], bounds) : null;
  }
  if (isAsync(source) || !isIterable(source)) return null;
  const from = bounds.from ?? -Infinity;
  const to = bounds.to ?? Infinity;
  const records = isRecordArray(source)
    ? sortedByTime(source)
    : source as Iterable<SourceRecord>;
  return (function* () {
    let i = 0;
    for (const r of records) {
      check(r, i++);
      if (r.ts >= to) return;
      if (r.ts >= from) yield r;
    }
  })();
}

/**
 * Iterate a {@link Source} in time order (several sources: merged by time,
 * ties in source order), keeping records with `from ≤ ts < to`.
 *
 * @param source the source
 * @param bounds optional time bounds (seconds)
 * @returns the records
 * @example
 * ```ts
 * import { readSource } from "@qmtl/qmtl/sdk";
 * import assert from "node:assert/strict";
 * const a = [{ tags: ["a"], ts: 0, value: 1 }, { tags: ["a"], ts: 120, value: 3 }];
 * const b = [{ tags: ["b"], ts: 60, value: 2 }];
 * const out = [];
 * for await (const r of readSource([a, b])) out.push(r.value);
 * assert.deepEqual(out, [1, 2, 3]);
 * ```
 */
export async function* readSource(
  source: Source,
  bounds: { from?: number; to?: number } = {},
): AsyncGenerator<SourceRecord> {
  const from = bounds.from ?? -Infinity;
  const to = bounds.to ?? Infinity;
  const list = Array.isArray(source) && !isRecordArray(source)
    ? source as (Iterable<SourceRecord> | AsyncIterable<SourceRecord>)[]
    : [source as Iterable<SourceRecord> | AsyncIterable<SourceRecord>];
  if (!list.every((s) => isAsync(s) || isIterable(s))) {
    throw new TypeError(
      "source must be an array of records, an iterable, an async iterable, or a list of those",
    );
  }
  if (list.length === 1) {
    for await (const r of one(list[0])) {
      if (r.ts >= to) break;
      if (r.ts >= from) yield r;
    }
    return;
  }
  // k-way merge: the head of each source, smallest time first.
  const its = list.map((s) => one(s));
  const heads = await Promise.all(its.map((it) => it.next()));
  while (true) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h.done) continue;
      if (best < 0 || h.value.ts < (heads[best].value as SourceRecord).ts) {
        best = i;
      }
    }
    if (best < 0) return;
    const r = heads[best].value as SourceRecord;
    if (r.ts >= to) {
      await Promise.all(its.map((it) => it.return(undefined)));
      return;
    }
    if (r.ts >= from) yield r;
    heads[best] = await its[best].next();
  }
}
